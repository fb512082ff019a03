/**
 * Gemini native tool calling through the gateway with the `openai` client: declarations with
 * cleaned schemas, names Gemini refuses, tool_choice, several calls, thought signatures both
 * ways (and the fallback cache), tool results, and the emulator switch.
 */
import type OpenAI from "openai";
import { assert, assertEquals, assertMatch } from "../../assert.ts";
import { createGeminiProvider } from "../../../src/providers/gemini/mod.ts";
import { testDeps } from "../../context.ts";
import { configSchema } from "../../../src/config/schema.ts";
import { lastBody, setup } from "./_setup.ts";

const weather: OpenAI.Chat.ChatCompletionTool = {
  type: "function",
  function: {
    name: "get_weather",
    description: "Weather of a city",
    strict: true,
    parameters: {
      $schema: "http://json-schema.org/draft-07/schema#",
      type: "object",
      additionalProperties: false,
      properties: {
        city: { type: "string", description: "City name", format: "uri" },
        days: { type: "integer", minimum: 1 },
        unit: { anyOf: [{ $ref: "#/$defs/unit" }, { type: "null" }] },
        tags: { type: "array", items: { type: "string" } },
        mode: { const: "fast" },
      },
      required: ["city", "days", "unit", "missing"],
      $defs: { unit: { type: "string", enum: ["c", "f"], description: "Unit" } },
    },
  },
};
const oddName: OpenAI.Chat.ChatCompletionTool = {
  type: "function",
  function: { name: "2nd-tool.lookup", parameters: { type: "object", properties: {} } },
};

Deno.test("gemini tools: declarations are cleaned for Gemini and odd names mapped", async () => {
  await using t = await setup();
  t.fake.respond = () => ({ text: "ok" });
  await t.client.chat.completions.create({
    model: "gemini-2.0-flash",
    messages: [{ role: "user", content: "weather?" }],
    tools: [weather, oddName],
  });
  const body = lastBody(t.fake);
  const [decl, odd] = body.tools![0].functionDeclarations!;
  assertEquals(decl, {
    name: "get_weather",
    description: "Weather of a city",
    parameters: {
      type: "OBJECT",
      properties: {
        city: { type: "STRING", description: "City name" },
        days: { type: "INTEGER", minimum: 1 },
        unit: { type: "STRING", description: "Unit", enum: ["c", "f"], nullable: true },
        tags: { type: "ARRAY", items: { type: "STRING" } },
        mode: { type: "STRING", enum: ["fast"] },
      },
      required: ["city", "days", "unit"],
    },
  });
  // A name starting with a digit is refused by Gemini; it gets a valid, stable name and no
  // parameters (an OBJECT without properties is refused too).
  assertMatch(String(odd.name), /^_2nd-tool\.lookup_[0-9a-f]{8}$/);
  assertEquals(odd.parameters, undefined);
  assertEquals(body.toolConfig, undefined);
});

Deno.test("gemini tools: tool_choice maps to functionCallingConfig", async () => {
  await using t = await setup();
  t.fake.respond = () => ({ text: "ok" });
  const cases: [OpenAI.Chat.ChatCompletionToolChoiceOption, unknown][] = [
    ["auto", { mode: "AUTO" }],
    ["none", { mode: "NONE" }],
    ["required", { mode: "ANY" }],
    [{ type: "function", function: { name: "get_weather" } }, {
      mode: "ANY",
      allowedFunctionNames: ["get_weather"],
    }],
  ];
  for (const [choice, want] of cases) {
    await t.client.chat.completions.create({
      model: "gemini-2.0-flash",
      messages: [{ role: "user", content: "weather?" }],
      tools: [weather, oddName],
      tool_choice: choice,
    });
    assertEquals(lastBody(t.fake).toolConfig, { functionCallingConfig: want });
  }
  // A named odd tool is allowed under its mapped name.
  await t.client.chat.completions.create({
    model: "gemini-2.0-flash",
    messages: [{ role: "user", content: "weather?" }],
    tools: [weather, oddName],
    tool_choice: { type: "function", function: { name: "2nd-tool.lookup" } },
  });
  const names = lastBody(t.fake).toolConfig!.functionCallingConfig!.allowedFunctionNames!;
  assertMatch(names[0], /^_2nd-tool\.lookup_[0-9a-f]{8}$/);
});

