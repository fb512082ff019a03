/**
 * End to end through the running gateway with the official `openai` package as the client and
 * the fake OpenAI-compatible upstream behind the `custom` provider.
 */
import { assert, assertEquals, assertInstanceOf, assertMatch, assertRejects } from "../assert.ts";
import OpenAI from "openai";
import { startFakeOpenAi } from "../fakes/openai.ts";
import { serveFake } from "../fakes/serve.ts";
import { abortedWithin, readThenAbort, startGateway, waitFor } from "../helpers.ts";

async function setup(extra: Record<string, unknown> = {}) {
  const upstream = await startFakeOpenAi({ keys: ["sk-upstream-key-123456"] });
  const gw = await startGateway({
    "custom-llm": [{
      prefix: "up",
      "base-url": upstream.baseUrl,
      "api-key": ["sk-upstream-key-123456"],
      models: ["gpt-4o-mini", "gpt-4.1"],
    }],
    // With a password, the client's key opens the gateway and the configured key goes upstream.
    server: { password: ["gateway-pass"] },
    ...extra,
  });
  const client = new OpenAI({ baseURL: gw.url, apiKey: "gateway-pass", maxRetries: 0 });
  return {
    upstream,
    gw,
    client,
    async [Symbol.asyncDispose]() {
      await gw.close();
      await upstream.close();
    },
  };
}

Deno.test("models list names every custom model", async () => {
  await using t = await setup();
  const models = [];
  for await (const m of t.client.models.list()) if (m.id.startsWith("up/")) models.push(m);
  assertEquals(models.map((m) => m.id), ["up/gpt-4o-mini", "up/gpt-4.1"]);
  assertEquals(models[0].object, "model");
  assertEquals(models[0].owned_by, "custom:up");
});

Deno.test("plain chat: text, requested model name, usage", async () => {
  await using t = await setup();
  const res = await t.client.chat.completions.create({
    model: "up/gpt-4o-mini",
    messages: [{ role: "system", content: "Be brief." }, { role: "user", content: "ping" }],
    temperature: 0.2,
  });
  assertEquals(res.object, "chat.completion");
  assertEquals(res.model, "up/gpt-4o-mini");
  assertMatch(res.id, /^chatcmpl-[A-Za-z0-9]{29}$/);
  assertEquals(res.choices[0].message.content, "Hello! You said: ping");
  assertEquals(res.choices[0].finish_reason, "stop");
  assert(res.usage!.prompt_tokens > 0 && res.usage!.completion_tokens > 0);
  // The upstream got its own model name, the key from config, and the client's parameters.
  const sent = t.upstream.chatBodies()[0];
  assertEquals(sent.model, "gpt-4o-mini");
  assertEquals(sent.temperature, 0.2);
  assertEquals(
    t.upstream.requests[0].headers.get("authorization"),
    "Bearer sk-upstream-key-123456",
  );
});

Deno.test("streamed chat arrives in pieces and ends with finish and usage", async () => {
  await using t = await setup();
  t.upstream.respond = () => ({ text: "one two three four five", delayMs: 5 });
  const stream = await t.client.chat.completions.create({
    model: "up/gpt-4.1",
    messages: [{ role: "user", content: "count" }],
    stream: true,
    stream_options: { include_usage: true },
  });
  const contents: string[] = [];
  const ids = new Set<string>();
  let finish: string | null = null;
  let usageChunks = 0;
  for await (const chunk of stream) {
    ids.add(chunk.id);
    assertEquals(chunk.model, "up/gpt-4.1");
    if (chunk.choices.length === 0) {
      usageChunks++;
      assert(chunk.usage!.total_tokens > 0);
      continue;
    }
    const c = chunk.choices[0];
    if (c.delta.content) contents.push(c.delta.content);
    if (c.finish_reason) finish = c.finish_reason;
  }
  assertEquals(contents.join(""), "one two three four five");
  assert(contents.length >= 5, `expected several pieces, got ${contents.length}`);
  assertEquals(ids.size, 1);
  assertEquals(finish, "stop");
  assertEquals(usageChunks, 1);
});

