/**
 * `POST /v1/messages` on the wire: the SSE event grammar byte by byte, pings, errors before and
 * after the stream started, stop reasons, and every error in Anthropic's shape, also the ones made
 * before the handler (password gate, body limit, bad JSON, unknown routes under `/anthropic/`).
 * Bad input gets a 400 naming the field; the server keeps serving.
 */
import { assert, assertEquals, assertMatch } from "../assert.ts";
import { startFakeOpenAi } from "../fakes/openai.ts";
import { startGateway } from "../helpers.ts";

const FIXTURE = new URL("../fixtures/claude_code/messages_request.json", import.meta.url);

async function setup(config: Record<string, unknown> = {}) {
  const upstream = await startFakeOpenAi();
  const gw = await startGateway({
    "custom-llm": [{ prefix: "up", "base-url": upstream.baseUrl, models: ["gpt-4o-mini"] }],
    ...config,
  });
  const post = (body: unknown, path = "/v1/messages", headers: HeadersInit = {}) =>
    fetch(gw.origin + path, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "anthropic-version": "2023-06-01",
        ...headers,
      },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
  return {
    upstream,
    gw,
    post,
    async [Symbol.asyncDispose]() {
      await gw.close();
      await upstream.close();
    },
  };
}

const BASE = { model: "up/gpt-4o-mini", max_tokens: 100 };
const HI = { ...BASE, messages: [{ role: "user", content: "hi" }] };

/** The events of an Anthropic SSE body; every one must have `event:` and a `data:` of that type. */
function events(text: string): { event: string; data: Record<string, unknown> }[] {
  const out: { event: string; data: Record<string, unknown> }[] = [];
  assert(text.endsWith("\n\n"), "the stream ends with a complete event");
  for (const block of text.split("\n\n")) {
    if (block === "") continue;
    const lines = block.split("\n");
    assertEquals(lines.length, 2, block);
    assert(lines[0].startsWith("event: ") && lines[1].startsWith("data: "), block);
    const event = lines[0].slice(7);
    const data = JSON.parse(lines[1].slice(6));
    assertEquals(data.type, event, block);
    out.push({ event, data });
  }
  return out;
}

async function expectError(res: Response, status: number, type: string, message?: RegExp) {
  assertEquals(res.status, status);
  assertEquals(res.headers.get("content-type"), "application/json");
  const body = await res.json();
  assertEquals(Object.keys(body).sort(), ["error", "request_id", "type"]);
  assertEquals(body.type, "error");
  assertEquals(Object.keys(body.error).sort(), ["message", "type"]);
  assertEquals(body.error.type, type);
  if (message) assertMatch(body.error.message, message);
  return body.error as { type: string; message: string };
}

Deno.test("stream: message_start, one block per kind in order, message_delta, message_stop", async () => {
  await using t = await setup();
  t.upstream.respond = () => ({
    reasoning: "Let me think.",
    text: "Sure.",
    toolCalls: [{ name: "f", arguments: { a: 1 } }, { name: "f", arguments: { a: 2 } }],
  });
  const res = await t.post(
    {
      ...HI,
      stream: true,
      tools: [{ name: "f", input_schema: { type: "object" } }],
    },
    "/v1/messages?beta=true",
    { "anthropic-beta": "made-up-beta-2099-01-01" },
  );
  assertEquals(res.status, 200);
  assertEquals(res.headers.get("content-type"), "text/event-stream; charset=utf-8");
  assertEquals(res.headers.get("x-accel-buffering"), "no");
  const evs = events(await res.text());
  const start = evs[0].data.message as Record<string, unknown>;
  assertEquals(evs[0].event, "message_start");
  assertMatch(String(start.id), /^msg_01/);
  assertEquals([start.type, start.role, start.model, start.content], [
    "message",
    "assistant",
    "up/gpt-4o-mini",
    [],
  ]);
  assert((start.usage as { input_tokens: number }).input_tokens > 0);
  const blocks = evs.filter((e) => e.event === "content_block_start").map((e) =>
    (e.data.content_block as { type: string }).type
  );
  assertEquals(blocks, ["thinking", "text", "tool_use", "tool_use"]);
  // Indexes: each block starts, gets its deltas and stops before the next one starts.
  let open = -1;
  let next = 0;
  for (const e of evs.slice(1, -2)) {
    const index = e.data.index as number;
    if (e.event === "content_block_start") {
      assertEquals([open, index], [-1, next++]);
      open = index;
    } else if (e.event === "content_block_stop") {
      assertEquals(index, open);
      open = -1;
    } else assertEquals([e.event, index], ["content_block_delta", open]);
  }
  assertEquals(evs.at(-2)!.event, "message_delta");
  assertEquals(evs.at(-2)!.data.delta, { stop_reason: "tool_use", stop_sequence: null });
  assert((evs.at(-2)!.data.usage as { output_tokens: number }).output_tokens > 0);
  assertEquals(evs.at(-1)!.event, "message_stop");
  const json = evs.filter((e) => (e.data.delta as { type?: string })?.type === "input_json_delta")
    .map((e) => (e.data.delta as { partial_json: string }).partial_json);
  assertEquals(json.join(""), '{"a":1}{"a":2}');
});

