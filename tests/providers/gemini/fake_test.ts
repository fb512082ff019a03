/**
 * The fake Gemini API refuses what the real one refuses, so that the provider tests mean
 * something: a fake that accepted anything would pass a broken provider. And for each refusal of
 * today's rules, the gateway's request for the same client intent is accepted.
 */
import { assertEquals, assertMatch } from "../../assert.ts";
import { startFakeGemini } from "../../fakes/gemini.ts";
import { KEY, setup } from "./_setup.ts";

Deno.test("fake gemini: refuses unknown fields, bad roles, schemas and missing signatures", async () => {
  const fake = await startFakeGemini();
  try {
    const post = async (body: unknown, model = "gemini-2.0-flash", key: string | null = KEY) => {
      const res = await fetch(`${fake.origin}/v1beta/models/${model}:generateContent`, {
        method: "POST",
        headers: { "content-type": "application/json", ...(key ? { "x-goog-api-key": key } : {}) },
        body: JSON.stringify(body),
      });
      return { status: res.status, body: await res.json() };
    };
    const user = { role: "user", parts: [{ text: "hi" }] };
    const gc = (generationConfig: Record<string, unknown>) => ({
      contents: [user],
      generationConfig,
    });
    const cases: [unknown, number, RegExp, string?, (string | null)?][] = [
      [{ contents: [user] }, 403, /unregistered callers/, undefined, null],
      [{ contents: [user] }, 400, /API key not valid/, undefined, "wrong"],
      [{ contents: [user] }, 404, /is not found/, "gemini-0"],
      [{ contents: [] }, 400, /contents is not specified/],
      [{ contents: [user], temperatur: 1 }, 400, /Unknown name "temperatur"/],
      [{ contents: [{ role: "assistant", parts: [{ text: "x" }] }] }, 400, /valid role/],
      [{ contents: [{ role: "user", parts: [{ text: "" }] }] }, 400, /empty text parameter/],
      [
        { contents: [user], tools: [{ functionDeclarations: [{ name: "1x" }] }] },
        400,
        /Invalid function name/,
      ],
      [
        {
          contents: [user],
          tools: [{
            functionDeclarations: [{ name: "f", parameters: { type: "object", properties: {} } }],
          }],
        },
        400,
        /non-empty for OBJECT/,
      ],
      [
        {
          contents: [user],
          tools: [{
            functionDeclarations: [{
              name: "f",
              parameters: {
                type: "object",
                additionalProperties: false,
                properties: { a: { type: "string" } },
              },
            }],
          }],
        },
        400,
        /Unknown name "additionalProperties"/,
      ],
      [
        {
          contents: [user, { role: "model", parts: [{ functionCall: { name: "f", args: {} } }] }, {
            role: "user",
            parts: [{ functionResponse: { name: "f", response: { a: 1 } } }],
          }],
        },
        400,
        /missing a thought_signature/,
        "gemini-3.8-flash",
      ],
      [
        {
          contents: [user, { role: "model", parts: [{ functionCall: { name: "f", args: {} } }] }, {
            role: "user",
            parts: [{ functionResponse: { name: "f", response: [1] } }],
          }],
        },
        400,
        /Struct/,
      ],
      [{ contents: [user] }, 404, /is not found/, "gemini-1.5-pro-latest"],
      [{ contents: [user] }, 404, /is not found/, "gemini-3-pro-preview"],
      [
        gc({ thinkingConfig: { thinkingBudget: 1024, thinkingLevel: "low" } }),
        400,
        /only one of thinking budget and thinking level/,
        "gemini-3.8-flash",
      ],
      [
        gc({ thinkingConfig: { thinkingLevel: "low" } }),
        400,
        /Thinking level is not supported/,
        "gemini-2.5-flash",
      ],
      [
        gc({ thinkingConfig: { thinkingLevel: "minimal" } }),
        400,
        /Invalid thinking level/,
        "gemini-3.1-pro-preview",
      ],
      [
        gc({ thinkingConfig: { thinkingBudget: 0 } }),
        400,
        /only works in thinking mode/,
        "gemini-2.5-pro",
      ],
      [
        gc({ thinkingConfig: { thinkingBudget: 100 } }),
        400,
        /between 512 and 24576/,
        "gemini-2.5-flash-lite",
      ],
      [
        gc({ thinkingConfig: { thinkingBudget: 1024 } }),
        400,
        /Thinking is not supported/,
        "gemini-2.0-flash",
      ],
      [gc({ presencePenalty: 0.5 }), 400, /Penalty is not enabled/, "gemini-2.5-flash"],
      [gc({ frequencyPenalty: -1 }), 400, /Penalty is not enabled/, "gemini-3.8-flash"],
      [gc({ topK: 65 }), 400, /supported range is from 1 \(inclusive\) to 65/, "gemini-2.5-flash"],
      [gc({ topK: 41 }), 400, /to 41 \(exclusive\)/, "gemini-2.0-flash"],
      [gc({ candidateCount: 2 }), 400, /Multiple candidates is not enabled/, "gemini-3.8-flash"],
    ];
    for (const [body, status, re, model, key] of cases) {
      const r = await post(body, model, key === undefined ? KEY : key);
      assertEquals(r.status, status, JSON.stringify(body));
      assertMatch(r.body.error.message, re);
      assertEquals(r.body.error.code, status);
    }
    // What the provider sends passes; a zero penalty is not checked.
    assertEquals((await post({ contents: [user] })).status, 200);
    assertEquals(
      (await post(gc({ presencePenalty: 0, topK: 64 }), "gemini-2.5-flash")).status,
      200,
    );
    const embed = await fetch(
      `${fake.origin}/v1beta/models/text-embedding-004:batchEmbedContents`,
      {
        method: "POST",
        headers: { "content-type": "application/json", "x-goog-api-key": KEY },
        body: JSON.stringify({
          requests: [{ model: "models/text-embedding-004", content: { parts: [{ text: "x" }] } }],
        }),
      },
    );
    assertEquals(embed.status, 404);
    await embed.body?.cancel();
  } finally {
    await fake.close();
  }
});

Deno.test("fake gemini: the gateway's requests for the same intents are accepted", async () => {
  await using t = await setup();
  const user = { role: "user", content: "hi" };
  const asks: Record<string, unknown>[] = [
    { model: "gemini-3.8-flash", reasoning: { effort: "high", budget_tokens: 4096 } },
    { model: "gemini-2.5-flash", reasoning_effort: "high" },
    { model: "gemini-3.1-pro-preview", reasoning_effort: "minimal" },
    { model: "gemini-2.5-pro", reasoning_effort: "none" },
    { model: "gemini-2.5-flash-lite", reasoning: { budget_tokens: 100 } },
    { model: "gemini-2.0-flash", reasoning_effort: "low" },
    { model: "gemini-2.5-flash", presence_penalty: 0.5, frequency_penalty: 1 },
    { model: "gemini-3.8-flash", frequency_penalty: -1 },
    { model: "gemini-2.5-flash", top_k: 65 },
    { model: "gemini-2.0-flash", top_k: 41 },
    { model: "gemini-3.8-flash", n: 2 },
    { model: "gemini-1.5-pro-latest" },
    { model: "gemini-3-pro-preview" },
  ];
  for (const ask of asks) {
    const res = await fetch(`${t.gw.url}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${KEY}` },
      body: JSON.stringify({ messages: [user], ...ask }),
    });
    assertEquals(res.status, 200, `${JSON.stringify(ask)}: ${await res.clone().text()}`);
    await res.body?.cancel();
  }
});
