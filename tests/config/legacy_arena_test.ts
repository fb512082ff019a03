/**
 * Retired config sections: `lmsys` is read into `arena` where its keys still mean the same, the
 * rest is dropped, and every key gets a warning naming its line.
 */
import { assert, assertEquals } from "../assert.ts";
import { parseConfig } from "../../src/config/mod.ts";

Deno.test("config: lmsys keys that still mean the same move to arena, each with a warning", () => {
  const { config, warnings } = parseConfig(
    [
      "lmsys:",
      "  base-url: https://arena.example",
      "  proxies: socks5://127.0.0.1:1080",
      "  concurrency: 2",
      "  fn: [49, 109]",
      "  flow: 3",
      "  refusals: []",
    ].join("\n"),
    "config.yaml",
  );
  assertEquals(config.arena["base-url"], "https://arena.example");
  assertEquals(config.arena.proxies, "socks5://127.0.0.1:1080");
  assertEquals(config.arena.concurrency, 2);
  assert(!("lmsys" in config));
  assertEquals(warnings, [
    "config.yaml:2:3: 'lmsys.base-url' is deprecated; read as 'arena.base-url'",
    "config.yaml:3:3: 'lmsys.proxies' is deprecated; read as 'arena.proxies'",
    "config.yaml:4:3: 'lmsys.concurrency' is deprecated; read as 'arena.concurrency'",
    "config.yaml:5:3: 'lmsys.fn' is deprecated and ignored: LMSYS's gradio chat is gone; arena.ai replaced it (docs/arena.md)",
    "config.yaml:6:3: 'lmsys.flow' is deprecated and ignored: LMSYS's gradio chat is gone; arena.ai replaced it (docs/arena.md)",
    "config.yaml:7:3: 'lmsys.refusals' is deprecated and ignored: LMSYS's gradio chat is gone; arena.ai replaced it (docs/arena.md)",
  ]);
});

Deno.test("config: arena's own keys win, the gradio hosts do not carry over, odd values are dropped", () => {
  const both = parseConfig(
    "arena:\n  base-url: https://mine.example\nlmsys:\n  base-url: https://other.example\n",
    "c.yaml",
  );
  assertEquals(both.config.arena["base-url"], "https://mine.example");
  assert(both.warnings[0].includes("ignored ('arena.base-url' is set)"), both.warnings[0]);
  const old = parseConfig("lmsys:\n  base-url: https://lmarena.ai\n", "c.yaml");
  assertEquals(old.config.arena["base-url"], "https://arena.ai");
  assert(old.warnings[0].includes("served the gradio app"), old.warnings[0]);
  const odd = parseConfig("lmsys: yes\n", "c.yaml");
  assertEquals(odd.warnings, [
    "c.yaml:1:1: 'lmsys' is deprecated and ignored: LMSYS's gradio chat is gone; arena.ai replaced it (docs/arena.md)",
  ]);
  // No lmsys section, no warning.
  assertEquals(parseConfig("arena:\n  cookies: [a]\n", "c.yaml").warnings, []);
});