Deno.test("non-stream: one message with every block, stop_reason and usage", async () => {
  await using t = await setup();
  t.upstream.respond = () => ({
    reasoning: "Hm.",
    text: "Calling.",
    toolCalls: [{ name: "f", arguments: '{"x":[1]}' }],
  });
  const res = await t.post({ ...HI, tools: [{ name: "f", input_schema: { type: "object" } }] });
  assertEquals(res.status, 200);
  const body = await res.json();
  assertEquals(body.content.map((b: { type: string }) => b.type), ["thinking", "text", "tool_use"]);
  assertEquals(body.content[0], { type: "thinking", thinking: "Hm.", signature: "" });
  assertEquals(body.content[2].input, { x: [1] });
  assertMatch(body.content[2].id, /^toolu_fake1x0$/);
  assertEquals([body.stop_reason, body.stop_sequence], ["tool_use", null]);
  assertEquals(Object.keys(body.usage).sort(), [
    "cache_creation_input_tokens",
    "cache_read_input_tokens",
    "input_tokens",
    "output_tokens",
  ]);
});

Deno.test("stop_sequences: the text ends before the sequence, stop_reason names it", async () => {
  await using t = await setup();
  t.upstream.respond = () => ({ text: "one two STOP three" });
  const body = await (await t.post({ ...HI, stop_sequences: ["STOP"] })).json();
  assertEquals(body.content, [{ type: "text", text: "one two " }]);
  assertEquals([body.stop_reason, body.stop_sequence], ["stop_sequence", "STOP"]);
  t.upstream.respond = () => ({ text: "cut", finish: "length" });
  const cut = await (await t.post({ ...HI, stream: true })).text();
  assertMatch(cut, /"stop_reason":"max_tokens"/);
});

Deno.test("pings while the upstream is silent, before and after the first event", async () => {
  await using t = await setup({ server: { "keep-alive": 0.05 } });
  t.upstream.respond = () => ({ text: "slow answer", pieceSize: 5, delayMs: 250 });
  const res = await t.post({ ...HI, stream: true });
  const evs = events(await res.text());
  assertEquals(evs[0].event, "message_start");
  const pings = evs.filter((e) => e.event === "ping");
  assert(pings.length >= 2, `${pings.length} pings`);
  assertEquals(evs.at(-1)!.event, "message_stop");
  const text = evs.filter((e) => e.event === "content_block_delta").map((e) =>
    (e.data.delta as { text: string }).text
  ).join("");
  assertEquals(text, "slow answer");
});

Deno.test("an upstream failure after the start is an error event; before it an error response", async () => {
  await using t = await setup();
  t.upstream.respond = () => ({ text: "partial", streamError: "The server had an error" });
  const evs = events(await (await t.post({ ...HI, stream: true })).text());
  const last = evs.at(-1)!;
  assertEquals(last.event, "error");
  assertEquals((last.data.error as { type: string }).type, "api_error");
  assertEquals(evs.some((e) => e.event === "message_stop"), false);

  t.upstream.respond = () => ({ error: { status: 500, message: "boom" } });
  await expectError(await t.post({ ...HI, stream: true }), 502, "api_error", /boom/);
  t.upstream.respond = () => ({ error: { status: 403, message: "Not allowed" } });
  await expectError(await t.post(HI), 403, "permission_error");
  t.upstream.respond = () => ({ error: { status: 401, message: "Bad key" } });
  await expectError(await t.post(HI), 401, "authentication_error");
  t.upstream.respond = () => ({ error: { status: 529, message: "Overloaded" } });
  await expectError(await t.post(HI), 529, "overloaded_error");
  t.upstream.respond = () => ({ error: { status: 429, message: "slow down" } });
  const limited = await t.post(HI);
  assertEquals(limited.headers.get("retry-after"), "7");
  await expectError(limited, 429, "rate_limit_error");
});