Deno.test("streamed tool calls keep stable indexes and reassemble", async () => {
  await using t = await setup();
  t.upstream.respond = () => ({
    toolCalls: [
      { name: "get_weather", arguments: { city: "Paris", unit: "c" } },
      { name: "get_time", arguments: { tz: "Europe/Paris" } },
    ],
  });
  const tools: OpenAI.Chat.ChatCompletionTool[] = [
    {
      type: "function",
      function: {
        name: "get_weather",
        parameters: { type: "object", properties: { city: { type: "string" } } },
      },
    },
    {
      type: "function",
      function: {
        name: "get_time",
        parameters: { type: "object", properties: { tz: { type: "string" } } },
      },
    },
  ];
  const stream = t.client.chat.completions.stream({
    model: "up/gpt-4o-mini",
    messages: [{ role: "user", content: "weather and time in Paris?" }],
    tools,
  });
  const final = await stream.finalChatCompletion();
  const calls = final.choices[0].message.tool_calls!;
  assertEquals(final.choices[0].finish_reason, "tool_calls");
  assertEquals(calls.length, 2);
  assertEquals(calls[0].type, "function");
  if (calls[0].type !== "function" || calls[1].type !== "function") {
    throw new Error("not functions");
  }
  assertEquals(calls[0].function.name, "get_weather");
  assertEquals(JSON.parse(calls[0].function.arguments), { city: "Paris", unit: "c" });
  assertEquals(calls[1].function.name, "get_time");
  assertEquals(JSON.parse(calls[1].function.arguments), { tz: "Europe/Paris" });
  // The native tools went upstream untouched.
  assertEquals((t.upstream.chatBodies()[0].tools as unknown[]).length, 2);

  // The next turn with the tool results passes tool messages through too.
  const second = await t.client.chat.completions.create({
    model: "up/gpt-4o-mini",
    messages: [
      { role: "user", content: "weather and time in Paris?" },
      final.choices[0].message as OpenAI.Chat.ChatCompletionMessageParam,
      { role: "tool", tool_call_id: calls[0].id, content: "18C" },
      { role: "tool", tool_call_id: calls[1].id, content: "10:00" },
    ],
    tools,
  });
  assertEquals(second.choices[0].finish_reason, "tool_calls");
  const sent = t.upstream.chatBodies()[1].messages as {
    role: string;
    tool_call_id?: string;
    tool_calls?: { id: string }[];
  }[];
  assertEquals(sent.map((m) => m.role), ["user", "assistant", "tool", "tool"]);
  assertEquals(sent[2].tool_call_id, calls[0].id);
  // The assistant's calls went back upstream with it, and each result names its call.
  assertEquals(sent[1].tool_calls?.map((c) => c.id), calls.map((c) => c.id));
  assertEquals(sent[3].tool_call_id, calls[1].id);
});

Deno.test("an aborted stream aborts the upstream request", async () => {
  await using t = await setup();
  t.upstream.respond = () => ({ text: "x".repeat(4000), delayMs: 20 });
  const controller = new AbortController();
  const stream = await t.client.chat.completions.create({
    model: "up/gpt-4o-mini",
    messages: [{ role: "user", content: "long" }],
    stream: true,
  }, { signal: controller.signal });
  const n = await readThenAbort(stream, controller);
  assertEquals(n, 3);
  const upstreamReq = t.upstream.requests.find((r) => r.path === "/v1/chat/completions")!;
  // How fast is a benchmark's business (`deno task bench`); here: it happens while the
  // upstream still had most of its 20 s answer to send.
  await abortedWithin(upstreamReq);
  // The server keeps serving.
  t.upstream.respond = (b) => ({ text: `Hello! You said: ${(b.messages.at(-1)!.content)}` });
  const ok = await t.client.chat.completions.create({
    model: "up/gpt-4o-mini",
    messages: [{ role: "user", content: "again" }],
  });
  assertEquals(ok.choices[0].message.content, "Hello! You said: again");
  await waitFor(
    () => t.gw.logs.some((l) => l.includes("client disconnected")),
    2000,
    "disconnect log line",
  );
});

Deno.test("errors surface as the SDK's typed errors", async () => {
  await using t = await setup();
  const err404 = await assertRejects(
    () =>
      t.client.chat.completions.create({
        model: "nope/x",
        messages: [{ role: "user", content: "hi" }],
      }),
    OpenAI.NotFoundError,
  );
  assertEquals(err404.code, "model_not_found");

  await assertRejects(
    () => t.client.chat.completions.create({ model: "up/gpt-4o-mini", messages: [] }),
    OpenAI.BadRequestError,
  );

  t.upstream.respond = () => ({
    error: { status: 500, message: "The server had an error", type: "server_error" },
  });
  const e502 = await assertRejects(
    () =>
      t.client.chat.completions.create({
        model: "up/gpt-4o-mini",
        messages: [{ role: "user", content: "hi" }],
      }),
    OpenAI.InternalServerError,
  );
  assertEquals(e502.status, 502);
  assertMatch(e502.message, /answered 500: The server had an error/);
  t.upstream.respond = () => ({
    error: {
      status: 429,
      message: "Rate limit reached for requests",
      type: "requests",
      code: "rate_limit_exceeded",
    },
  });
  const rate = await assertRejects(
    () =>
      t.client.chat.completions.create({
        model: "up/gpt-4o-mini",
        messages: [{ role: "user", content: "hi" }],
      }),
    OpenAI.RateLimitError,
  );
  assertMatch(rate.message, /Rate limit reached/);

  // The key now rests for the upstream's Retry-After; the pool says so.
  const resting = await assertRejects(
    () =>
      t.client.chat.completions.create({
        model: "up/gpt-4o-mini",
        messages: [{ role: "user", content: "hi" }],
      }),
    OpenAI.RateLimitError,
  );
  assertMatch(resting.message, /cooling down.*ready again in [1-7]s/);
  assertEquals(resting.headers.get("retry-after") !== null, true);
  const retryAfter = Number(resting.headers.get("retry-after"));
  assert(retryAfter >= 1 && retryAfter <= 7, `retry-after ${retryAfter}`);
});

