/**
 * End to end through the running gateway: the `custom` provider with `tc: true` in front of the
 * scripted fake LLM (which has no native tools and answers in the emulation's format), driven by
 * the official `openai` package and by the Vercel AI SDK (`streamText` with
 * `@ai-sdk/openai-compatible`).
 */
import { assert, assertEquals, assertMatch, assertStringIncludes } from "../assert.ts";
import OpenAI from "openai";
import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import { jsonSchema, stepCountIs, streamText, tool } from "ai";
import { callText, startFakeToolLlm, weatherAgent, weatherOf } from "../fakes/tool_llm.ts";
import { abortedWithin, parseSseBody, startGateway } from "../helpers.ts";

const weatherTool: OpenAI.Chat.ChatCompletionFunctionTool = {
  type: "function",
  function: {
    name: "get_weather",
    description: "Current weather of a city",
    parameters: {
      type: "object",
      properties: {
        city: { type: "string", description: "City name" },
        unit: { type: "string", enum: ["c", "f"] },
      },
      required: ["city"],
      additionalProperties: false,
    },
  },
};
const timeTool: OpenAI.Chat.ChatCompletionFunctionTool = {
  type: "function",
  function: {
    name: "get_time",
    description: "Current time in a time zone",
    parameters: {
      type: "object",
      properties: { timezone: { type: "string" } },
      required: ["timezone"],
    },
  },
};

async function setup(config: Record<string, unknown> = {}) {
  const llm = await startFakeToolLlm({ keys: ["sk-llm-key-0000001"], models: ["tiny-llm"] });
  const gw = await startGateway({
    "custom-llm": [{
      prefix: "tc",
      "base-url": llm.baseUrl,
      "api-key": ["sk-llm-key-0000001"],
      tc: true,
      models: ["tiny-llm"],
    }],
    // The client's key opens the gateway; the configured key goes upstream.
    server: { password: ["gateway-pass"] },
    ...config,
  });
  const client = new OpenAI({ baseURL: gw.url, apiKey: "gateway-pass", maxRetries: 0 });
  return {
    llm,
    gw,
    client,
    async [Symbol.asyncDispose]() {
      await gw.close();
      await llm.close();
    },
  };
}

function tokensOf(text: string): number {
  // The fake's own usage rule (tests/fakes/openai.ts).
  return Math.max(1, Math.ceil(text.length / 4));
}

Deno.test("openai SDK: a two-step tool conversation completes (call, result, answer)", async () => {
  await using t = await setup();
  t.llm.script = (view, body) => {
    // Only the call, with the white space models like to put around it.
    if (view.results.length === 0) return `\n${callText("get_weather", { city: "Paris" })}\n`;
    return weatherAgent(view, body);
  };
  const messages: OpenAI.Chat.ChatCompletionMessageParam[] = [
    { role: "system", content: "You are a helpful assistant." },
    { role: "user", content: "What is the weather in Paris?" },
  ];
  const first = await t.client.chat.completions.create({
    model: "tc/tiny-llm",
    messages,
    tools: [weatherTool, timeTool],
  });
  const choice = first.choices[0];
  assertEquals(choice.finish_reason, "tool_calls");
  assertEquals(choice.message.content, null);
  const calls = choice.message.tool_calls!;
  assertEquals(calls.length, 1);
  const call = calls[0];
  if (call.type !== "function") throw new Error("not a function call");
  assertMatch(call.id, /^call_[A-Za-z0-9]{24}$/);
  assertEquals(call.function.name, "get_weather");
  assertEquals(JSON.parse(call.function.arguments), { city: "Paris" });

  // The upstream got no tools, the prompt with them, and answered with a call block.
  const sent1 = t.llm.chatBodies()[0] as { messages: { role: string; content: string }[] };
  assertEquals("tools" in sent1, false);
  assertEquals(t.llm.views[0].tools.map((x) => x.name), ["get_weather", "get_time"]);
  // The prompt lists the schema compacted: `additionalProperties` is left out.
  const { additionalProperties: _a, ...listed } = weatherTool.function.parameters!;
  assertEquals(t.llm.views[0].tools[0].parameters, listed);
  assertStringIncludes(sent1.messages[0].content, "You are a helpful assistant.");
  // Usage counts the emulation's prompt (what the upstream reported for it), not the client's.
  assertEquals(first.usage!.prompt_tokens, tokensOf(JSON.stringify(sent1.messages)));
  assert(first.usage!.completion_tokens > 0);

  messages.push(choice.message);
  messages.push({ role: "tool", tool_call_id: call.id, content: weatherOf("Paris") });
  const second = await t.client.chat.completions.create({
    model: "tc/tiny-llm",
    messages,
    tools: [weatherTool, timeTool],
  });
  assertEquals(second.choices[0].finish_reason, "stop");
  assertEquals(
    second.choices[0].message.content,
    "Here is what I found: get_weather says 18°C, light rain.",
  );
  assertEquals(second.choices[0].message.tool_calls, undefined);
  // The history went up as text in the same format: the call, then its result by name.
  const view = t.llm.views[1];
  assertEquals(view.calls, [{ name: "get_weather", arguments: { city: "Paris" } }]);
  assertEquals(view.results, [{ name: "get_weather", content: "18°C, light rain" }]);
});

