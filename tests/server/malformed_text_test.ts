/**
 * Malformed text in a request (lone UTF-16 surrogates, broken percent-escapes) is a 400 naming
 * the field or read tolerantly, never a 500 (issue 15, item 9).
 */
import { assert, assertEquals, assertMatch } from "../assert.ts";
import { startGateway } from "../helpers.ts";
import { toGatewayError } from "../../src/openai/errors.ts";
import { buildPrompt } from "../../src/providers/you/web/prompt.ts";
import { checkArguments } from "../../src/toolcall/schema.ts";

/** A gateway that closes when the test's scope ends. */
async function gateway(config: Record<string, unknown> = {}) {
  const gw = await startGateway(config);
  return Object.assign(gw, { [Symbol.asyncDispose]: () => gw.close() });
}

async function post(origin: string, body: unknown): Promise<Response> {
  return await fetch(origin + "/v1/chat/completions", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

Deno.test("you.com: a lone surrogate in a prompt is sent as U+FFFD, not a 500", async () => {
  const p = buildPrompt([{ role: "user", content: "hi \ud800 there" }], {
    fileTokens: 12000,
    notice: "n",
  });
  assertEquals(p.query, "hi \ud800 there");
  assertEquals(p.file, undefined);
  // The web mode builds a URL query from the prompt (where the surrogate once threw).
  await using gw = await gateway({
    you: { mode: "web", cookies: ["stytch_session=abcdefghijklmnop"], clearance: false },
  });
  const res = await post(gw.origin, {
    model: "you/gpt_4o",
    messages: [{ role: "user", content: "<echo />hi \udc00 there" }],
  });
  assertEquals(res.status, 200);
  assertMatch((await res.json()).choices[0].message.content, /\[q\]\nhi .* there/);
});

Deno.test("gemini: a data: URL with a broken escape is a 400 naming the part", async () => {
  await using gw = await gateway({ gemini: { keys: ["AIzaFakeKeyForMalformedTests01"] } });
  const res = await post(gw.origin, {
    model: "gemini-1.5-flash",
    messages: [{
      role: "user",
      content: [
        { type: "text", text: "<echo />look" },
        { type: "image_url", image_url: { url: "data:image/png,%E0%A4%A" } },
      ],
    }],
  });
  assertEquals(res.status, 400);
  const body = await res.json();
  assertEquals(body.error.param, "messages[0].content");
  assertMatch(body.error.message, /malformed percent-escape/);
});

Deno.test("a $ref with a broken escape is read as written", () => {
  const schema = { $ref: "#/$defs/%E0%A4%A", $defs: { "%E0%A4%A": { type: "object" } } };
  const r = checkArguments(schema, { a: 1 });
  assertEquals(r.issues, []);
  assertEquals(checkArguments(schema, "x").issues.length, 1);
});

Deno.test("the catch-all answers a URIError that slipped through with 400, not 500", () => {
  let thrown: unknown;
  try {
    decodeURIComponent("%E0%A4%A");
  } catch (err) {
    thrown = err;
  }
  const e = toGatewayError(thrown);
  assertEquals(e.status, 400);
  assertEquals(e.code, "malformed_text");
  assert(!e.message.includes("internal"));
});
