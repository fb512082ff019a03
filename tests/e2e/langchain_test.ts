/**
 * LangChain's `ChatOpenAI` (`@langchain/openai`) through the gateway: tool calls with
 * `bindTools` and structured output, over Chat Completions and over the Responses API
 * (`useResponsesApi: true`), on a native-tools model.
 */
import { assertEquals } from "../assert.ts";
import { ChatOpenAI } from "@langchain/openai";
import { z } from "zod";
import { startFakeOpenAi } from "../fakes/openai.ts";
import { startGateway } from "../helpers.ts";

const KEY = "sk-upstream-key-424242";

for (const useResponsesApi of [false, true]) {
  const api = useResponsesApi ? "Responses" : "Chat Completions";
  Deno.test(`LangChain ChatOpenAI over ${api}: bindTools and structured output`, async () => {
    const upstream = await startFakeOpenAi({ keys: [KEY], models: ["gpt-4.1"] });
    // A tool call when a tool is offered under its name; JSON text when asked for a schema.
    upstream.respond = (body) => {
      const names = (body.tools ?? []).map((t) => t.function.name);
      if (names.includes("get_weather")) {
        return { toolCalls: [{ name: "get_weather", arguments: { city: "Paris" } }] };
      }
      if (names.length > 0) {
        return { toolCalls: [{ name: names[0], arguments: { city: "Paris", temp: 18 } }] };
      }
      return { text: '{"city":"Paris","temp":18}' };
    };
    const gw = await startGateway({
      "custom-llm": [{
        prefix: "up",
        "base-url": upstream.baseUrl,
        "api-key": [KEY],
        models: ["gpt-4.1"],
      }],
    });
    try {
      const llm = new ChatOpenAI({
        model: "up/gpt-4.1",
        apiKey: "sk-client-placeholder",
        configuration: { baseURL: gw.url },
        maxRetries: 0,
        useResponsesApi,
      });
      const withTools = llm.bindTools([{
        type: "function",
        function: {
          name: "get_weather",
          description: "Current weather of a city",
          parameters: { type: "object", properties: { city: { type: "string" } } },
        },
      }]);
      const msg = await withTools.invoke("Weather in Paris?");
      assertEquals(msg.tool_calls?.map((c) => [c.name, c.args]), [["get_weather", {
        city: "Paris",
      }]]);

      const structured = llm.withStructuredOutput(
        z.object({ city: z.string(), temp: z.number() }),
        { name: "weather" },
      );
      assertEquals(await structured.invoke("Paris weather as JSON"), { city: "Paris", temp: 18 });
      const paths = new Set(gw.logs.map((l) => /POST (\/v1\/\S+)/.exec(l)?.[1]).filter(Boolean));
      assertEquals([...paths], [useResponsesApi ? "/v1/responses" : "/v1/chat/completions"]);
    } finally {
      await gw.close();
      await upstream.close();
    }
  });
}