Deno.test("gemini tools: several calls become several tool calls, streamed and not", async () => {
  await using t = await setup();
  let mapped = "";
  t.fake.respond = (body) => {
    mapped = String(body.tools![0].functionDeclarations![1].name);
    return {
      text: "Checking.",
      functionCalls: [
        { name: "get_weather", args: { city: "Paris", days: 2 } },
        { name: mapped, args: {} },
        { name: "get_weather", args: { city: "Rome", days: 1 } },
      ],
    };
  };
  const req = {
    model: "gemini-2.5-flash",
    messages: [{ role: "user" as const, content: "weather in Paris and Rome?" }],
    tools: [weather, oddName],
  };
  const res = await t.client.chat.completions.create(req);
  const msg = res.choices[0].message;
  assertEquals(res.choices[0].finish_reason, "tool_calls");
  assertEquals(msg.content, "Checking.");
  const calls = msg.tool_calls!.map((c) => c as OpenAI.Chat.ChatCompletionMessageFunctionToolCall);
  assertEquals(calls.map((c) => c.function.name), [
    "get_weather",
    "2nd-tool.lookup",
    "get_weather",
  ]);
  assertEquals(calls.map((c) => JSON.parse(c.function.arguments)), [
    { city: "Paris", days: 2 },
    {},
    { city: "Rome", days: 1 },
  ]);
  assertEquals(new Set(calls.map((c) => c.id)).size, 3);

  const stream = t.client.chat.completions.stream(req);
  const deltas: { index: number; id?: string; name?: string }[] = [];
  stream.on("chunk", (chunk) => {
    for (const tc of chunk.choices[0]?.delta.tool_calls ?? []) {
      deltas.push({ index: tc.index, id: tc.id, name: tc.function?.name });
    }
  });
  const final = await stream.finalChatCompletion();
  assertEquals(final.choices[0].finish_reason, "tool_calls");
  assertEquals(deltas.map((d) => d.index), [0, 1, 2]);
  assert(deltas.every((d) => d.id && d.name));
  const streamed = final.choices[0].message.tool_calls!.map((c) =>
    (c as OpenAI.Chat.ChatCompletionMessageFunctionToolCall).function.name
  );
  assertEquals(streamed, ["get_weather", "2nd-tool.lookup", "get_weather"]);
});

Deno.test("gemini tools: parallel_tool_calls false keeps the first call only", async () => {
  await using t = await setup();
  t.fake.respond = () => ({
    functionCalls: [{ name: "get_weather", args: { city: "A" } }, {
      name: "get_weather",
      args: { city: "B" },
    }],
  });
  const res = await t.client.chat.completions.create({
    model: "gemini-2.0-flash",
    messages: [{ role: "user", content: "weather?" }],
    tools: [weather],
    parallel_tool_calls: false,
  });
  assertEquals(res.choices[0].message.tool_calls!.length, 1);
});

