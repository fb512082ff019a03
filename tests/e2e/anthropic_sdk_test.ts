/**
 * The Messages API end to end with the official `@anthropic-ai/sdk` as the client: the gateway in
 * front of the fake OpenAI-compatible upstream (`custom`, native tools) and of the fake tool LLM
 * (`tc: true`, tools emulated in the prompt).
 */
import Anthropic from "@anthropic-ai/sdk";
import { betaTool } from "@anthropic-ai/sdk/helpers/beta/json-schema";
import { assert, assertEquals, assertInstanceOf, assertMatch, assertRejects } from "../assert.ts";
import { type ChatBody, startFakeOpenAi } from "../fakes/openai.ts";
import { startFakeToolLlm } from "../fakes/tool_llm.ts";
import { abortedWithin, startGateway } from "../helpers.ts";

const UPSTREAM_KEY = "sk-upstream-key-123456";

async function setup() {
  const upstream = await startFakeOpenAi({ keys: [UPSTREAM_KEY] });
  const tools = await startFakeToolLlm({ models: ["tool-model"] });
  const gw = await startGateway({
    "custom-llm": [
      {
        prefix: "up",
        "base-url": upstream.baseUrl,
        "api-key": [UPSTREAM_KEY],
        models: ["gpt-4o-mini"],
      },
      { prefix: "web", "base-url": tools.baseUrl, tc: true, models: ["tool-model"] },
    ],
    // The client's key opens the gateway; the configured key goes upstream.
    server: { password: ["gateway-pass"] },
  });
  const client = new Anthropic({ baseURL: gw.origin, apiKey: "gateway-pass", maxRetries: 0 });
  return {
    upstream,
    tools,
    gw,
    client,
    async [Symbol.asyncDispose]() {
      await gw.close();
      await upstream.close();
      await tools.close();
    },
  };
}

const WEATHER_TOOL: Anthropic.Tool = {
  name: "get_weather",
  description: "The current weather of a city.",
  input_schema: {
    type: "object",
    properties: { city: { type: "string", description: "The city" } },
    required: ["city"],
  },
};

/** The fake model: asks for the weather once, then answers from the tool's result. */
function weatherModel(body: ChatBody) {
  const last = body.messages[body.messages.length - 1];
  if (last.role === "tool") return { text: `The weather: ${String(last.content)}.` };
  if (body.tools?.some((t) => t.function.name === "get_weather")) {
    return {
      text: "Let me check.",
      toolCalls: [{ name: "get_weather", arguments: { city: "Paris" } }],
    };
  }
  return { text: "No tools here." };
}

Deno.test("messages.create: text, model as sent, ids, usage, and the internal request upstream", async () => {
  await using t = await setup();
  // The SDK's 1.x types no longer name the sampling parameters; other clients still send them.
  const params = {
    model: "up/gpt-4o-mini",
    max_tokens: 100,
    system: [{ type: "text", text: "Be brief.", cache_control: { type: "ephemeral" } }],
    messages: [{ role: "user", content: [{ type: "text", text: "ping" }] }],
    temperature: 0.3,
    top_k: 5,
    stop_sequences: ["\n\nEND"],
  } as Anthropic.MessageCreateParamsNonStreaming;
  const msg = await t.client.messages.create(params);
  assertEquals(msg.type, "message");
  assertEquals(msg.role, "assistant");
  assertEquals(msg.model, "up/gpt-4o-mini");
  assertMatch(msg.id, /^msg_01[A-Za-z0-9]{22}$/);
  assertEquals(msg.content, [{ type: "text", text: "Hello! You said: ping" }]);
  assertEquals(msg.stop_reason, "end_turn");
  assertEquals(msg.stop_sequence, null);
  assert(msg.usage.input_tokens > 0 && msg.usage.output_tokens > 0, JSON.stringify(msg.usage));
  assertEquals(msg.usage.cache_read_input_tokens, 0);

  const sent = t.upstream.chatBodies()[0];
  assertEquals(sent.model, "gpt-4o-mini");
  assertEquals(sent.messages, [
    { role: "system", content: "Be brief." },
    { role: "user", content: "ping" },
  ]);
  assertEquals(sent.max_tokens, 100);
  assertEquals(sent.temperature, 0.3);
  assertEquals(sent.top_k, 5);
  assertEquals(sent.stop, ["\n\nEND"]);
  assertEquals(t.upstream.requests[0].headers.get("authorization"), `Bearer ${UPSTREAM_KEY}`);
});

