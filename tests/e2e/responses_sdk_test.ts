/**
 * The Responses API end to end with the official `openai` package: `responses.create` and
 * `responses.stream` with function tools, `previous_response_id`, stored responses (retrieve,
 * delete, input items), errors in OpenAI's shape, and the client leaving.
 */
import {
  assert,
  assertEquals,
  assertMatch,
  assertRejects,
  assertStringIncludes,
} from "../assert.ts";
import OpenAI from "openai";
import { startFakeOpenAi } from "../fakes/openai.ts";
import { abortedWithin, readThenAbort, startGateway, waitFor } from "../helpers.ts";

const KEY = "sk-upstream-key-123456";

async function setup(extra: Record<string, unknown> = {}) {
  const upstream = await startFakeOpenAi({ keys: [KEY] });
  const gw = await startGateway({
    "custom-llm": [{
      prefix: "up",
      "base-url": upstream.baseUrl,
      "api-key": [KEY],
      models: ["gpt-4o-mini", "gpt-4.1"],
    }],
    ...extra,
  });
  // A key that is not the upstream's: the configured one must go upstream.
  const client = new OpenAI({ baseURL: gw.url, apiKey: "sk-client-placeholder", maxRetries: 0 });
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

const weather: OpenAI.Responses.FunctionTool = {
  type: "function",
  name: "get_weather",
  description: "Current weather of a city",
  parameters: {
    type: "object",
    properties: { city: { type: "string" } },
    required: ["city"],
    additionalProperties: false,
  },
  strict: true,
};

type Msg = {
  role: string;
  content?: unknown;
  tool_calls?: { id: string }[];
  tool_call_id?: string;
};

Deno.test("responses.create: text, model as sent, ids, usage, echoed request fields", async () => {
  await using t = await setup();
  const res = await t.client.responses.create({
    model: "up/gpt-4o-mini",
    instructions: "Be brief.",
    input: "ping",
    temperature: 0.3,
    max_output_tokens: 50,
    metadata: { run: "1" },
  });
  assertMatch(res.id, /^resp_[0-9a-f]{48}$/);
  assertEquals(res.object, "response");
  assertEquals(res.status, "completed");
  assertEquals(res.model, "up/gpt-4o-mini");
  assertEquals(res.output_text, "Hello! You said: ping");
  assertEquals(res.output.length, 1);
  const msg = res.output[0] as OpenAI.Responses.ResponseOutputMessage;
  assertEquals([msg.type, msg.role, msg.status], ["message", "assistant", "completed"]);
  assertMatch(msg.id, /^msg_/);
  assertEquals(msg.content[0].type, "output_text");
  assertEquals([res.instructions, res.temperature, res.max_output_tokens], ["Be brief.", 0.3, 50]);
  assertEquals(res.metadata, { run: "1" });
  assertEquals([
    res.tool_choice,
    res.parallel_tool_calls,
    (res as unknown as { store: boolean }).store,
  ], ["auto", true, true]);
  assert(res.usage!.input_tokens > 0 && res.usage!.output_tokens > 0);
  assertEquals(res.usage!.total_tokens, res.usage!.input_tokens + res.usage!.output_tokens);
  // Upstream: instructions as the system message, the sampling fields, the configured key.
  const sent = t.upstream.chatBodies()[0];
  assertEquals(sent.messages, [
    { role: "system", content: "Be brief." },
    { role: "user", content: "ping" },
  ]);
  assertEquals([sent.temperature, sent.max_completion_tokens], [0.3, 50]);
  assertEquals(t.upstream.requests[0].headers.get("authorization"), `Bearer ${KEY}`);
});

Deno.test("responses.stream with a function tool, then previous_response_id with its output", async () => {
  await using t = await setup();
  t.upstream.respond = (body) =>
    body.messages.at(-1)?.role === "tool"
      ? { text: "It is 18C in Paris." }
      : { text: "Checking.", toolCalls: [{ name: "get_weather", arguments: { city: "Paris" } }] };
  const stream = t.client.responses.stream({
    model: "up/gpt-4.1",
    input: [{ role: "user", content: "Weather in Paris?" }],
    tools: [weather, { type: "web_search" }],
  });
  const types: string[] = [];
  const seqs: number[] = [];
  for await (const ev of stream) {
    types.push(ev.type);
    seqs.push(ev.sequence_number);
  }
  const first = await stream.finalResponse();
  assertEquals(types.slice(0, 2), ["response.created", "response.in_progress"]);
  assertEquals(types.at(-1), "response.completed");
  assert(types.includes("response.function_call_arguments.delta"));
  assert(seqs.every((s, i) => s === i), `sequence numbers ${seqs}`);
  assertEquals(first.output.map((o) => o.type), ["message", "function_call"]);
  const call = first.output[1] as OpenAI.Responses.ResponseFunctionToolCall;
  assertEquals([call.name, JSON.parse(call.arguments)], ["get_weather", { city: "Paris" }]);
  assertMatch(call.call_id, /^call_/);
  assertMatch(call.id!, /^fc_/);
  // The hosted tool was left out upstream (and logged); the function went as a chat tool.
  const sent1 = t.upstream.chatBodies()[0];
  assertEquals(
    (sent1.tools as { function: { name: string; strict?: boolean } }[]).map((x) => [
      x.function.name,
      x.function.strict,
    ]),
    [["get_weather", true]],
  );
  assertStringIncludes(t.gw.logs.join("\n"), "hosted tools left out");

  const second = await t.client.responses.create({
    model: "up/gpt-4.1",
    previous_response_id: first.id,
    input: [{ type: "function_call_output", call_id: call.call_id, output: "18C" }],
    tools: [weather],
  });
  assertEquals(second.output_text, "It is 18C in Paris.");
  assertEquals(second.previous_response_id, first.id);
  const msgs = t.upstream.chatBodies()[1].messages as Msg[];
  assertEquals(msgs.map((m) => m.role), ["user", "assistant", "tool"]);
  assertEquals(msgs[1].content, "Checking.");
  assertEquals(msgs[1].tool_calls!.map((c) => c.id), [call.call_id]);
  assertEquals(msgs[2].tool_call_id, call.call_id);

  // The stored conversation: the response, its input items (newest first), then deleted.
  const got = await t.client.responses.retrieve(second.id);
  assertEquals(got.output_text, "It is 18C in Paris.");
  const items = [];
  for await (const item of t.client.responses.inputItems.list(second.id)) items.push(item);
  assertEquals(items.map((i) => i.type), [
    "function_call_output",
    "function_call",
    "message",
    "message",
  ]);
  const asc = await t.client.responses.inputItems.list(second.id, { order: "asc", limit: 2 });
  assertEquals(asc.data.map((i) => i.type), ["message", "message"]);
  assertEquals(asc.has_more, true);
  await t.client.responses.delete(second.id);
  await assertRejects(() => t.client.responses.retrieve(second.id), OpenAI.NotFoundError);
});

Deno.test("previous_response_id: unknown is a 404, store: false a 400, never a fresh start", async () => {
  await using t = await setup();
  const unknown = await assertRejects(
    () =>
      t.client.responses.create({
        model: "up/gpt-4o-mini",
        previous_response_id: "resp_nope",
        input: "hi",
      }),
    OpenAI.NotFoundError,
  );
  assertEquals((unknown.error as { param?: string }).param, "previous_response_id");
  const unsaved = await t.client.responses.create({
    model: "up/gpt-4o-mini",
    input: "hi",
    store: false,
  });
  assertEquals((unsaved as unknown as { store: boolean }).store, false);
  const err = await assertRejects(
    () =>
      t.client.responses.create({
        model: "up/gpt-4o-mini",
        previous_response_id: unsaved.id,
        input: "again",
      }),
    OpenAI.BadRequestError,
  );
  assertStringIncludes(err.message, "store: false");
  await assertRejects(() => t.client.responses.retrieve(unsaved.id), OpenAI.NotFoundError);
  assertEquals(t.upstream.chatBodies().length, 1);
});

Deno.test("bad requests are 400s naming the field; an unknown model a 404", async () => {
  await using t = await setup();
  const post = (body: unknown, path = "/responses") =>
    fetch(`${t.gw.url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  const cases: [unknown, number, string | null][] = [
    [{ model: "up/gpt-4o-mini", input: 5 }, 400, "input"],
    [
      { model: "up/gpt-4o-mini", input: [{ type: "function_call", name: "x" }] },
      400,
      "input[0].call_id",
    ],
    [{ model: "up/gpt-4o-mini", input: "x", temperature: 3 }, 400, "temperature"],
    [{ model: "up/gpt-4o-mini", input: "x", background: true }, 400, "background"],
    [
      {
        model: "up/gpt-4o-mini",
        input: "x",
        tools: [{ type: "web_search" }],
        tool_choice: {
          type: "web_search",
        },
      },
      400,
      "tool_choice",
    ],
    [{ model: "up/gpt-4o-mini" }, 400, "input"],
    [{ model: "nope/model", input: "x" }, 404, "model"],
  ];
  for (const [body, status, param] of cases) {
    const res = await post(body);
    const err = (await res.json()).error;
    assertEquals(res.status, status, JSON.stringify(body));
    assert(err.param?.startsWith(param), `${JSON.stringify(body)}: ${JSON.stringify(err)}`);
    assertEquals(typeof err.message, "string");
  }
  assertEquals(t.upstream.chatBodies().length, 0);
  const wrongMethod = await fetch(`${t.gw.url}/responses`);
  assertEquals(wrongMethod.status, 405);
  await wrongMethod.body?.cancel();
  // OpenAI's compaction endpoint is not served: an unknown route, not a 405.
  const compact = await post({ model: "up/gpt-4o-mini", input: "x" }, "/responses/compact");
  assertEquals(compact.status, 404);
  assertEquals((await compact.json()).error.code, "unknown_url");
});

Deno.test("text.format json_schema and reasoning.effort reach the upstream", async () => {
  await using t = await setup();
  t.upstream.respond = () => ({ text: '{"city":"Paris"}' });
  const res = await t.client.responses.create({
    model: "up/gpt-4o-mini",
    input: "A city?",
    reasoning: { effort: "low" },
    text: {
      format: {
        type: "json_schema",
        name: "city",
        schema: { type: "object", properties: { city: { type: "string" } } },
        strict: true,
      },
    },
  });
  assertEquals(JSON.parse(res.output_text), { city: "Paris" });
  const sent = t.upstream.chatBodies()[0];
  assertEquals(sent.response_format, {
    type: "json_schema",
    json_schema: {
      name: "city",
      schema: { type: "object", properties: { city: { type: "string" } } },
      strict: true,
    },
  });
  assertEquals(sent.reasoning_effort, "low");
});

Deno.test("a length finish is incomplete; an upstream failure mid-stream is error + failed", async () => {
  await using t = await setup();
  t.upstream.respond = () => ({ text: "cut sho", finish: "length" });
  const cut = await t.client.responses.create({ model: "up/gpt-4o-mini", input: "x" });
  assertEquals(cut.status, "incomplete");
  assertEquals(cut.incomplete_details, { reason: "max_output_tokens" });
  assertEquals((cut.output[0] as { status: string }).status, "incomplete");

  t.upstream.respond = () => ({ text: "partial answer", streamError: "the model crashed" });
  const types: string[] = [];
  const stream = await t.client.responses.create({
    model: "up/gpt-4o-mini",
    input: "x",
    stream: true,
  });
  let failed: OpenAI.Responses.Response | undefined;
  for await (const ev of stream) {
    types.push(ev.type);
    if (ev.type === "response.failed") failed = ev.response;
  }
  assertEquals(types.slice(-3), ["response.output_item.done", "error", "response.failed"]);
  assertEquals(failed!.status, "failed");
  assertStringIncludes(failed!.error!.message, "the model crashed");
});

Deno.test("a client leaving a Responses stream aborts the upstream request", async () => {
  await using t = await setup();
  t.upstream.respond = () => ({ text: "x".repeat(4000), delayMs: 20 });
  const controller = new AbortController();
  const stream = await t.client.responses.create({
    model: "up/gpt-4o-mini",
    input: "long",
    stream: true,
  }, { signal: controller.signal });
  const n = await readThenAbort(stream, controller, (_ev, n) => n === 6);
  assertEquals(n, 6);
  await abortedWithin(t.upstream.requests.find((r) => r.path === "/v1/chat/completions")!);
  await waitFor(() => t.gw.logs.some((l) => l.includes("client disconnected")), 2000, "log");
  const ok = await t.client.responses.create({ model: "up/gpt-4o-mini", input: "again" });
  assertEquals(ok.output_text, "x".repeat(4000));
});

Deno.test("custom-llm: a client key never replaces the configured api-key (chat too)", async () => {
  await using t = await setup();
  const chat = await t.client.chat.completions.create({
    model: "up/gpt-4o-mini",
    messages: [{ role: "user", content: "hi" }],
  });
  assertEquals(chat.choices[0].message.content, "Hello! You said: hi");
  assertEquals(t.upstream.requests.at(-1)!.headers.get("authorization"), `Bearer ${KEY}`);
});
