/**
 * Cohere chat through the running gateway with the `openai` client: models, the v1 request the
 * fake receives, streamed and whole answers, usage, finish reasons, safety mode, tools.
 */
import OpenAI from "openai";

const OpenAIError = OpenAI.APIError;
import { assert, assertEquals, assertMatch, assertRejects } from "../../assert.ts";
import { createCohereProvider } from "../../../src/providers/cohere/mod.ts";
import { testDeps } from "../../context.ts";

const cohere = createCohereProvider(testDeps());
import { configSchema } from "../../../src/config/schema.ts";
import { KEY, lastBody, setup } from "./_setup.ts";

Deno.test("cohere: /v1/models lists the original ids and the 08-2024 ones", async () => {
  await using t = await setup({ cohere: { models: ["c4ai-aya-expanse-32b"] } });
  const ids: string[] = [];
  for await (const m of t.client.models.list()) ids.push(m.id);
  for (
    const id of [
      "command",
      "command-r",
      "command-light",
      "command-light-nightly",
      "command-nightly",
      "command-r-plus",
      "command-r-08-2024",
      "command-r-plus-08-2024",
      "c4ai-aya-expanse-32b",
    ]
  ) {
    assert(ids.includes(id), `missing ${id}`);
  }
});

Deno.test("cohere: history, preamble and parameters as the v1 API takes them", async () => {
  await using t = await setup();
  const res = await t.client.chat.completions.create({
    model: "command-r",
    messages: [
      { role: "system", content: "Be brief." },
      { role: "user", content: "first question" },
      { role: "assistant", content: "first answer" },
      { role: "system", content: "Now be formal." },
      { role: "user", content: "second question" },
    ],
    temperature: 0.4,
    top_p: 0.75,
    max_tokens: 50,
    stop: ["END"],
    seed: 3,
    // @ts-expect-error: top_k is not in OpenAI's types but clients send it.
    top_k: 20,
  });
  assertEquals(res.choices[0].message.content, "Hello! You said: second question");
  assertEquals(res.choices[0].finish_reason, "stop");
  const rec = t.fake.requests.at(-1)!;
  assertEquals(rec.path, "/v1/chat");
  assertEquals(rec.headers.get("authorization"), `Bearer ${KEY}`);
  const body = lastBody(t.fake);
  assertEquals(body, {
    model: "command-r",
    message: "second question",
    stream: true,
    prompt_truncation: "OFF",
    chat_history: [
      { role: "USER", message: "first question" },
      { role: "CHATBOT", message: "first answer" },
      { role: "SYSTEM", message: "Now be formal." },
    ],
    preamble: "Be brief.",
    temperature: 0.4,
    p: 0.75,
    k: 20,
    max_tokens: 50,
    stop_sequences: ["END"],
    seed: 3,
  });
  // Usage is Cohere's billed units.
  const billed = Math.ceil(JSON.stringify(body).length / 4);
  assertEquals(res.usage!.prompt_tokens, billed);
  assert(!t.gw.logs.join("\n").includes(KEY));
});

Deno.test("cohere: a streamed answer arrives in pieces from the NDJSON stream", async () => {
  await using t = await setup();
  t.fake.respond = () => ({ text: "alpha beta gamma delta", pieceSize: 3, delayMs: 2 });
  const stream = await t.client.chat.completions.create({
    model: "command-r-plus",
    messages: [{ role: "user", content: "go" }],
    stream: true,
    stream_options: { include_usage: true },
  });
  const texts: string[] = [];
  let finish: string | null = null;
  let usage: OpenAI.CompletionUsage | undefined;
  for await (const chunk of stream) {
    if (chunk.usage) usage = chunk.usage;
    const c = chunk.choices[0];
    if (c?.delta.content) texts.push(c.delta.content);
    if (c?.finish_reason) finish = c.finish_reason;
  }
  assertEquals(texts.join(""), "alpha beta gamma delta");
  assert(texts.length >= 7);
  assertEquals(finish, "stop");
  assertEquals(usage!.completion_tokens, Math.ceil(22 / 4));
});

