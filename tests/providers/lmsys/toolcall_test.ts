/**
 * Tool calls through lmsys end to end: the server's prompt emulator wraps the flattened arena
 * prompt, the fake arena's model answers with a `<tool_call>` block (streamed cumulatively with
 * the cursor, as the arena does), and the official `openai` client gets OpenAI tool calls; the
 * tool's result goes back in the next turn's prompt.
 */
import OpenAI from "openai";
import { assert, assertEquals, assertMatch, assertStringIncludes } from "../../assert.ts";
import { startGateway } from "../../helpers.ts";
import { startFakeArena } from "../../fakes/gradio.ts";

const weatherTool: OpenAI.Chat.ChatCompletionFunctionTool = {
  type: "function",
  function: {
    name: "get_weather",
    description: "Current weather of a city",
    parameters: {
      type: "object",
      properties: { city: { type: "string" } },
      required: ["city"],
    },
  },
};

/** Cumulative pieces of `text`, a few characters at a time. */
function typed(text: string, step = 7): string[] {
  const out: string[] = [];
  for (let i = step; i < text.length + step; i += step) out.push(text.slice(0, i));
  return out;
}

const CALL = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>';

async function setup() {
  const arena = await startFakeArena({
    answer: (prompt) => {
      if (prompt.includes('<tool_result name="get_weather">')) {
        return typed("It is 18°C with light rain in Paris.");
      }
      if (prompt.includes("get_weather")) return typed(CALL);
      return typed("No tools here.");
    },
    gradio: { servers: ["S1"] },
  });
  const gw = await startGateway({ lmsys: { "base-url": arena.origin } });
  const client = new OpenAI({ baseURL: gw.url, apiKey: "sk-x", maxRetries: 0 });
  return {
    arena,
    gw,
    client,
    async [Symbol.asyncDispose]() {
      await gw.close();
      await arena.close();
    },
  };
}

function promptOf(body: Record<string, unknown>): string {
  return ((body.data as unknown[])[2] as { text: string }).text;
}

Deno.test("lmsys + tool emulation: a call, its result, the answer", async () => {
  await using t = await setup();
  const messages: OpenAI.Chat.ChatCompletionMessageParam[] = [
    { role: "user", content: "What is the weather in Paris?" },
  ];
  const first = await t.client.chat.completions.create({
    model: "lmsys/gpt-4o-2024-05-13",
    messages,
    tools: [weatherTool],
  });
  const choice = first.choices[0];
  assertEquals(choice.finish_reason, "tool_calls");
  assertEquals(choice.message.content, null);
  const call = choice.message.tool_calls![0];
  if (call.type !== "function") throw new Error("not a function call");
  assertMatch(call.id, /^call_/);
  assertEquals(call.function.name, "get_weather");
  assertEquals(JSON.parse(call.function.arguments), { city: "Paris" });
  // The arena got one flattened prompt carrying the tool's declaration.
  const prompt1 = promptOf(t.arena.joins[0].body);
  assertStringIncludes(prompt1, "get_weather");
  assertStringIncludes(prompt1, "<|user|>");
  assert(prompt1.endsWith("<|assistant|>\n"));

  messages.push(choice.message);
  messages.push({ role: "tool", tool_call_id: call.id, content: "18°C, light rain" });
  const second = await t.client.chat.completions.create({
    model: "lmsys/gpt-4o-2024-05-13",
    messages,
    tools: [weatherTool],
  });
  assertEquals(second.choices[0].finish_reason, "stop");
  assertEquals(second.choices[0].message.content, "It is 18°C with light rain in Paris.");
  const prompt2 = promptOf(t.arena.joins.at(-3)!.body);
  assertStringIncludes(prompt2, '<tool_result name="get_weather">');
  assertStringIncludes(prompt2, "18°C, light rain");
});

Deno.test("lmsys + tool emulation: streamed tool call deltas with a stable index", async () => {
  await using t = await setup();
  const stream = t.client.chat.completions.stream({
    model: "lmsys/gpt-4o-2024-05-13",
    messages: [{ role: "user", content: "Weather in Paris?" }],
    tools: [weatherTool],
  });
  let text = "";
  for await (const chunk of stream) {
    const d = chunk.choices[0]?.delta;
    if (d?.content) text += d.content;
    for (const tc of d?.tool_calls ?? []) assertEquals(tc.index, 0);
  }
  const final = await stream.finalChatCompletion();
  assertEquals(final.choices[0].finish_reason, "tool_calls");
  const call = final.choices[0].message.tool_calls![0];
  if (call.type !== "function") throw new Error("not a function call");
  assertEquals(JSON.parse(call.function.arguments), { city: "Paris" });
  // No markup leaked as text.
  assert(!text.includes("<tool_call"), text);
});
