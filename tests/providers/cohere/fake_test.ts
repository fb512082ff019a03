/**
 * The fake Cohere API refuses what the real v2 API refuses, so that the provider tests mean
 * something; and for each refusal, the gateway's request for the same client intent is accepted.
 */
import { assertEquals, assertMatch } from "../../assert.ts";
import { startFakeCohere } from "../../fakes/cohere.ts";
import { KEY, lastBody, setup } from "./_setup.ts";

const user = { role: "user", content: "hi" };
const tool = { type: "function", function: { name: "f", parameters: { type: "object" } } };

Deno.test("fake cohere: refuses v1 fields, out-of-range values, wrong safety modes, bad keys", async () => {
  const fake = await startFakeCohere();
  try {
    const post = async (body: Record<string, unknown>, key: string | null = KEY) => {
      const res = await fetch(`${fake.origin}/v2/chat`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          ...(key ? { authorization: `Bearer ${key}` } : {}),
        },
        body: JSON.stringify({ model: "command-a-03-2025", messages: [user], ...body }),
      });
      return { status: res.status, body: await res.json() };
    };
    const cases: [Record<string, unknown>, number, RegExp, (string | null)?][] = [
      [{}, 401, /no api key supplied/, null],
      [{}, 401, /invalid api token/, "co-wrong"],
      [{ message: "hi" }, 400, /parameter message is not a valid field/],
      [{ chat_history: [] }, 400, /parameter chat_history is not a valid field/],
      [{ preamble: "x" }, 400, /parameter preamble is not a valid field/],
      [{ connectors: [{ id: "web-search" }] }, 400, /parameter connectors is not a valid field/],
      [{ p: 1 }, 400, /p must be between 0.01 and 0.99/],
      [{ temperature: 1.5 }, 400, /temperature must be between 0 and 1/],
      [{ k: 501 }, 400, /k must be between 0 and 500/],
      [{ presence_penalty: -0.5 }, 400, /presence_penalty must be between 0 and 1/],
      [{ frequency_penalty: 1.5 }, 400, /frequency_penalty must be between 0 and 1/],
      [{ stop_sequences: ["1", "2", "3", "4", "5", "6"] }, 400, /at most 5/],
      [{ model: "command-r7b-12-2024", safety_mode: "OFF" }, 400, /OFF is not supported/],
      [{ safety_mode: "CONTEXTUAL", tools: [tool] }, 400, /in combination with tools/],
      [
        { model: "command-r-08-2024", tool_choice: "REQUIRED", tools: [tool] },
        400,
        /tool_choice is not supported/,
      ],
      [
        { response_format: { type: "json_object" }, tools: [tool] },
        400,
        /not supported with tools/,
      ],
      [{ thinking: { type: "enabled" } }, 400, /thinking is not supported/],
      [
        { tools: [{ ...tool, function: { ...tool.function, strict: true } }] },
        400,
        /function\.strict is not a valid field/,
      ],
      [
        { messages: [user, { role: "tool", tool_call_id: "x", content: "{}" }] },
        400,
        /does not match any tool call/,
      ],
      [{ model: "command-r" }, 404, /deprecated on September 15, 2025/],
      [{ model: "command-xyz" }, 404, /not found/],
    ];
    for (const [body, status, re, key] of cases) {
      const r = await post(body, key === undefined ? KEY : key);
      assertEquals(r.status, status, JSON.stringify(body));
      assertMatch(r.body.message, re);
      assertEquals(typeof r.body.id, "string");
    }
    assertEquals((await post({ k: 500, p: 0.99, temperature: 1 })).status, 200);
    const gen = await fetch(`${fake.origin}/v1/generate`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${KEY}` },
      body: JSON.stringify({ model: "command", prompt: "hi" }),
    });
    assertEquals(gen.status, 404);
    await gen.body?.cancel();
  } finally {
    await fake.close();
  }
});

Deno.test("fake cohere: the gateway's requests for the same intents are accepted", async () => {
  await using t = await setup({ cohere: { safety: "OFF" } });
  const fn = {
    type: "function" as const,
    function: { name: "f", strict: true, parameters: { type: "object" } },
  };
  const asks: Record<string, unknown>[] = [
    { model: "command", messages: [{ role: "system", content: "s" }, user] },
    { model: "command-r7b-12-2024", messages: [user], top_p: 1, temperature: 2, top_k: 900 },
    { model: "command-a-03-2025", messages: [user], presence_penalty: -2, frequency_penalty: 2 },
    { model: "command-a-03-2025", messages: [user], stop: ["1", "2", "3", "4", "5", "6"] },
    {
      model: "command-r7b-12-2024",
      messages: [user],
      tools: [fn],
      response_format: { type: "json_object" },
    },
    { model: "command-r-08-2024", messages: [user], tools: [fn], tool_choice: "required" },
    { model: "command-a-03-2025", messages: [user], reasoning_effort: "high" },
  ];
  for (const body of asks) {
    const res = await fetch(`${t.gw.url}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${KEY}` },
      body: JSON.stringify(body),
    });
    assertEquals(res.status, 200, `${JSON.stringify(body)}: ${await res.clone().text()}`);
    await res.body?.cancel();
  }
  assertEquals(lastBody(t.fake).model, "command-a-03-2025");
  assertEquals(t.fake.bodies().length, asks.length);
});
