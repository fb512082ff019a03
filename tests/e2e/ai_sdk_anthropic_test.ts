/**
 * The Messages API end to end with the Vercel AI SDK's Anthropic provider (`@ai-sdk/anthropic`):
 * `generateText` and `streamText`, a tool loop run by the SDK (`stopWhen`) on native tools (the
 * fake OpenAI-compatible upstream) and on emulated tools (the fake tool LLM, `tc: true`), reasoning
 * as the SDK reads it, and errors as the SDK's own.
 */
import { createAnthropic } from "@ai-sdk/anthropic";
import { APICallError, generateText, jsonSchema, stepCountIs, streamText, tool } from "ai";
import { assert, assertEquals, assertInstanceOf, assertRejects } from "../assert.ts";
import { type ChatBody, startFakeOpenAi } from "../fakes/openai.ts";
import { startFakeToolLlm, weatherOf } from "../fakes/tool_llm.ts";
import { startGateway } from "../helpers.ts";

async function setup() {
  const upstream = await startFakeOpenAi();
  const llm = await startFakeToolLlm({ models: ["tool-model"] });
  const gw = await startGateway({
    "custom-llm": [
      { prefix: "up", "base-url": upstream.baseUrl, models: ["gpt-4o-mini"] },
      { prefix: "web", "base-url": llm.baseUrl, tc: true, models: ["tool-model"] },
    ],
    server: { password: ["gateway-pass"] },
  });
  // The provider appends /messages to its base URL, which ends in /v1.
  const anthropic = createAnthropic({ baseURL: `${gw.origin}/v1`, apiKey: "gateway-pass" });
  return {
    upstream,
    llm,
    gw,
    anthropic,
    async [Symbol.asyncDispose]() {
      await gw.close();
      await upstream.close();
      await llm.close();
    },
  };
}

function weatherTool(ran: string[]) {
  return tool({
    description: "Current weather of a city",
    inputSchema: jsonSchema<{ city: string }>({
      type: "object",
      properties: { city: { type: "string" } },
      required: ["city"],
    }),
    execute: ({ city }) => {
      ran.push(city);
      return Promise.resolve(weatherOf(city));
    },
  });
}

Deno.test("AI SDK generateText through the Messages API: text, usage, finish reason", async () => {
  await using t = await setup();
  const result = await generateText({
    model: t.anthropic("up/gpt-4o-mini"),
    system: "Be brief.",
    prompt: "ping",
    maxOutputTokens: 50,
  });
  assertEquals(result.text, "Hello! You said: ping");
  assertEquals(result.finishReason, "stop");
  assert((result.usage.inputTokens ?? 0) > 0 && (result.usage.outputTokens ?? 0) > 0);
  const sent = t.upstream.chatBodies()[0];
  assertEquals(sent.messages, [
    { role: "system", content: "Be brief." },
    { role: "user", content: "ping" },
  ]);
  assertEquals(sent.max_tokens, 50);
});

Deno.test("AI SDK streamText: reasoning and text deltas", async () => {
  await using t = await setup();
  t.upstream.respond = () => ({ reasoning: "Considering.", text: "Streamed answer." });
  const result = streamText({
    model: t.anthropic("up/gpt-4o-mini"),
    prompt: "go",
    maxOutputTokens: 2048,
    providerOptions: { anthropic: { thinking: { type: "enabled", budgetTokens: 1024 } } },
  });
  let text = "";
  for await (const piece of result.textStream) text += piece;
  assertEquals(text, "Streamed answer.");
  assertEquals(await result.reasoningText, "Considering.");
  assertEquals(await result.finishReason, "stop");
});

Deno.test("AI SDK tool loop on native tools: the SDK runs the tool, the upstream answers", async () => {
  await using t = await setup();
  t.upstream.respond = (body: ChatBody) => {
    const last = body.messages.at(-1)!;
    if (last.role === "tool") return { text: `Paris: ${String(last.content)}` };
    return { toolCalls: [{ name: "get_weather", arguments: { city: "Paris" } }] };
  };
  const ran: string[] = [];
  const result = await generateText({
    model: t.anthropic("up/gpt-4o-mini"),
    prompt: "Weather in Paris?",
    maxOutputTokens: 200,
    tools: { get_weather: weatherTool(ran) },
    stopWhen: stepCountIs(3),
  });
  assertEquals(ran, ["Paris"]);
  assertEquals(result.steps.length, 2);
  assertEquals(result.text, `Paris: ${weatherOf("Paris")}`);
  assertEquals(result.steps[0].finishReason, "tool-calls");
});

Deno.test("AI SDK tool loop on emulated tools: streamText with two calls at once", async () => {
  await using t = await setup();
  const ran: string[] = [];
  const result = streamText({
    model: t.anthropic("web/tool-model"),
    prompt: "What is the weather in Paris and Tokyo?",
    maxOutputTokens: 200,
    tools: { get_weather: weatherTool(ran) },
    stopWhen: stepCountIs(3),
  });
  let text = "";
  for await (const piece of result.textStream) text += piece;
  assertEquals(ran.sort(), ["Paris", "Tokyo"]);
  assert(text.includes("Here is what I found"), text);
  assertEquals(t.llm.views.length, 2);
  assertEquals(t.llm.views[1].results.length, 2);
});

Deno.test("AI SDK errors: an unknown model is the SDK's APICallError with status 404", async () => {
  await using t = await setup();
  const err = await assertRejects(() =>
    generateText({
      model: t.anthropic("nope/none"),
      prompt: "x",
      maxOutputTokens: 10,
      maxRetries: 0,
    })
  );
  assertInstanceOf(err, APICallError);
  assertEquals(err.statusCode, 404);
  assert(err.message.includes("nope/none"), err.message);
});
