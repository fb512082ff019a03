/**
 * Bad input and failing upstreams: each gets a clear OpenAI error with an honest status, a log
 * line, and the server keeps serving.
 */
import { assert, assertEquals, assertMatch } from "../assert.ts";
import { startFakeOpenAi } from "../fakes/openai.ts";
import { serveFake } from "../fakes/serve.ts";
import { abortedWithin, parseSseBody, startGateway, waitFor } from "../helpers.ts";
import { createLogger } from "../../src/util/log.ts";

async function setup(config: Record<string, unknown> = {}) {
  const upstream = await startFakeOpenAi();
  const gw = await startGateway({
    "custom-llm": [{ prefix: "up", "base-url": upstream.baseUrl, models: ["gpt-4o-mini"] }],
    ...config,
  });
  const post = (body: unknown, path = "/v1/chat/completions", headers: HeadersInit = {}) =>
    fetch(gw.origin + path, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
  const stillServing = async () => {
    const res = await post({
      model: "up/gpt-4o-mini",
      messages: [{ role: "user", content: "alive?" }],
    });
    assertEquals(res.status, 200);
    assertEquals((await res.json()).choices[0].message.content, "Hello! You said: alive?");
  };
  return {
    upstream,
    gw,
    post,
    stillServing,
    async [Symbol.asyncDispose]() {
      await gw.close();
      await upstream.close();
    },
  };
}

async function expectError(res: Response, status: number, message: RegExp, param?: string | null) {
  assertEquals(res.status, status);
  assertEquals(res.headers.get("content-type"), "application/json");
  const body = await res.json();
  assertEquals(Object.keys(body.error).sort(), ["code", "message", "param", "type"]);
  assertMatch(body.error.message, message);
  if (param !== undefined) assertEquals(body.error.param, param);
  return body.error;
}

Deno.test("malformed JSON, empty body, non-object body", async () => {
  await using t = await setup();
  await expectError(await t.post("{not json"), 400, /not valid JSON/);
  await expectError(await t.post(""), 400, /body is empty/);
  await expectError(await t.post("[1,2]"), 400, /must be a JSON object/);
  await t.stillServing();
});

Deno.test("wrong types, empty messages, unknown roles name the field", async () => {
  await using t = await setup();
  await expectError(
    await t.post({
      model: "up/gpt-4o-mini",
      messages: [{ role: "user", content: "x" }],
      temperature: "hot",
    }),
    400,
    /'temperature'/,
    "temperature",
  );
  await expectError(
    await t.post({ model: "up/gpt-4o-mini", messages: [] }),
    400,
    /at least one message/,
    "messages",
  );
  await expectError(
    await t.post({ model: "up/gpt-4o-mini", messages: [{ role: "wizard", content: "x" }] }),
    400,
    /messages\[0\]\.role/,
    "messages[0].role",
  );
  await expectError(
    await t.post({ messages: [{ role: "user", content: "x" }] }),
    400,
    /'model'/,
    "model",
  );
  await expectError(
    await t.post({
      model: "up/gpt-4o-mini",
      messages: [{ role: "user", content: [{ type: "image_url" }] }],
    }),
    400,
    /messages\[0\]\.content/,
  );
  await expectError(
    await t.post({
      model: "up/gpt-4o-mini",
      messages: [{ role: "user", content: "x" }],
      tools: [{ type: "function", function: { name: "bad name!" } }],
    }),
    400,
    /tools\[0\]\.function\.name/,
  );
  await t.stillServing();
  // Each refusal has its access-log line with the status.
  assert(t.gw.logs.filter((l) => / POST \/v1\/chat\/completions.* 400 \d+ms/.test(l)).length >= 6);
});

Deno.test("unknown model is a 404 naming it", async () => {
  await using t = await setup();
  const e = await expectError(
    await t.post({ model: "gpt-99", messages: [{ role: "user", content: "x" }] }),
    404,
    /'gpt-99' does not exist/,
  );
  assertEquals(e.code, "model_not_found");
  await t.stillServing();
});

Deno.test("unknown fields are kept and passed upstream", async () => {
  await using t = await setup();
  const res = await t.post({
    model: "up/gpt-4o-mini",
    messages: [{ role: "user", content: "x", custom_part: 1 }],
    logit_bias: { "50256": -100 },
    metadata: { trace: "abc" },
    max_completion_tokens: 50,
    seed: 7,
    user: "u-1",
  });
  assertEquals(res.status, 200);
  await res.body?.cancel();
  const sent = t.upstream.chatBodies()[0] as Record<string, unknown>;
  assertEquals(sent.logit_bias, { "50256": -100 });
  assertEquals(sent.metadata, { trace: "abc" });
  assertEquals([sent.max_completion_tokens, sent.seed, sent.user], [50, 7, "u-1"]);
  assertEquals((sent.messages as Record<string, unknown>[])[0].custom_part, 1);
});

Deno.test("an unreachable upstream is a 502 that names the host", async () => {
  await using t = await setup();
  // A port nobody listens on.
  const closed = await serveFake(() => new Response("x"));
  await closed.close();
  await t.gw.writeConfig({
    "custom-llm": [{ prefix: "gone", "base-url": `${closed.origin}/v1`, models: ["m"] }],
  });
  await t.gw.store.reload(createLogger("silent"));
  await expectError(
    await t.post({ model: "gone/m", messages: [{ role: "user", content: "x" }] }),
    502,
    new RegExp(`cannot reach 127\\.0\\.0\\.1:${closed.port}`),
  );
});

Deno.test("an upstream answering HTML or garbage is a 502 quoting it", async () => {
  await using t = await setup();
  t.upstream.respond = () => ({
    raw: {
      status: 200,
      body: "<html><body>Just a moment...</body></html>",
      contentType: "text/html",
    },
  });
  await expectError(
    await t.post({ model: "up/gpt-4o-mini", messages: [{ role: "user", content: "x" }] }),
    502,
    /expected text\/event-stream but got text\/html \(status 200\): <html><body>Just a moment/,
  );
  t.upstream.respond = () => ({
    raw: { status: 503, body: "<html>Service Unavailable</html>", contentType: "text/html" },
  });
  await expectError(
    await t.post({ model: "up/gpt-4o-mini", messages: [{ role: "user", content: "x" }] }),
    502,
    /answered 503: <html>Service Unavailable/,
  );
  t.upstream.respond = () => ({
    raw: { status: 200, body: "data: {oops\n\n", contentType: "text/event-stream" },
  });
  await expectError(
    await t.post({ model: "up/gpt-4o-mini", messages: [{ role: "user", content: "x" }] }),
    502,
    /stream event is not JSON: \{oops/,
  );
  t.upstream.respond = (b) => ({ text: `Hello! You said: ${b.messages.at(-1)!.content}` });
  await t.stillServing();
});

Deno.test("an upstream that hangs is a 504 after the configured timeout", async () => {
  await using t = await setup({
    server: { timeouts: { connect: 0.3, "first-byte": 0.3, idle: 0.3 } },
  });
  t.upstream.respond = () => ({ hang: true });
  const started = Date.now();
  await expectError(
    await t.post({ model: "up/gpt-4o-mini", messages: [{ role: "user", content: "x" }] }),
    504,
    /timed out: no response from 127\.0\.0\.1:\d+ within 0\.3s/,
  );
  assert(Date.now() - started < 5000);
  await abortedWithin(t.upstream.requests.at(-1)!);
  // Silent in the middle of a stream: an SSE error event and [DONE].
  t.upstream.respond = () => ({ text: "abcdefgh", stallAfter: 2 });
  const res = await t.post({
    model: "up/gpt-4o-mini",
    messages: [{ role: "user", content: "x" }],
    stream: true,
  });
  assertEquals(res.status, 200);
  const { events, done } = parseSseBody<{ error?: { message: string; type: string } }>(
    await res.text(),
  );
  assert(done);
  assertMatch(events.at(-1)!.error!.message, /went silent/);
  assertEquals(events.at(-1)!.error!.type, "timeout_error");
  t.upstream.respond = (b) => ({ text: `Hello! You said: ${b.messages.at(-1)!.content}` });
  await t.stillServing();
});

Deno.test("an error object inside the upstream stream becomes the client's error event", async () => {
  await using t = await setup();
  t.upstream.respond = () => ({
    text: "partial answer",
    streamError: "The server had an error while processing your request.",
  });
  const res = await t.post({
    model: "up/gpt-4o-mini",
    messages: [{ role: "user", content: "x" }],
    stream: true,
  });
  const { events, done } = parseSseBody<
    { error?: { message: string }; choices?: { delta: { content?: string } }[] }
  >(await res.text());
  assert(done);
  assertEquals(
    events.filter((e) => e.choices).map((e) => e.choices![0].delta.content ?? "").join(""),
    "partial answer",
  );
  assertMatch(events.at(-1)!.error!.message, /upstream error in stream: The server had an error/);
});

Deno.test("a client that disconnects mid-stream: upstream aborted, server keeps serving", async () => {
  await using t = await setup();
  // Long enough (50 s) to be still running whenever the gateway notices the client left.
  t.upstream.respond = () => ({ text: "y".repeat(20000), delayMs: 10 });
  const res = await t.post({
    model: "up/gpt-4o-mini",
    messages: [{ role: "user", content: "x" }],
    stream: true,
  });
  const reader = res.body!.getReader();
  await reader.read();
  await reader.cancel();
  const rec = t.upstream.requests.at(-1)!;
  await abortedWithin(rec);
  assertEquals(rec.wasAborted, true);
  await waitFor(
    () =>
      t.gw.logs.some((l) =>
        /POST \/v1\/chat\/completions model=up\/gpt-4o-mini 200 \d+ms client disconnected/.test(l)
      ),
    3000,
    "log",
  );
  t.upstream.respond = (b) => ({ text: `Hello! You said: ${b.messages.at(-1)!.content}` });
  await t.stillServing();
});

Deno.test("a body over the limit is refused with 413", async () => {
  await using t = await setup();
  const big = JSON.stringify({
    model: "up/gpt-4o-mini",
    messages: [{ role: "user", content: "x".repeat(21 * 1024 * 1024) }],
  });
  const e = await expectError(await t.post(big), 413, /limit is 20 MiB/);
  assertEquals(e.code, "request_too_large");
  // Without a content-length (chunked), the limit still holds.
  const chunked = new ReadableStream<Uint8Array>({
    start(c) {
      const piece = new TextEncoder().encode("x".repeat(1024 * 1024));
      c.enqueue(
        new TextEncoder().encode(
          '{"model":"up/gpt-4o-mini","messages":[{"role":"user","content":"',
        ),
      );
      for (let i = 0; i < 21; i++) c.enqueue(piece);
      c.enqueue(new TextEncoder().encode('"}]}'));
      c.close();
    },
  });
  await expectError(
    await fetch(t.gw.origin + "/v1/chat/completions", {
      method: "POST",
      body: chunked,
      headers: { "content-type": "application/json" },
    }),
    413,
    /limit/,
  );
  await t.stillServing();
});