Deno.test("openai SDK: runTools runs the tools and ends with the model's answer", async () => {
  await using t = await setup();
  const ran: string[] = [];
  const runner = t.client.chat.completions.runTools({
    model: "tc/tiny-llm",
    messages: [{ role: "user", content: "What's the weather in Tokyo and Berlin?" }],
    tools: [{
      type: "function",
      function: {
        name: "get_weather",
        description: "Current weather of a city",
        parameters: weatherTool.function.parameters!,
        parse: JSON.parse,
        function: (args: { city: string }) => {
          ran.push(args.city);
          return weatherOf(args.city);
        },
      },
    }],
  });
  const answer = await runner.finalContent();
  assertEquals(ran, ["Tokyo", "Berlin"]);
  assertEquals(
    answer,
    "Here is what I found: get_weather says 24°C, sunny; get_weather says 12°C, cloudy.",
  );
  assertEquals(t.llm.chatBodies().length, 2);
});

Deno.test("openai SDK streaming: text streams first, calls arrive with stable indexes", async () => {
  await using t = await setup();
  const stream = t.client.chat.completions.stream({
    model: "tc/tiny-llm",
    messages: [{ role: "user", content: "weather in Paris and Tokyo, and the time?" }],
    tools: [weatherTool, timeTool],
    stream_options: { include_usage: true },
  });
  const contents: string[] = [];
  stream.on("content", (delta) => contents.push(delta));
  const final = await stream.finalChatCompletion();
  const msg = final.choices[0].message;
  assertEquals(final.choices[0].finish_reason, "tool_calls");
  assertEquals(msg.content, "Let me look that up.");
  // The text came in several pieces (streamed, not held until the end).
  assert(contents.length >= 3, `text came in ${contents.length} pieces`);
  const calls = msg.tool_calls!.map((c) => c.type === "function" ? c.function : undefined);
  assertEquals(calls.map((c) => c?.name), ["get_weather", "get_weather", "get_time"]);
  assertEquals(calls.map((c) => JSON.parse(c!.arguments)), [
    { city: "Paris" },
    { city: "Tokyo" },
    { timezone: "Europe/Paris" },
  ]);
  const ids = new Set(msg.tool_calls!.map((c) => c.id));
  assertEquals(ids.size, 3);
});