Deno.test("errors before the handler are in Anthropic's shape on its routes, OpenAI's elsewhere", async () => {
  await using t = await setup({ server: { password: ["pw-0123456789"], "body-limit": 0.01 } });
  const auth = { "x-api-key": "pw-0123456789" };
  await expectError(await t.post(HI), 401, "authentication_error");
  await expectError(
    await t.post(HI, "/anthropic/v1/messages", { "x-api-key": "bad" }),
    401,
    "authentication_error",
  );
  await expectError(await t.post(HI, "/v1/messages/count_tokens"), 401, "authentication_error");
  await expectError(
    await t.post("{oops", "/v1/messages", auth),
    400,
    "invalid_request_error",
    /not valid JSON/,
  );
  await expectError(
    await t.post(
      { ...HI, messages: [{ role: "user", content: "x".repeat(20_000) }] },
      "/v1/messages",
      auth,
    ),
    413,
    "request_too_large",
  );
  await expectError(await t.post(HI, "/anthropic/v1/nothing", auth), 404, "not_found_error");
  const get = await fetch(`${t.gw.origin}/v1/messages`, { headers: auth });
  assertEquals(get.headers.get("allow"), "POST");
  await expectError(get, 405, "invalid_request_error");
  // Chat Completions keeps OpenAI's shape.
  const chat = await t.post({ model: "up/gpt-4o-mini", messages: [] }, "/v1/chat/completions");
  assertEquals(chat.status, 401);
  assertEquals(Object.keys((await chat.json()).error).sort(), ["code", "message", "param", "type"]);
  // Bearer works as well as x-api-key.
  const ok = await t.post(HI, "/v1/messages", { authorization: "Bearer pw-0123456789" });
  assertEquals(ok.status, 200);
  await ok.body?.cancel();
});

Deno.test("bad input: a 400 naming the field, an unknown model a 404; the server keeps serving", async () => {
  await using t = await setup();
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ model: "up/gpt-4o-mini", messages: [{ role: "user", content: "x" }] }, /'max_tokens'/],
    [{ ...BASE, messages: [] }, /'messages'/],
    [{ ...BASE, messages: [{ role: "bot", content: "x" }] }, /'messages\[0\]\.role'/],
    [{ ...BASE, messages: [{ role: "user", content: 5 }] }, /'messages\[0\]\.content'/],
    [
      { ...BASE, messages: [{ role: "user", content: [{ type: "text" }] }] },
      /'messages\[0\]\.content\[0\]\.text'/,
    ],
    [{ ...HI, max_tokens: 0 }, /'max_tokens'/],
    [{ ...HI, temperature: 3 }, /'temperature'/],
    [{ ...HI, stop_sequences: "END" }, /'stop_sequences'/],
    [{ ...HI, tools: [{ name: "f" }] }, /'tools\[0\]\.input_schema'/],
    [{ ...HI, tools: [{ name: "bad name", input_schema: {} }] }, /'tools\[0\]\.name'/],
    [{ ...HI, tool_choice: { type: "sometimes" } }, /'tool_choice/],
    [
      { ...HI, tools: [{ name: "f", input_schema: {} }], tool_choice: { type: "tool", name: "g" } },
      /'tool_choice\.name'/,
    ],
    [{ ...HI, thinking: { type: "enabled" } }, /'thinking\.budget_tokens'/],
    [{ ...HI, system: 42 }, /'system'/],
  ];
  for (const [body, message] of cases) {
    await expectError(await t.post(body), 400, "invalid_request_error", message);
  }
  await expectError(
    await t.post({ ...HI, model: "nope/none" }),
    404,
    "not_found_error",
    /nope\/none/,
  );
  await expectError(
    await t.post({ model: "nope/none", messages: HI.messages }, "/v1/messages/count_tokens"),
    404,
    "not_found_error",
  );
  assertEquals(t.upstream.requests.length, 0);
  const res = await t.post(HI);
  assertEquals((await res.json()).content, [{ type: "text", text: "Hello! You said: hi" }]);
});

