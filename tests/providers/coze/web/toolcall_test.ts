/**
 * Coze behind the server's prompt tool-call emulator and role-marker cut-off, end to end with the
 * official `openai` client: tools described in the query, `<tool_call>` blocks in the bot's
 * answer become OpenAI tool calls, tool results go back in the next query.
 */
import OpenAI from "openai";
import { assert, assertEquals, assertStringIncludes } from "../../../assert.ts";
import { setup } from "./helpers.ts";

const tools: OpenAI.Chat.ChatCompletionTool[] = [{
  type: "function",
  function: {
    name: "get_weather",
    description: "The weather of a city",
    parameters: {
      type: "object",
      properties: { city: { type: "string" } },
      required: ["city"],
    },
  },
}];

const CALL = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>';

Deno.test("tool call through coze: the bot's <tool_call> becomes an OpenAI tool call", async () => {
  await using t = await setup();
  t.fake.respond = () => ({ text: CALL, pieceSize: 7 });
  const res = await t.client.chat.completions.create({
    model: "coze",
    messages: [{ role: "user", content: "Weather in Paris?" }],
    tools,
  });
  const choice = res.choices[0];
  assertEquals(choice.finish_reason, "tool_calls");
  const call = choice.message.tool_calls![0] as OpenAI.Chat.ChatCompletionMessageFunctionToolCall;
  assertEquals(call.function.name, "get_weather");
  assertEquals(JSON.parse(call.function.arguments), { city: "Paris" });
  // The tools were described to the bot in its query.
  const query = t.fake.chats[0].query;
  assertStringIncludes(query, "get_weather");
  assertStringIncludes(query, "<|user|>");
  assert(!("tools" in t.fake.chats[0].body));

  // The result goes back as text in the next query, and the bot's answer is plain content.
  t.fake.respond = () => ({ text: "It is 18°C, 100% sunny." });
  const second = await t.client.chat.completions.create({
    model: "coze",
    messages: [
      { role: "user", content: "Weather in Paris?" },
      choice.message as OpenAI.Chat.ChatCompletionMessageParam,
      { role: "tool", tool_call_id: call.id, content: "18C sunny" },
    ],
    tools,
  });
  assertEquals(second.choices[0].message.content, "It is 18°C, 100% sunny.");
  assertEquals(second.choices[0].finish_reason, "stop");
  const q2 = t.fake.chats[1].query;
  assertStringIncludes(q2, "18C sunny");
  assertStringIncludes(q2, "get_weather");
});

Deno.test("tool call through coze, streamed: one indexed call with id and name first", async () => {
  await using t = await setup();
  t.fake.respond = () => ({ pieces: ["Let me check. ", ...CALL.match(/.{1,5}/gs)!], delayMs: 2 });
  const stream = await t.client.chat.completions.create({
    model: "coze",
    messages: [{ role: "user", content: "Weather in Paris?" }],
    tools,
    stream: true,
  });
  let text = "";
  let finish: string | null = null;
  const deltas: OpenAI.Chat.ChatCompletionChunk.Choice.Delta.ToolCall[] = [];
  for await (const chunk of stream) {
    const c = chunk.choices[0];
    if (!c) continue;
    text += c.delta.content ?? "";
    deltas.push(...(c.delta.tool_calls ?? []));
    if (c.finish_reason) finish = c.finish_reason;
  }
  assertEquals(finish, "tool_calls");
  assertEquals(text.trim(), "Let me check.");
  assert(deltas.length > 0 && deltas.every((d) => d.index === 0));
  assertEquals(deltas[0].function?.name, "get_weather");
  assert(typeof deltas[0].id === "string" && deltas[0].id.length > 0);
  const args = deltas.map((d) => d.function?.arguments ?? "").join("");
  assertEquals(JSON.parse(args), { city: "Paris" });
});

Deno.test("a bot that writes the next turn is cut off at the role marker", async () => {
  await using t = await setup();
  t.fake.respond = () => ({ pieces: ["Sure, ", "50% done.", "<|end|>\n<|us", "er|>\nand more"] });
  const res = await t.client.chat.completions.create({
    model: "coze",
    messages: [{ role: "user", content: "go" }],
  });
  assertEquals(res.choices[0].message.content, "Sure, 50% done.");
});

Deno.test("<echo /> answers with the query coze would get, without calling it", async () => {
  await using t = await setup();
  const res = await t.client.chat.completions.create({
    model: "coze",
    messages: [{ role: "system", content: "<echo />Be brief." }, { role: "user", content: "50%?" }],
  });
  assertEquals(
    res.choices[0].message.content,
    "<|system|>\nBe brief.<|end|>\n<|user|>\n50%?<|end|>\n<|assistant|>",
  );
  assertEquals(t.fake.api.requests.length, 0);
});