Deno.test("raw SSE: id, type and name only in each call's first delta, indexes 0..n-1", async () => {
  await using t = await setup();
  const res = await fetch(`${t.gw.url}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: "Bearer gateway-pass" },
    body: JSON.stringify({
      model: "tc/tiny-llm",
      stream: true,
      messages: [{ role: "user", content: "weather in Paris and Berlin" }],
      tools: [weatherTool],
    }),
  });
  assertEquals(res.status, 200);
  const { events, done } = parseSseBody(await res.text());
  assert(done);
  type Chunk = {
    choices: {
      delta: { content?: string; tool_calls?: Record<string, unknown>[] };
      finish_reason: string | null;
    }[];
  };
  const deltas = (events as Chunk[]).flatMap((e) => e.choices[0]?.delta.tool_calls ?? []);
  const seen = new Set<number>();
  const args = new Map<number, string>();
  for (const d of deltas) {
    const i = d.index as number;
    const fn = d.function as { name?: string; arguments?: string };
    if (!seen.has(i)) {
      seen.add(i);
      assertMatch(String(d.id), /^call_/);
      assertEquals(d.type, "function");
      assertEquals(typeof fn.name, "string");
    } else {
      assertEquals(d.id, undefined);
      assertEquals(d.type, undefined);
      assertEquals(fn.name, undefined);
    }
    args.set(i, (args.get(i) ?? "") + (fn.arguments ?? ""));
  }
  assertEquals([...seen], [0, 1]);
  assertEquals(JSON.parse(args.get(0)!), { city: "Paris" });
  assertEquals(JSON.parse(args.get(1)!), { city: "Berlin" });
  const last = events[events.length - 1] as Chunk;
  assertEquals(last.choices[0].finish_reason, "tool_calls");
  // No content chunk after the calls (the model's trailing text is not part of the answer).
  const texts = (events as Chunk[]).map((e) => e.choices[0]?.delta.content ?? "").join("");
  assertEquals(texts, "Let me look that up.");
});

Deno.test("Vercel AI SDK streamText: tool calls merge by index and the loop finishes", async () => {
  await using t = await setup();
  const provider = createOpenAICompatible({
    name: "gateway",
    baseURL: t.gw.url,
    apiKey: "gateway-pass",
    includeUsage: true,
  });
  const ran: string[] = [];
  const result = streamText({
    model: provider.chatModel("tc/tiny-llm"),
    prompt: "What is the weather in Paris and Tokyo?",
    tools: {
      get_weather: tool({
        description: "Current weather of a city",
        inputSchema: jsonSchema<{ city: string; unit?: "c" | "f" }>(
          weatherTool.function.parameters as never,
        ),
        execute: ({ city }) => {
          ran.push(city);
          return Promise.resolve(weatherOf(city));
        },
      }),
    },
    stopWhen: stepCountIs(3),
  });
  const parts: string[] = [];
  const inputs: unknown[] = [];
  for await (const part of result.fullStream) {
    parts.push(part.type);
    if (part.type === "tool-call") inputs.push(part.input);
    if (part.type === "error") throw part.error;
  }
  assertEquals(inputs, [{ city: "Paris" }, { city: "Tokyo" }]);
  assertEquals(ran, ["Paris", "Tokyo"]);
  assert(parts.includes("tool-input-start") || parts.includes("tool-call"));
  const steps = await result.steps;
  assertEquals(steps.length, 2);
  assertEquals(steps[0].finishReason, "tool-calls");
  assertEquals(steps[1].finishReason, "stop");
  assertEquals(
    await result.text,
    "Here is what I found: get_weather says 18°C, light rain; get_weather says 24°C, sunny.",
  );
});

Deno.test("an invalid call gets one corrective request; the corrected call is what the client sees", async () => {
  await using t = await setup();
  t.llm.script = (view) => {
    if (view.turn === 0) return callText("get_wether", { town: "Paris" });
    // The correction request: the fake sees the error and writes the call properly.
    assertStringIncludes(view.lastUser, "could not be used");
    assertStringIncludes(view.lastUser, '"get_wether" is not one of the available tools');
    return callText("get_weather", { city: "Paris" });
  };
  const res = await t.client.chat.completions.create({
    model: "tc/tiny-llm",
    messages: [{ role: "user", content: "weather in Paris" }],
    tools: [weatherTool],
  });
  const call = res.choices[0].message.tool_calls![0];
  if (call.type !== "function") throw new Error("not a function call");
  assertEquals(call.function.name, "get_weather");
  assertEquals(JSON.parse(call.function.arguments), { city: "Paris" });
  assertEquals(t.llm.chatBodies().length, 2);
  // Both upstream calls are counted.
  const bodies = t.llm.chatBodies() as { messages: unknown[] }[];
  assertEquals(
    res.usage!.prompt_tokens,
    bodies.reduce((n, b) => n + tokensOf(JSON.stringify(b.messages)), 0),
  );
});

Deno.test("tool_choice none: tools are context only and a call block stays text", async () => {
  await using t = await setup();
  t.llm.script = (view) => {
    assertStringIncludes(view.system, "do not call any tool now");
    assertEquals(view.reminder, undefined);
    return "No tools needed.";
  };
  const res = await t.client.chat.completions.create({
    model: "tc/tiny-llm",
    messages: [{ role: "user", content: "weather in Paris" }],
    tools: [weatherTool],
    tool_choice: "none",
  });
  assertEquals(res.choices[0].message.content, "No tools needed.");
  assertEquals(res.choices[0].finish_reason, "stop");
});

Deno.test("tool_choice with an unknown function name is a 400 naming tool_choice", async () => {
  await using t = await setup();
  const res = await fetch(`${t.gw.url}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: "Bearer gateway-pass" },
    body: JSON.stringify({
      model: "tc/tiny-llm",
      messages: [{ role: "user", content: "hi" }],
      tools: [weatherTool],
      tool_choice: { type: "function", function: { name: "nope" } },
    }),
  });
  assertEquals(res.status, 400);
  const body = await res.json();
  assertEquals(body.error.param, "tool_choice");
  assertEquals(t.llm.chatBodies().length, 0);
});