Deno.test("cohere: finish reasons, and an ERROR finish is an error in the stream", async () => {
  await using t = await setup();
  for (
    const [reason, want] of [["MAX_TOKENS", "length"], ["ERROR_LIMIT", "length"], [
      "ERROR_TOXIC",
      "content_filter",
    ]]
  ) {
    t.fake.respond = () => ({ text: "some text", finishReason: reason });
    const res = await t.client.chat.completions.create({
      model: "command-r",
      messages: [{ role: "user", content: "x" }],
    });
    assertEquals(res.choices[0].finish_reason, want);
  }
  t.fake.respond = () => ({ text: "half an answer", finishReason: "ERROR" });
  const raw = await fetch(`${t.gw.url}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${KEY}` },
    body: JSON.stringify({
      model: "command-r",
      messages: [{ role: "user", content: "x" }],
      stream: true,
    }),
  });
  const text = await raw.text();
  assertMatch(text, /"content":"half "/);
  assertMatch(
    text,
    /data: \{"error":\{"message":"cohere upstream failed: the generation failed \(finish_reason ERROR\)[^\n]*\n\ndata: \[DONE\]\n\n$/,
  );
});

Deno.test("cohere: safety_mode from cohere.safety only for models that take it", async () => {
  await using t = await setup({ cohere: { safety: "STRICT" } });
  await t.client.chat.completions.create({
    model: "command-r-08-2024",
    messages: [{ role: "user", content: "x" }],
  });
  assertEquals(lastBody(t.fake).safety_mode, "STRICT");
  await t.client.chat.completions.create({
    model: "command-r",
    messages: [{ role: "user", content: "x" }],
  });
  assertEquals(lastBody(t.fake).safety_mode, undefined);
});

const weather: OpenAI.Chat.ChatCompletionTool = {
  type: "function",
  function: {
    name: "get-weather",
    description: "Weather of a city",
    parameters: {
      type: "object",
      properties: {
        city: { type: "string", description: "City" },
        days: { type: "integer" },
        unit: { type: "string", enum: ["c", "f"] },
        tags: { type: "array", items: { type: "string" } },
        where: { type: "object", properties: { lat: { type: "number" } } },
      },
      required: ["city"],
    },
  },
};

Deno.test("cohere tools: parameter_definitions, calls back under the client's names", async () => {
  await using t = await setup();
  t.fake.respond = (b) => {
    const name = String((b.tools as { name: string }[])[0].name);
    return {
      plan: "I will look up the weather.",
      toolCalls: [{ name, parameters: { city: "Paris" } }, {
        name,
        parameters: { city: "Rome", days: 2 },
      }],
    };
  };
  const req = {
    model: "command-r-08-2024",
    messages: [{ role: "user" as const, content: "weather?" }],
    tools: [weather],
  };
  const res = await t.client.chat.completions.create(req);
  const tool = (lastBody(t.fake).tools as Record<string, unknown>[])[0];
  assertMatch(String(tool.name), /^get_weather_[0-9a-f]{8}$/);
  assertEquals(tool.description, "Weather of a city");
  const defs = tool.parameter_definitions as Record<string, Record<string, unknown>>;
  assertEquals(defs.city, { type: "str", required: true, description: "City" });
  assertEquals(defs.days, { type: "int", required: false });
  assertEquals(defs.unit, { type: "str", required: false, description: 'One of: "c", "f".' });
  assertEquals(defs.tags, { type: "List[str]", required: false });
  assertEquals(defs.where.type, "Dict");
  assertMatch(String(defs.where.description), /JSON schema: .*"lat"/);
  const msg = res.choices[0].message;
  assertEquals(res.choices[0].finish_reason, "tool_calls");
  assertEquals(msg.content, "I will look up the weather.");
  const calls = msg.tool_calls!.map((c) => c as OpenAI.Chat.ChatCompletionMessageFunctionToolCall);
  assertEquals(calls.map((c) => c.function.name), ["get-weather", "get-weather"]);
  assertEquals(calls.map((c) => JSON.parse(c.function.arguments)), [{ city: "Paris" }, {
    city: "Rome",
    days: 2,
  }]);

  const final = await t.client.chat.completions.stream(req).finalChatCompletion();
  assertEquals(final.choices[0].finish_reason, "tool_calls");
  assertEquals(final.choices[0].message.tool_calls!.length, 2);
});

