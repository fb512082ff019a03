/**
 * The fake Gemini API refuses what the real one refuses, so that the provider tests mean
 * something: a fake that accepted anything would pass a broken provider.
 */
import { assertEquals, assertMatch } from "../../assert.ts";
import { startFakeGemini } from "../../fakes/gemini.ts";
import { KEY } from "./_setup.ts";

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
        "gemini-3-pro-preview",
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
    ];
    for (const [body, status, re, model, key] of cases) {
      const r = await post(body, model, key === undefined ? KEY : key);
      assertEquals(r.status, status, JSON.stringify(body));
      assertMatch(r.body.error.message, re);
      assertEquals(r.body.error.code, status);
    }
    // What the provider sends passes.
    assertEquals((await post({ contents: [user] })).status, 200);
  } finally {
    await fake.close();
  }
});