Deno.test("gemini tools: tool results become functionResponse parts named via tool_call_id", async () => {
  await using t = await setup();
  t.fake.respond = () => ({ text: "Paris is sunny, Rome is rainy." });
  const res = await t.client.chat.completions.create({
    model: "gemini-2.0-flash",
    messages: [
      { role: "user", content: "weather?" },
      {
        role: "assistant",
        content: null,
        tool_calls: [
          {
            id: "call_a",
            type: "function",
            function: { name: "get_weather", arguments: '{"city":"Paris"}' },
          },
          {
            id: "call_b",
            type: "function",
            function: { name: "2nd-tool.lookup", arguments: "{}" },
          },
        ],
      },
      { role: "tool", tool_call_id: "call_a", content: '{"sky":"sunny"}' },
      { role: "tool", tool_call_id: "call_b", content: "rainy in Rome" },
    ],
    tools: [weather, oddName],
  });
  assertEquals(res.choices[0].message.content, "Paris is sunny, Rome is rainy.");
  const body = lastBody(t.fake);
  const mapped = String(body.tools![0].functionDeclarations![1].name);
  assertEquals(body.contents.slice(1), [
    {
      role: "model",
      parts: [
        { functionCall: { name: "get_weather", args: { city: "Paris" } } },
        { functionCall: { name: mapped, args: {} } },
      ],
    },
    {
      role: "user",
      parts: [
        { functionResponse: { name: "get_weather", response: { sky: "sunny" } } },
        { functionResponse: { name: mapped, response: { result: "rainy in Rome" } } },
      ],
    },
  ]);
});

Deno.test("gemini tools: thought signatures go out as extra_content and come back", async () => {
  await using t = await setup();
  t.fake.respond = () => ({
    functionCalls: [
      { name: "get_weather", args: { city: "Paris" }, thoughtSignature: "c2lnLW9uZQ==" },
      { name: "get_weather", args: { city: "Rome" } },
    ],
  });
  const req = {
    model: "gemini-3.8-flash",
    messages: [{ role: "user" as const, content: "weather?" }],
    tools: [weather],
  };
  const res = await t.client.chat.completions.create(req);
  const calls = res.choices[0].message.tool_calls!;
  assertEquals(
    (calls[0] as unknown as { extra_content: unknown }).extra_content,
    { google: { thought_signature: "c2lnLW9uZQ==" } },
  );
  assertEquals((calls[1] as unknown as { extra_content?: unknown }).extra_content, undefined);

  // Streamed: the signature rides on the call's first delta.
  const stream = await t.client.chat.completions.create({ ...req, stream: true });
  const firsts: unknown[] = [];
  for await (const chunk of stream) {
    for (const tc of chunk.choices[0]?.delta.tool_calls ?? []) {
      if (tc.id) firsts.push((tc as unknown as { extra_content?: unknown }).extra_content);
    }
  }
  assertEquals(firsts, [{ google: { thought_signature: "c2lnLW9uZQ==" } }, undefined]);

  // The client sends the assistant message back as it got it: the signature returns.
  t.fake.respond = () => ({ text: "done" });
  await t.client.chat.completions.create({
    ...req,
    messages: [
      ...req.messages,
      res.choices[0].message as OpenAI.Chat.ChatCompletionMessageParam,
      { role: "tool", tool_call_id: calls[0].id, content: "sunny" },
      { role: "tool", tool_call_id: calls[1].id, content: "rainy" },
    ],
  });
  const parts = lastBody(t.fake).contents[1].parts;
  assertEquals(parts[0].thoughtSignature, "c2lnLW9uZQ==");
  assertEquals(parts[1].thoughtSignature, undefined);
});

