/**
 * Tool-schema checking is bounded by the nodes it visits (issue 15, item 5): an `anyOf`/`$ref`
 * chain of 2^24 branches is a 400 naming the limit, and the server answers others meanwhile.
 */
import OpenAI from "openai";
import { assert, assertEquals, assertMatch, assertThrows } from "../assert.ts";
import { callText, startFakeToolLlm } from "../fakes/tool_llm.ts";
import { startGateway, within } from "../helpers.ts";
import { checkArguments, SchemaBudget, SchemaBudgetExceeded } from "../../src/toolcall/schema.ts";

/** `d0 → anyOf[d1, d1] → ... → d{levels}`: 2^levels ways to fail a value. */
function chain(levels: number) {
  const defs: Record<string, unknown> = {};
  for (let i = 0; i < levels; i++) {
    defs[`d${i}`] = { anyOf: [{ $ref: `#/$defs/d${i + 1}` }, { $ref: `#/$defs/d${i + 1}` }] };
  }
  defs[`d${levels}`] = { type: "string", enum: ["ok"] };
  return { type: "object", properties: { x: { $ref: "#/$defs/d0" } }, $defs: defs };
}

Deno.test("schema budget: the check stops past its nodes, a small schema passes", () => {
  assertThrows(
    () => checkArguments(chain(24), { x: 1 }, new SchemaBudget(10_000)),
    SchemaBudgetExceeded,
  );
  assertEquals(checkArguments(chain(3), { x: "ok" }, new SchemaBudget(10_000)).issues, []);
  assertEquals(checkArguments(chain(3), { x: 1 }, new SchemaBudget(10_000)).issues.length, 1);
});

Deno.test("an exponential tool schema on an emulated model is a 400 naming the limit", async () => {
  const llm = await startFakeToolLlm({ models: ["tiny-llm"] });
  const gw = await startGateway({
    "custom-llm": [{ prefix: "tc", "base-url": llm.baseUrl, tc: true, models: ["tiny-llm"] }],
  });
  try {
    llm.script = (view) =>
      view.lastUser.includes("weather")
        ? { text: callText("deep", { x: 1 }) }
        : { text: "plain answer" };
    const client = new OpenAI({ baseURL: gw.url, apiKey: "x", maxRetries: 0 });
    const evil = client.chat.completions.create({
      model: "tc/tiny-llm",
      messages: [{ role: "user", content: "weather?" }],
      tools: [{ type: "function", function: { name: "deep", parameters: chain(24) } }],
    }).catch((e) => e);
    // Another client meanwhile: answered within a generous ceiling.
    await new Promise((r) => setTimeout(r, 100));
    const t0 = performance.now();
    const other = await client.chat.completions.create({
      model: "tc/tiny-llm",
      messages: [{ role: "user", content: "hello" }],
    });
    const waited = performance.now() - t0;
    assertEquals(other.choices[0].message.content, "plain answer");
    assert(waited < 1000, `another client waited ${Math.round(waited)} ms`);
    const err = await within(evil, 20_000, "the exponential schema request");
    assertEquals(err.status, 400);
    assertEquals(err.code, "schema_too_complex");
    assertMatch(
      err.message,
      /'deep' took more than 50000 schema nodes .*server\.limits\.schema-nodes/,
    );
  } finally {
    await gw.close();
    await llm.close();
  }
});