Deno.test("the /anthropic base URL works the same", async () => {
  await using t = await setup();
  const client = new Anthropic({
    baseURL: `${t.gw.origin}/anthropic`,
    apiKey: "gateway-pass",
    maxRetries: 0,
  });
  const msg = await client.messages.create({
    model: "up/gpt-4o-mini",
    max_tokens: 50,
    messages: [{ role: "user", content: "hi" }],
  });
  assertEquals(msg.content, [{ type: "text", text: "Hello! You said: hi" }]);
});

Deno.test("messages.stream: the event grammar, text deltas, final message", async () => {
  await using t = await setup();
  t.upstream.respond = () => ({ reasoning: "Thinking it over.", text: "Streaming works fine." });
  const stream = t.client.messages.stream({
    model: "up/gpt-4o-mini",
    max_tokens: 100,
    thinking: { type: "enabled", budget_tokens: 2048 },
    messages: [{ role: "user", content: "go" }],
  });
  const types: string[] = [];
  let text = "";
  for await (const ev of stream) {
    types.push(ev.type);
    if (ev.type === "content_block_delta" && ev.delta.type === "text_delta") text += ev.delta.text;
  }
  const final = await stream.finalMessage();
  assertEquals(text, "Streaming works fine.");
  assertEquals(types[0], "message_start");
  assertEquals(types.at(-2), "message_delta");
  assertEquals(types.at(-1), "message_stop");
  assertEquals(final.content.map((b) => b.type), ["thinking", "text"]);
  assertEquals((final.content[0] as Anthropic.ThinkingBlock).thinking, "Thinking it over.");
  assertEquals(final.stop_reason, "end_turn");
  assert(final.usage.output_tokens > 0);
  // Thinking asked for reasoning upstream.
  // The thinking budget reaches an OpenAI-compatible upstream as its reasoning_effort.
  assertEquals(t.upstream.chatBodies()[0].reasoning_effort, "low");
  assertEquals("reasoning" in t.upstream.chatBodies()[0], false);
});

Deno.test("a tool loop on native tools: tool_use with toolu_ ids, tool_result back, ids round-trip", async () => {
  await using t = await setup();
  t.upstream.respond = weatherModel;
  const messages: Anthropic.MessageParam[] = [{ role: "user", content: "Weather in Paris?" }];
  const first = await t.client.messages.create({
    model: "up/gpt-4o-mini",
    max_tokens: 200,
    tools: [WEATHER_TOOL],
    messages,
  });
  assertEquals(first.stop_reason, "tool_use");
  assertEquals(first.content[0], { type: "text", text: "Let me check." });
  const use = first.content[1] as Anthropic.ToolUseBlock;
  assertEquals(use.type, "tool_use");
  assertEquals(use.name, "get_weather");
  assertEquals(use.input, { city: "Paris" });
  assertMatch(use.id, /^toolu_/);
  messages.push({ role: "assistant", content: first.content });
  messages.push({
    role: "user",
    content: [{ type: "tool_result", tool_use_id: use.id, content: "18°C, light rain" }],
  });
  const second = await t.client.messages.create({
    model: "up/gpt-4o-mini",
    max_tokens: 200,
    tools: [WEATHER_TOOL],
    messages,
  });
  assertEquals(second.content, [{ type: "text", text: "The weather: 18°C, light rain." }]);
  assertEquals(second.stop_reason, "end_turn");

  // The upstream offered the tool as a function and got its own call id back.
  const [one, two] = t.upstream.chatBodies() as unknown as ChatBody[];
  assertEquals(one.tools, [{
    type: "function",
    function: {
      name: "get_weather",
      parameters: WEATHER_TOOL.input_schema,
      description: "The current weather of a city.",
    },
  }]);
  const call = (two.messages[1].tool_calls as { id: string }[])[0];
  assertEquals(call.id, "call_fake1x0");
  assertEquals(two.messages[2], {
    role: "tool",
    tool_call_id: "call_fake1x0",
    content: "18°C, light rain",
  });
});