Deno.test("a bad client key reaches the SDK as an authentication error, masked", async () => {
  // No password and no configured key: the client's own key goes upstream.
  await using t = await setup({
    server: {},
    "custom-llm": [{ prefix: "up", "base-url": "http://127.0.0.1:1", models: ["m"] }],
  });
  await t.gw.writeConfig({
    "custom-llm": [{ prefix: "up", "base-url": t.upstream.baseUrl, models: ["gpt-4o-mini"] }],
  });
  await t.gw.store.reload(createQuietLogger());
  const client = new OpenAI({
    baseURL: t.gw.url,
    apiKey: "sk-wrong-key-abcdefghijkl",
    maxRetries: 0,
  });
  const err = await assertRejects(
    () =>
      client.chat.completions.create({
        model: "up/gpt-4o-mini",
        messages: [{ role: "user", content: "hi" }],
      }),
    OpenAI.AuthenticationError,
  );
  assertInstanceOf(err, OpenAI.APIError);
  assert(!err.message.includes("sk-wrong-key-abcdefghijkl"), err.message);
  assert(!t.gw.logs.join("\n").includes("sk-wrong-key-abcdefghijkl"));

  // An upstream that quotes the whole key back (OpenAI itself masks it): the gateway masks it.
  const leaky = await serveFake((req) =>
    new Response(
      JSON.stringify({
        error: {
          message: `Invalid key: ${req.headers.get("authorization")?.slice(7)}`,
          type: "invalid_request_error",
          param: null,
          code: "invalid_api_key",
        },
      }),
      { status: 401, headers: { "content-type": "application/json" } },
    )
  );
  try {
    await t.gw.writeConfig({
      "custom-llm": [{ prefix: "up", "base-url": `${leaky.origin}/v1`, models: ["gpt-4o-mini"] }],
    });
    await t.gw.store.reload(createQuietLogger());
    const quoted = await assertRejects(
      () =>
        client.chat.completions.create({
          model: "up/gpt-4o-mini",
          messages: [{ role: "user", content: "hi" }],
        }),
      OpenAI.AuthenticationError,
    );
    assertEquals(leaky.requests.length, 1);
    assertMatch(quoted.message, /Invalid key: sk-\S*(…|\*\*\*)/);
    assert(!quoted.message.includes("sk-wrong-key-abcdefghijkl"), quoted.message);
    assert(!t.gw.logs.join("\n").includes("sk-wrong-key-abcdefghijkl"));
  } finally {
    await leaky.close();
  }
});

Deno.test("embeddings pass through custom upstreams", async () => {
  await using t = await setup({
    "custom-llm": [],
  });
  await t.gw.writeConfig({
    server: { password: "gateway-pass" },
    "custom-llm": [{
      prefix: "up",
      "base-url": t.upstream.baseUrl,
      "api-key": "sk-upstream-key-123456",
    }],
  });
  await t.gw.store.reload(createQuietLogger());
  const res = await t.client.embeddings.create({
    model: "up/text-embedding-3-small",
    input: ["a", "b"],
    dimensions: 4,
  });
  assertEquals(res.data.length, 2);
  assertEquals(res.data[1].index, 1);
  assertEquals(res.data[0].embedding.length, 4);
  assertEquals(res.model, "up/text-embedding-3-small");
  const sent = t.upstream.requests.find((r) => r.path === "/v1/embeddings")!.json as Record<
    string,
    unknown
  >;
  assertEquals(sent.model, "text-embedding-3-small");
});

import { createLogger } from "../../src/util/log.ts";
function createQuietLogger() {
  return createLogger("silent");
}
