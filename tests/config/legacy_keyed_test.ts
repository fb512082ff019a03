/**
 * The original's keys for Gemini and Cohere (`google.*`, `cohere.safety: NONE`) load with
 * warnings that say what replaced them, never a refusal to start; and a gateway started with them
 * uses them.
 */
import OpenAI from "openai";
import { assert, assertEquals, assertMatch } from "../assert.ts";
import { parseConfig } from "../../src/config/mod.ts";
import { startFakeGemini } from "../fakes/gemini.ts";
import { startFakeCohere } from "../fakes/cohere.ts";
import { startGateway } from "../helpers.ts";

const ORIGINAL = `# the original's keys
google:
  safes:
    - category: HARM_CATEGORY_HARASSMENT
      threshold: BLOCK_ONLY_HIGH
  tc: true
cohere:
  safety: NONE
`;

Deno.test("legacy config: google.* is read as gemini.*, cohere.safety NONE as OFF, with warnings", () => {
  const { config, warnings } = parseConfig(ORIGINAL, "config.yaml");
  assertEquals(config.gemini.safes, [
    { category: "HARM_CATEGORY_HARASSMENT", threshold: "BLOCK_ONLY_HIGH" },
  ]);
  assertEquals(config.gemini.tc, true);
  assertEquals(config.cohere.safety, "OFF");
  assertEquals(warnings, [
    "config.yaml:3:3: 'google.safes' is now 'gemini.safes'; read as that",
    "config.yaml:6:3: 'google.tc' is now 'gemini.tc'; read as that",
    `config.yaml:8:3: 'cohere.safety' "NONE" is Cohere v1's name: v2 calls it OFF (models from command-r7b-12-2024 on get CONTEXTUAL, the least they take); read as "OFF"`,
  ]);
});

Deno.test("legacy config: today's key wins over the original's; odd values never stop the start", () => {
  const text = `google:
  tc: true
  colour: red
gemini:
  tc: false
cohere:
  safety: strict
`;
  const { config, warnings } = parseConfig(text, "c.yaml");
  assertEquals(config.gemini.tc, false);
  assertEquals(config.cohere.safety, "STRICT");
  assert(
    warnings.includes("c.yaml:2:3: 'google.tc' ignored: 'gemini.tc' is set"),
    warnings.join("\n"),
  );
  assert(warnings.some((w) => /'google\.colour' is now 'gemini\.colour'/.test(w)));
  assert(warnings.some((w) => /unknown key 'gemini\.colour' ignored/.test(w)));
  assert(warnings.some((w) => /'cohere\.safety' "strict" is written STRICT/.test(w)));
  // An empty `google:` (the original's example has its children commented out) says nothing.
  assertEquals(parseConfig("google:\n#  safes: []\n", "x.yaml").warnings, []);
  const scalar = parseConfig("google: yes\n", "x.yaml");
  assertEquals(scalar.warnings, ["x.yaml:1:1: 'google' ignored: not a section"]);
});

Deno.test("legacy config: a gateway started with the original's keys uses them", async () => {
  const gemini = await startFakeGemini();
  const cohere = await startFakeCohere();
  const gw = await startGateway(
    `${
      ORIGINAL.replace("  tc: true\n", "")
    }  base-url: ${cohere.origin}\ngemini:\n  base-url: ${gemini.origin}\n`,
  );
  try {
    assert(gw.logs.some((l) => /'google\.safes' is now 'gemini\.safes'/.test(l)));
    const g = new OpenAI({
      baseURL: gw.url,
      apiKey: "AIzaSyFakeKey0000000000000000000000001",
      maxRetries: 0,
    });
    await g.chat.completions.create({
      model: "gemini-2.5-flash",
      messages: [{ role: "user", content: "hi" }],
    });
    assertEquals(gemini.bodies().at(-1)!.safetySettings, [
      { category: "HARM_CATEGORY_HARASSMENT", threshold: "BLOCK_ONLY_HIGH" },
    ]);
    const c = new OpenAI({
      baseURL: gw.url,
      apiKey: "CoFakeKey0000000000000000000000000000001",
      maxRetries: 0,
    });
    for (
      const [model, mode] of [["command-r-08-2024", "OFF"], ["command-a-03-2025", "CONTEXTUAL"]]
    ) {
      await c.chat.completions.create({ model, messages: [{ role: "user", content: "hi" }] });
      assertEquals(cohere.bodies().at(-1)!.safety_mode, mode);
    }
    assertMatch(gw.logs.join("\n"), /'cohere\.safety' "NONE"/);
  } finally {
    await gw.close();
    await gemini.close();
    await cohere.close();
  }
});