Deno.test("the SDK's tool runner (message threads, streamed) finishes: a thread to continue is not found, the SDK replays", async () => {
  await using t = await setup();
  t.upstream.respond = weatherModel;
  const ran: string[] = [];
  const runner = t.client.beta.messages.toolRunner({
    model: "up/gpt-4o-mini",
    max_tokens: 200,
    stream: true,
    betas: ["fine-grained-tool-streaming-2025-05-14"],
    messages: [{ role: "user", content: "Weather in Paris?" }],
    tools: [betaTool({
      name: "get_weather",
      description: "The current weather of a city.",
      inputSchema: {
        type: "object",
        properties: { city: { type: "string" } },
        required: ["city"],
      },
      run: ({ city }) => {
        ran.push(city);
        return "18°C, light rain";
      },
    })],
  });
  const final = await runner.runUntilDone();
  assertEquals(ran, ["Paris"]);
  assertEquals(final.content, [{ type: "text", text: "The weather: 18°C, light rain." }]);
  // Two upstream calls: the continued thread was refused before any upstream call.
  const bodies = t.upstream.chatBodies() as unknown as ChatBody[];
  assertEquals(bodies.length, 2);
  assertEquals(bodies[1].messages.map((m) => m.role), ["user", "assistant", "tool"]);
});

Deno.test("a streamed tool call: input_json_delta pieces build the input", async () => {
  await using t = await setup();
  t.upstream.respond = () => ({
    toolCalls: [
      { name: "get_weather", arguments: { city: "Paris, the capital of France" } },
      { name: "get_weather", arguments: { city: "Tokyo" } },
    ],
  });
  const stream = t.client.messages.stream({
    model: "up/gpt-4o-mini",
    max_tokens: 200,
    tools: [WEATHER_TOOL],
    tool_choice: { type: "any", disable_parallel_tool_use: false },
    messages: [{ role: "user", content: "Weather?" }],
  });
  let pieces = 0;
  stream.on("inputJson", () => pieces++);
  const final = await stream.finalMessage();
  assert(pieces > 2, `only ${pieces} input_json_delta events`);
  assertEquals(final.stop_reason, "tool_use");
  assertEquals(
    final.content.map((b) => (b as Anthropic.ToolUseBlock).input),
    [{ city: "Paris, the capital of France" }, { city: "Tokyo" }],
  );
  assertEquals(t.upstream.chatBodies()[0].tool_choice, "required");
});

Deno.test("a tool loop on emulated tools (tc: true): the fake reads the tools from the prompt", async () => {
  await using t = await setup();
  const messages: Anthropic.MessageParam[] = [{
    role: "user",
    content: "What is the weather in Tokyo?",
  }];
  const first = await t.client.messages.create({
    model: "web/tool-model",
    max_tokens: 300,
    tools: [WEATHER_TOOL],
    messages,
  });
  assertEquals(first.stop_reason, "tool_use");
  const use = first.content.find((b) => b.type === "tool_use") as Anthropic.ToolUseBlock;
  assertEquals(use.input, { city: "Tokyo" });
  assertMatch(use.id, /^toolu_[A-Za-z0-9]{24}$/);
  messages.push({ role: "assistant", content: first.content });
  messages.push({
    role: "user",
    content: [{
      type: "tool_result",
      tool_use_id: use.id,
      content: [{ type: "text", text: "24°C, sunny" }],
    }],
  });
  const stream = t.client.messages.stream({
    model: "web/tool-model",
    max_tokens: 300,
    tools: [WEATHER_TOOL],
    messages,
  });
  const final = await stream.finalMessage();
  assertEquals(final.content, [{
    type: "text",
    text: "Here is what I found: get_weather says 24°C, sunny.",
  }]);
  assertEquals(t.tools.views[1].results, [{ name: "get_weather", content: "24°C, sunny" }]);
});

