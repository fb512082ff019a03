/**
 * Clients whose default speaks the Responses API, end to end through the gateway: the AI SDK's
 * `openai(model)` (`@ai-sdk/openai`) and the OpenAI Agents SDK (`@openai/agents`) with its
 * default (Responses) model, each running a tool loop, on a native-tools model (the fake OpenAI
 * API) and on an emulated-tools one (the fake tool LLM reading the emulation prompt).
 */
import { assert, assertEquals, assertStringIncludes } from "../assert.ts";
import { createOpenAI } from "@ai-sdk/openai";
import { generateText, jsonSchema, stepCountIs, streamText, tool } from "ai";
import {
  Agent,
  OpenAIProvider,
  Runner,
  setTracingDisabled,
  tool as agentTool,
} from "@openai/agents";
import { z } from "zod";
import { startFakeOpenAi } from "../fakes/openai.ts";
import { startFakeToolLlm, weatherAgent, weatherOf } from "../fakes/tool_llm.ts";
import { startGateway } from "../helpers.ts";

const KEY = "sk-upstream-key-777777";

/** The native model: asks get_weather for the city in the question, then answers from it. */
function nativeWeather(body: { messages: { role: string; content?: unknown }[] }) {
  const last = body.messages.at(-1)!;
  if (last.role === "tool") return { text: `The weather is ${String(last.content)}.` };
  return {
    text: "Let me check.",
    toolCalls: [{ name: "get_weather", arguments: { city: "Paris" } }],
  };
}

async function setup() {
  const native = await startFakeOpenAi({ keys: [KEY], models: ["gpt-4.1"] });
  native.respond = nativeWeather;
  const llm = await startFakeToolLlm({ keys: [KEY], models: ["tiny"] });
  llm.script = weatherAgent;
  const gw = await startGateway({
    "custom-llm": [
      { prefix: "up", "base-url": native.baseUrl, "api-key": [KEY], models: ["gpt-4.1"] },
      { prefix: "tc", "base-url": llm.baseUrl, "api-key": [KEY], models: ["tiny"], tc: true },
    ],
  });
  return {
    native,
    llm,
    gw,
    async [Symbol.asyncDispose]() {
      await gw.close();
      await native.close();
      await llm.close();
    },
  };
}

const weatherSchema = {
  type: "object",
  properties: { city: { type: "string", description: "City name" } },
  required: ["city"],
  additionalProperties: false,
} as const;

for (const model of ["up/gpt-4.1", "tc/tiny"]) {
  Deno.test(`AI SDK openai(model) (Responses): a tool loop on ${model}`, async () => {
    await using t = await setup();
    const openai = createOpenAI({ baseURL: t.gw.url, apiKey: "sk-client-placeholder" });
    const ran: string[] = [];
    const tools = {
      get_weather: tool({
        description: "Current weather of a city",
        inputSchema: jsonSchema<{ city: string }>(weatherSchema as never),
        execute: ({ city }) => {
          ran.push(city);
          return Promise.resolve(weatherOf(city));
        },
      }),
    };
    const result = await generateText({
      model: openai(model),
      prompt: "What is the weather in Paris?",
      tools,
      stopWhen: stepCountIs(3),
    });
    assertEquals(ran, ["Paris"]);
    assertStringIncludes(result.text, "18°C, light rain");
    assertEquals(result.steps.length, 2);
    assertEquals(result.steps[0].toolCalls[0].toolName, "get_weather");
    assert(result.usage.inputTokens! > 0);
    if (model.startsWith("up/")) {
      // The AI SDK sends the first turn's message back as an `item_reference` (it stores by
      // default): the upstream got its text all the same.
      const second = t.native.chatBodies()[1].messages as { role: string; content?: unknown }[];
      assertEquals(second.map((m) => m.role), ["user", "assistant", "tool"]);
      assertEquals(second[1].content, "Let me check.");
    }

    // Streamed, the same loop.
    const streamed = streamText({
      model: openai(model),
      prompt: "What is the weather in Paris?",
      tools,
      stopWhen: stepCountIs(3),
    });
    const types = new Set<string>();
    for await (const part of streamed.fullStream) {
      if (part.type === "error") throw part.error;
      types.add(part.type);
    }
    assert(types.has("tool-call") && types.has("text-delta"), [...types].join(", "));
    assertStringIncludes(await streamed.text, "18°C, light rain");
  });

  Deno.test(`Agents SDK default (Responses) model: a tool loop on ${model}`, async () => {
    await using t = await setup();
    setTracingDisabled(true);
    const runner = new Runner({
      modelProvider: new OpenAIProvider({
        baseURL: t.gw.url,
        apiKey: "sk-client-placeholder",
        useResponses: true,
      }),
    });
    const ran: string[] = [];
    const agent = new Agent({
      name: "Weather",
      instructions: "Answer weather questions with the tool.",
      model,
      tools: [agentTool({
        name: "get_weather",
        description: "Current weather of a city",
        parameters: z.object({ city: z.string() }),
        execute: ({ city }) => {
          ran.push(city);
          return weatherOf(city);
        },
      })],
    });
    const result = await runner.run(agent, "What is the weather in Paris?");
    assertEquals(ran, ["Paris"]);
    assertStringIncludes(String(result.finalOutput), "18°C, light rain");

    const streamed = await runner.run(agent, "What is the weather in Paris?", { stream: true });
    for await (const _ of streamed.toTextStream()) { /* drain */ }
    await streamed.completed;
    assertStringIncludes(String(streamed.finalOutput), "18°C, light rain");
    assertEquals(ran, ["Paris", "Paris"]);
  });
}