Deno.test("a message thread to continue is Anthropic's 404 thread_not_found; a new one is answered", async () => {
  await using t = await setup();
  const res = await t.post({
    ...HI,
    thread: { type: "continue", previous_message_id: "msg_01abc" },
  });
  assertEquals(res.status, 404);
  const body = await res.json();
  assertEquals(body.error.type, "not_found_error");
  assertEquals(body.error.details, { error_code: "thread_not_found" });
  assertEquals(t.upstream.requests.length, 0);
  const created = await t.post({ ...HI, thread: { type: "create" } });
  assertEquals(created.status, 200);
  assertEquals((await created.json()).content[0].text, "Hello! You said: hi");
});

Deno.test("what cannot be honoured is ignored: server tools, unknown blocks, betas, cache_control", async () => {
  await using t = await setup();
  const res = await t.post(
    {
      ...BASE,
      metadata: { user_id: "someone" },
      context_management: { edits: [{ type: "clear_thinking_20251015", keep: "all" }] },
      output_config: { effort: "high" },
      thinking: { type: "adaptive", display: "omitted" },
      container: "c1",
      tools: [
        { type: "web_search_20250305", name: "web_search", max_uses: 2 },
        { name: "f", input_schema: { type: "object" }, cache_control: { type: "ephemeral" } },
      ],
      messages: [{
        role: "user",
        content: [
          { type: "text", text: "hi", cache_control: { type: "ephemeral", ttl: "1h" } },
          { type: "brand_new_block", payload: 1 },
        ],
      }],
    },
    "/anthropic/v1/messages?beta=true",
    { "anthropic-beta": "context-management-2025-06-27,nonsense" },
  );
  assertEquals(res.status, 200);
  assertEquals((await res.json()).content, [{ type: "text", text: "Hello! You said: hi" }]);
  const sent = t.upstream.chatBodies()[0] as { tools: { function: { name: string } }[] };
  assertEquals(sent.tools.map((x) => x.function.name), ["f"]);
  assert(
    t.gw.logs.some((l) => l.includes("tools left out") && l.includes("web_search")),
    t.gw.logs.join("\n"),
  );
  assert(t.gw.logs.some((l) => l.includes("content blocks left out: brand_new_block")));
});

Deno.test("Claude Code's real request is accepted and reaches the upstream translated", async () => {
  await using t = await setup();
  const body = JSON.parse(await Deno.readTextFile(FIXTURE));
  body.model = "up/gpt-4o-mini";
  const res = await t.post(body, "/v1/messages?beta=true", {
    "anthropic-beta":
      "claude-code-20250219,interleaved-thinking-2025-05-14,context-management-2025-06-27",
    "x-api-key": "any-key",
  });
  assertEquals(res.status, 200);
  const evs = events(await res.text());
  assertEquals(evs.at(-1)!.event, "message_stop");
  const sent = t.upstream.chatBodies()[0] as {
    messages: { role: string; content: string }[];
    tools: { function: { name: string } }[];
    reasoning?: unknown;
    reasoning_effort?: string;
  };
  const offered = (body.tools as { name: string; defer_loading?: boolean }[])
    .filter((x) => !x.defer_loading).map((x) => x.name);
  assertEquals(sent.tools.map((x) => x.function.name), offered);
  assertEquals(sent.messages.map((m) => m.role), ["system", "user", "system"]);
  assert(!sent.messages[0].content.includes("x-anthropic-billing-header"));
  // Adaptive thinking with effort high reaches an OpenAI-compatible upstream as reasoning_effort.
  assertEquals(sent.reasoning_effort, "high");
  assertEquals("reasoning" in sent, false);
});

Deno.test("count_tokens ignores fields it does not have, whatever their type (fuzz finding)", async () => {
  await using t = await setup();
  const counted = async (extra: Record<string, unknown>) => {
    const res = await t.post(
      { model: BASE.model, messages: HI.messages, ...extra },
      "/v1/messages/count_tokens",
    );
    assertEquals(res.status, 200, JSON.stringify(extra));
    return (await res.json()).input_tokens;
  };
  const plain = await counted({});
  for (
    const extra of [
      { stop_sequences: "" },
      { stop_sequences: [1, 2] },
      { max_tokens: "many" },
      { temperature: 9 },
      { thread: { type: "continue" } },
    ]
  ) {
    assertEquals(await counted(extra), plain);
  }
});