Deno.test("count_tokens counts the prompt the upstream would get", async () => {
  await using t = await setup();
  const plain = await t.client.messages.countTokens({
    model: "up/gpt-4o-mini",
    messages: [{ role: "user", content: "How many tokens is this?" }],
  });
  assert(plain.input_tokens > 5 && plain.input_tokens < 30, String(plain.input_tokens));
  const emulated = await t.client.messages.countTokens({
    model: "web/tool-model",
    tools: [WEATHER_TOOL],
    messages: [{ role: "user", content: "How many tokens is this?" }],
  });
  // The emulator's instructions are part of what the upstream gets.
  assert(emulated.input_tokens > plain.input_tokens + 100, String(emulated.input_tokens));
  assertEquals(t.upstream.requests.length, 0);
});

Deno.test("errors reach the SDK as its own classes: 404 unknown model, 400 field, 401, 429", async () => {
  await using t = await setup();
  const notFound = await assertRejects(() =>
    t.client.messages.create({
      model: "nope/none",
      max_tokens: 10,
      messages: [{ role: "user", content: "x" }],
    })
  );
  assertInstanceOf(notFound, Anthropic.NotFoundError);
  assertEquals((notFound.error as { error: { type: string } }).error.type, "not_found_error");

  const bad = await assertRejects(() =>
    t.client.messages.create({
      model: "up/gpt-4o-mini",
      max_tokens: 10,
      messages: [{
        role: "user",
        content: [{ type: "text" } as unknown as Anthropic.TextBlockParam],
      }],
    })
  );
  assertInstanceOf(bad, Anthropic.BadRequestError);
  assertMatch(bad.message, /messages\[0\]\.content\[0\]\.text/);

  const wrong = new Anthropic({ baseURL: t.gw.origin, apiKey: "wrong", maxRetries: 0 });
  const auth = await assertRejects(() =>
    wrong.messages.create({
      model: "up/gpt-4o-mini",
      max_tokens: 10,
      messages: [{ role: "user", content: "x" }],
    })
  );
  assertInstanceOf(auth, Anthropic.AuthenticationError);

  t.upstream.respond = () => ({ error: { status: 429, message: "Rate limit reached" } });
  const limited = await assertRejects(() =>
    t.client.messages.create({
      model: "up/gpt-4o-mini",
      max_tokens: 10,
      messages: [{ role: "user", content: "x" }],
    })
  );
  assertInstanceOf(limited, Anthropic.RateLimitError);
  assertEquals(limited.headers?.get("retry-after"), "7");
});

Deno.test("a client that stops reading a stream aborts the upstream", async () => {
  await using t = await setup();
  t.upstream.respond = () => ({ text: "z".repeat(20_000), pieceSize: 10, delayMs: 5 });
  const controller = new AbortController();
  const stream = t.client.messages.stream({
    model: "up/gpt-4o-mini",
    max_tokens: 100,
    messages: [{ role: "user", content: "long" }],
  }, { signal: controller.signal });
  let n = 0;
  try {
    for await (const ev of stream) {
      if (ev.type === "content_block_delta" && ++n === 3) controller.abort();
    }
  } catch {
    // The abort.
  }
  await abortedWithin(t.upstream.requests[0]);
});