Deno.test("cohere tools: results of the last turn go in tool_results, older ones in TOOL history", async () => {
  await using t = await setup();
  t.fake.respond = () => ({ text: "Paris 20C, Rome 25C." });
  const res = await t.client.chat.completions.create({
    model: "command-r-08-2024",
    tools: [weather],
    messages: [
      { role: "user", content: "weather in Oslo?" },
      {
        role: "assistant",
        content: null,
        tool_calls: [{
          id: "c0",
          type: "function",
          function: { name: "get-weather", arguments: '{"city":"Oslo"}' },
        }],
      },
      { role: "tool", tool_call_id: "c0", content: "[]" },
      { role: "assistant", content: "Oslo: no data." },
      { role: "user", content: "and Paris and Rome?" },
      {
        role: "assistant",
        content: "Checking both.",
        tool_calls: [
          {
            id: "c1",
            type: "function",
            function: { name: "get-weather", arguments: '{"city":"Paris"}' },
          },
          {
            id: "c2",
            type: "function",
            function: { name: "get-weather", arguments: '{"city":"Rome"}' },
          },
        ],
      },
      { role: "tool", tool_call_id: "c1", content: '{"temp":20}' },
      { role: "tool", tool_call_id: "c2", content: "25C and sunny" },
    ],
  });
  assertEquals(res.choices[0].message.content, "Paris 20C, Rome 25C.");
  const body = lastBody(t.fake);
  const name = String((body.tools as { name: string }[])[0].name);
  assertEquals(body.message, "");
  assertEquals(body.chat_history, [
    { role: "USER", message: "weather in Oslo?" },
    { role: "CHATBOT", message: "", tool_calls: [{ name, parameters: { city: "Oslo" } }] },
    {
      role: "TOOL",
      tool_results: [{ call: { name, parameters: { city: "Oslo" } }, outputs: [{ result: [] }] }],
    },
    { role: "CHATBOT", message: "Oslo: no data." },
    { role: "USER", message: "and Paris and Rome?" },
    {
      role: "CHATBOT",
      message: "Checking both.",
      tool_calls: [{ name, parameters: { city: "Paris" } }, { name, parameters: { city: "Rome" } }],
    },
  ]);
  assertEquals(body.tool_results, [
    { call: { name, parameters: { city: "Paris" } }, outputs: [{ temp: 20 }] },
    { call: { name, parameters: { city: "Rome" } }, outputs: [{ result: "25C and sunny" }] },
  ]);
});

Deno.test("cohere tools: cohere.tc switches to the prompt emulator", async () => {
  assertEquals(
    cohere.resolve("command-r", configSchema.parse({ cohere: { tc: true } }))?.toolMode,
    "emulated",
  );
  assertEquals(cohere.resolve("command-r", configSchema.parse({}))?.toolMode, "native");
  await using t = await setup({ cohere: { tc: true } });
  t.fake.respond = (b) => {
    const prompt = JSON.stringify([b.preamble, b.chat_history, b.message, b.prompt]);
    if (!prompt.includes("get-weather")) return { text: "no tools offered" };
    if (prompt.includes("sunny and 21")) return { text: "Sunny, 21." };
    return {
      text: `<tool_call>\n${
        JSON.stringify({ name: "get-weather", arguments: { city: "Paris" } })
      }\n</tool_call>`,
    };
  };
  const first = await t.client.chat.completions.create({
    model: "command-r",
    messages: [{ role: "user", content: "weather?" }],
    tools: [weather],
  });
  assertEquals(first.choices[0].finish_reason, "tool_calls");
  const call = first.choices[0].message
    .tool_calls![0] as OpenAI.Chat.ChatCompletionMessageFunctionToolCall;
  assertEquals([call.function.name, JSON.parse(call.function.arguments)], ["get-weather", {
    city: "Paris",
  }]);
  const second = await t.client.chat.completions.create({
    model: "command-r",
    messages: [
      { role: "user", content: "weather?" },
      first.choices[0].message as OpenAI.Chat.ChatCompletionMessageParam,
      { role: "tool", tool_call_id: call.id, content: "sunny and 21" },
    ],
    tools: [weather],
  });
  assertEquals(second.choices[0].message.content, "Sunny, 21.");
  for (const b of t.fake.bodies()) {
    assertEquals(b.tools, undefined);
    assertEquals(b.tool_results, undefined);
  }
});

Deno.test("cohere tools: arguments of an earlier call that are not JSON are a 400 naming the field", async () => {
  await using t = await setup();
  t.fake.respond = () => ({ text: "never" });
  const before = t.fake.requests.length;
  const err = await assertRejects(() =>
    t.client.chat.completions.create({
      model: "command-r",
      messages: [
        { role: "user", content: "weather?" },
        {
          role: "assistant",
          content: null,
          tool_calls: [{
            id: "call_1",
            type: "function",
            function: { name: "get_weather", arguments: "{city: Paris" },
          }],
        },
        { role: "tool", tool_call_id: "call_1", content: "sunny" },
      ],
      tools: [{
        type: "function",
        function: { name: "get_weather", parameters: { type: "object", properties: {} } },
      }],
    }), OpenAIError);
  assertEquals(err.status, 400);
  assertMatch(err.message, /function\.arguments is not valid JSON/);
  assertEquals(t.fake.requests.length, before, "nothing was sent upstream");
});