Deno.test("gemini tools: a client that drops the signature is covered by the cache", async () => {
  await using t = await setup();
  t.fake.respond = () => ({
    functionCalls: [{
      name: "get_weather",
      args: { city: "Oslo" },
      thoughtSignature: "c2lnLXR3bw==",
    }],
  });
  const res = await t.client.chat.completions.create({
    model: "gemini-3.8-flash",
    messages: [{ role: "user", content: "weather?" }],
    tools: [weather],
  });
  const call = res.choices[0].message
    .tool_calls![0] as OpenAI.Chat.ChatCompletionMessageFunctionToolCall;
  t.fake.respond = () => ({ text: "cold" });
  // Rebuilt from scratch, as LangChain-style clients do: no extra_content.
  const next = await t.client.chat.completions.create({
    model: "gemini-3.8-flash",
    messages: [
      { role: "user", content: "weather?" },
      {
        role: "assistant",
        content: null,
        tool_calls: [{ id: call.id, type: "function", function: call.function }],
      },
      { role: "tool", tool_call_id: call.id, content: "-5C" },
    ],
    tools: [weather],
  });
  assertEquals(next.choices[0].message.content, "cold");
  assertEquals(lastBody(t.fake).contents[1].parts[0].thoughtSignature, "c2lnLXR3bw==");

  // A call nobody knows (another server's id) gets the placeholder signature on Gemini 3, which the
  // API would otherwise refuse with 400.
  const unknown = await t.client.chat.completions.create({
    model: "gemini-3.8-flash",
    messages: [
      { role: "user", content: "weather?" },
      {
        role: "assistant",
        content: null,
        tool_calls: [{ id: "call_elsewhere", type: "function", function: call.function }],
      },
      { role: "tool", tool_call_id: "call_elsewhere", content: "-5C" },
    ],
    tools: [weather],
  });
  assertEquals(unknown.choices[0].message.content, "cold");
  assertEquals(
    lastBody(t.fake).contents[1].parts[0].thoughtSignature,
    "skip_thought_signature_validator",
  );
});

const simple: OpenAI.Chat.ChatCompletionTool = {
  type: "function",
  function: {
    name: "get_weather",
    parameters: {
      type: "object",
      properties: { city: { type: "string" }, days: { type: "integer" } },
      required: ["city"],
    },
  },
};

Deno.test("gemini tools: gemini.tc switches to the prompt emulator", async () => {
  const on = configSchema.parse({ gemini: { tc: true } });
  const off = configSchema.parse({});
  const gemini = createGeminiProvider(testDeps());
  assertEquals(gemini.resolve("gemini-2.5-flash", on)?.toolMode, "emulated");
  assertEquals(gemini.resolve("gemini-2.5-flash", off)?.toolMode, "native");
  // Through the gateway: the emulator puts the tools in the prompt, the model answers with a
  // tool-call block, the client gets a real tool call; no native declarations reach Gemini.
  await using t = await setup({ gemini: { tc: true } });
  const promptOf = (
    b: {
      contents: { parts: Record<string, unknown>[] }[];
      systemInstruction?: { parts: { text?: string }[] };
    },
  ) => JSON.stringify([b.systemInstruction ?? null, b.contents]);
  t.fake.respond = (b) => {
    const prompt = promptOf(b);
    if (!prompt.includes("get_weather")) return { text: "no tools offered" };
    if (prompt.includes("sunny and 21")) return { text: "It is sunny, 21 degrees." };
    return {
      text: `<tool_call>\n${
        JSON.stringify({ name: "get_weather", arguments: { city: "Paris", days: 1 } })
      }\n</tool_call>`,
      pieceSize: 6,
    };
  };
  const first = await t.client.chat.completions.create({
    model: "gemini-2.0-flash",
    messages: [{ role: "user", content: "weather in Paris?" }],
    tools: [simple],
  });
  assertEquals(first.choices[0].finish_reason, "tool_calls");
  const call = first.choices[0].message
    .tool_calls![0] as OpenAI.Chat.ChatCompletionMessageFunctionToolCall;
  assertEquals(call.function.name, "get_weather");
  assertEquals(JSON.parse(call.function.arguments), { city: "Paris", days: 1 });
  const second = await t.client.chat.completions.create({
    model: "gemini-2.0-flash",
    messages: [
      { role: "user", content: "weather in Paris?" },
      first.choices[0].message as OpenAI.Chat.ChatCompletionMessageParam,
      { role: "tool", tool_call_id: call.id, content: "sunny and 21" },
    ],
    tools: [simple],
  });
  assertEquals(second.choices[0].message.content, "It is sunny, 21 degrees.");
  for (const b of t.fake.bodies()) {
    assertEquals(b.tools, undefined);
    assertEquals(b.toolConfig, undefined);
    // Tool history went as text, not as functionCall/functionResponse parts.
    assert(!JSON.stringify(b.contents).includes("functionCall"));
  }
});