Deno.test("toolcall.enabled false: tools are dropped and the upstream sees a plain chat", async () => {
  await using t = await setup({ toolcall: { enabled: false } });
  t.llm.script = (view) => {
    assertEquals(view.tools, []);
    return "plain";
  };
  const res = await t.client.chat.completions.create({
    model: "tc/tiny-llm",
    messages: [{ role: "user", content: "weather in Paris" }],
    tools: [weatherTool],
  });
  assertEquals(res.choices[0].message.content, "plain");
});

Deno.test("a client that leaves mid-answer aborts the emulated upstream request", async () => {
  await using t = await setup();
  t.llm.script = () => ({ text: "word ".repeat(400), delayMs: 20, pieceSize: 5 });
  const res = await fetch(`${t.gw.url}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: "Bearer gateway-pass" },
    body: JSON.stringify({
      model: "tc/tiny-llm",
      stream: true,
      messages: [{ role: "user", content: "talk" }],
      tools: [weatherTool],
    }),
  });
  const reader = res.body!.getReader();
  await reader.read();
  await reader.read();
  await reader.cancel();
  const rec = t.llm.requests.find((r) => r.path === "/v1/chat/completions")!;
  await abortedWithin(rec);
  assert(rec.wasAborted);
});

Deno.test("parallel_tool_calls false: one call, and the upstream stream is not read further", async () => {
  await using t = await setup();
  t.llm.script = () => ({
    text:
      `${callText("get_weather", { city: "Paris" })}\n${
        callText("get_weather", { city: "Rome" })
      }\n` +
      "and then a very long hallucinated explanation ".repeat(200),
    delayMs: 5,
    pieceSize: 20,
  });
  const stream = t.client.chat.completions.stream({
    model: "tc/tiny-llm",
    messages: [{ role: "user", content: "weather in Paris and Rome" }],
    tools: [weatherTool],
    parallel_tool_calls: false,
  });
  const final = await stream.finalChatCompletion();
  const calls = final.choices[0].message.tool_calls!;
  assertEquals(calls.length, 1);
  if (calls[0].type !== "function") throw new Error("not a function call");
  assertEquals(JSON.parse(calls[0].function.arguments), { city: "Paris" });
  assertEquals(final.choices[0].finish_reason, "tool_calls");
  const rec = t.llm.requests.find((r) => r.path === "/v1/chat/completions")!;
  // The gateway closed the upstream stream after the first call instead of reading 9 KB more.
  await abortedWithin(rec, undefined, "the upstream stream to be closed after the first call");
  assert(rec.wasAborted);
});
