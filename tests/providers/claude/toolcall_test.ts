/**
 * Tool calls through the prompt emulator with claude.ai behind: the official `openai` client sends
 * tools, the fake claude.ai answers with a `<tool_call>` block (streamed in small pieces), then
 * with the answer once the tool result is in the conversation.
 */
import OpenAI from "openai";
import { assert, assertEquals, assertStringIncludes } from "../../assert.ts";
import { startFakeClaudeWeb } from "../../fakes/claude_web.ts";
import { startGateway } from "../../helpers.ts";
import { streamToolCalls, toolTurn } from "../web_helpers.ts";

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

Deno.test("claude: an emulated tool call round trip (streamed call, then the answer)", async () => {
  const fake = await startFakeClaudeWeb([{}]);
  const gw = await startGateway({
    server: { password: ["gateway-pass"], "ca-file": fake.caFile },
    claude: { "base-url": fake.origin, cookies: fake.accounts.map((a) => a.sessionKey) },
  });
  try {
    fake.respond = (call) => {
      const paste = call.body.attachments[0].extracted_content;
      // The tool's result is in the conversation: answer from it.
      if (paste.includes("18°C, light rain")) {
        return { text: "It is 18°C and raining in Paris.", pieceSize: 5 };
      }
      assertStringIncludes(paste, "<tools>");
      assertStringIncludes(paste, "get_weather");
      return {
        text: '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>',
        pieceSize: 4,
      };
    };
    const client = new OpenAI({ baseURL: gw.url, apiKey: "gateway-pass", maxRetries: 0 });
    const messages: OpenAI.Chat.ChatCompletionMessageParam[] = [
      { role: "user", content: "What is the weather in Paris?" },
    ];
    const { calls, text, finish } = await streamToolCalls(client, {
      model: "claude",
      messages,
      tools: [weatherTool],
    });
    assertEquals(finish, "tool_calls");
    assertEquals(text.trim(), "");
    assertEquals(calls.length, 1);
    assertEquals(calls[0].name, "get_weather");
    assertEquals(JSON.parse(calls[0].args), { city: "Paris" });
    assert(calls[0].id?.startsWith("call_"));

    messages.push(...toolTurn(calls[0], "18°C, light rain"));
    const second = await client.chat.completions.create({
      model: "claude",
      messages,
      tools: [weatherTool],
    });
    assertEquals(second.choices[0].finish_reason, "stop");
    assertEquals(second.choices[0].message.content, "It is 18°C and raining in Paris.");
    const paste = fake.completions[1].body.attachments[0].extracted_content;
    assertStringIncludes(paste, "18°C, light rain");
  } finally {
    await gw.close();
    await fake.close();
  }
});
