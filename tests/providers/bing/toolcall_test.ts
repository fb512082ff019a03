/**
 * Tool calls through the prompt emulator with Bing behind: the official `openai` client sends
 * tools, the fake ChatHub answers with a `<tool_call>` block in cumulative updates (records split
 * across frames), then with the answer once the tool result is in the conversation. A call whose
 * arguments hold `[1]` survives the citation filter.
 */
import OpenAI from "openai";
import { assert, assertEquals, assertStringIncludes } from "../../assert.ts";
import { startFakeBing } from "../../fakes/bing.ts";
import { settled, startGateway } from "../../helpers.ts";
import { streamToolCalls, toolTurn } from "../web_helpers.ts";

const lookupTool: OpenAI.Chat.ChatCompletionFunctionTool = {
  type: "function",
  function: {
    name: "lookup_orders",
    description: "Looks up orders by id",
    parameters: {
      type: "object",
      properties: { ids: { type: "array", items: { type: "integer" } } },
      required: ["ids"],
    },
  },
};

Deno.test("bing: an emulated tool call round trip (call with [1] in its arguments, then the answer)", async () => {
  const fake = await startFakeBing();
  const gw = await startGateway({
    server: { password: ["gateway-pass"] },
    bing: { "base-url": fake.origin, "hub-url": fake.hubUrl },
  });
  try {
    fake.respond = (inv) => {
      const all = JSON.stringify(inv.hub);
      if (all.includes("order 1 shipped")) {
        return { text: "Your order 1 has shipped[^1^].", framing: "split" };
      }
      assertStringIncludes(all, "lookup_orders");
      return {
        text: '<tool_call>\n{"name": "lookup_orders", "arguments": {"ids": [1]}}\n</tool_call>',
        pieceSize: 3,
        framing: "split",
      };
    };
    const client = new OpenAI({ baseURL: gw.url, apiKey: "gateway-pass", maxRetries: 0 });
    const messages: OpenAI.Chat.ChatCompletionMessageParam[] = [
      { role: "system", content: "You help with orders." },
      { role: "user", content: "Where is my order 1?" },
    ];
    const { calls, text, finish } = await streamToolCalls(client, {
      model: "bing",
      messages,
      tools: [lookupTool],
    });
    assertEquals(finish, "tool_calls");
    assertEquals(text.trim(), "");
    assertEquals(calls.length, 1);
    assertEquals(calls[0].name, "lookup_orders");
    assertEquals(JSON.parse(calls[0].args), { ids: [1] });
    assert(calls[0].id?.startsWith("call_"));

    messages.push(...toolTurn(calls[0], "order 1 shipped"));
    const second = await client.chat.completions.create({
      model: "bing",
      messages,
      tools: [lookupTool],
    });
    assertEquals(second.choices[0].finish_reason, "stop");
    assertEquals(second.choices[0].message.content, "Your order 1 has shipped.");
  } finally {
    await settled(gw, "bing");
    await gw.close();
    await fake.close();
  }
});
