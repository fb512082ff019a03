/**
 * Older image and interpreter configurations load with warnings only: the original adapter's
 * keys (`hf.*`, top-level `llm`, `magnify`, `domain`, camel-case `interpreter.*`) and every
 * image/interpreter key of this gateway before the 2026 round, each retired key mapped or
 * ignored with a warning that says what replaced it; and such a configuration still draws
 * through the running server.
 */
import OpenAI from "openai";
import { assert, assertEquals, assertStringIncludes } from "../assert.ts";
import { parseConfig } from "../../src/config/mod.ts";
import { startGateway } from "../helpers.ts";
import { startFakeSpace } from "../fakes/gradio_spaces.ts";
import { generate, inputsOf } from "../images/helpers.ts";

const fixture = (name: string) =>
  Deno.readTextFileSync(new URL(`./fixtures/${name}`, import.meta.url));

/** The one warning about `key` (by the file position's key text), failing when absent. */
function warningAbout(warnings: string[], text: string): string {
  const found = warnings.filter((w) => w.includes(text));
  assertEquals(found.length, 1, `one warning about ${text}:\n${warnings.join("\n")}`);
  return found[0];
}

Deno.test("legacy config: the original adapter's image and interpreter keys load with warnings", () => {
  const { config, warnings } = parseConfig(fixture("original_images.yaml"), "config.yaml");
  // Each warning names the file and line of the old key.
  assertStringIncludes(
    warningAbout(warnings, "'domain' is now 'server.domain'"),
    "config.yaml:5:1",
  );
  assertEquals(config.server.domain, "http://127.0.0.1:8080");
  assertStringIncludes(warningAbout(warnings, "'llm' is now 'images.llm'"), "config.yaml:8:1");
  assertEquals(config.images.llm, {
    model: "bing",
    token: "xxx-llm-token-0001",
    "base-url": "http://127.0.0.1:8081/v1",
  });
  warningAbout(warnings, "'magnify' is now 'images.magnify'");
  assertEquals(config.images.magnify, ["bigjpg-key-0000000001"]);
  // hf blocks: onto the spaces of the same name; rmbg ignored.
  warningAbout(warnings, "'hf.dalle-4k' is now the images.spaces entry 'dalle-4k'; root, fn, data");
  warningAbout(warnings, "'hf.animagine-xl-3.1' is now the images.spaces entry 'animagine-xl'");
  warningAbout(warnings, "'hf.dalle-3-xl' is now the images.spaces entry 'dalle-3-xl'; root");
  warningAbout(warnings, "'hf.rmbg' ignored");
  const space = (name: string) => config.images.spaces.find((s) => s.name === name)!;
  assertEquals(space("dalle-4k").root, "https://ijohn07-dalle-4k.hf.space");
  assertEquals(typeof space("dalle-4k").data, "string");
  assertEquals(space("animagine-xl").root, "https://cagliostrolab-animagine-xl-3-1.hf.space");
  assertEquals(config.images.spaces.length, 6);
  // interpreter: camel-case keys renamed, ws's new meaning told.
  warningAbout(warnings, "'interpreter.baseUrl' is now 'interpreter.base-url'");
  warningAbout(warnings, "'interpreter.echoCode' is now 'interpreter.echo-code'");
  warningAbout(warnings, "'interpreter.ws: true' now means open-interpreter 0.4's own websocket");
  assertEquals(config.interpreter["base-url"], "http://127.0.0.1:8000");
  assertEquals([config.interpreter["echo-code"], config.interpreter.ws], [false, true]);
  // Nothing else: no unknown-key warnings for these keys.
  assert(!warnings.some((w) => w.includes("unknown key")), warnings.join("\n"));
});

Deno.test("legacy config: every image and interpreter key of 2024 loads, mapped or ignored", () => {
  const { config, warnings } = parseConfig(fixture("previous_images.yaml"), "c.yaml");
  const space = (name: string) => config.images.spaces.find((s) => s.name === name);
  // The prodia spaces are gone: a mirror keeps its entry, the plain 2024 host is ignored.
  assertStringIncludes(
    warningAbout(warnings, "'images.prodia-sd': the prodia spaces are gone"),
    "kept as the images.spaces entry 'prodia-sd'",
  );
  assertEquals(space("prodia-sd")?.root, "https://prodia-mirror.example.com");
  assertEquals(space("prodia-sd")?.fn, [0, 15]);
  assertStringIncludes(
    warningAbout(warnings, "'images.prodia-xl'"),
    "now draws on 'flux-dev'",
  );
  // The kept spaces get the values of their 2024 keys.
  warningAbout(warnings, "'images.dalle-4k' is now the images.spaces entry 'dalle-4k'");
  assertEquals(space("dalle-4k")?.root, "https://prithivmlmods-dalle-4k.hf.space");
  assertEquals(space("dalle-4k")?.proxies, false);
  assertEquals(space("google-xl")?.fn, [2, 0]);
  assertEquals(space("animagine-xl")?.root, "https://cagliostrolab-animagine-xl-3-1.hf.space");
  // A retired default backend maps to its successor.
  warningAbout(warnings, "'images.default-backend: prodia-xl' is now 'flux-dev'");
  assertEquals(config.images["default-backend"], "flux-dev");
  // playground is off unless enabled: its configured tokens get a notice.
  warningAbout(warnings, "images.playground is off by default now");
  assertEquals(config.images.playground.enabled, false);
  assertEquals(config.images.playground.tokens, ["abcdefgh-1234-5678-9abc-def012345678"]);
  // The rest loads as it was.
  assertEquals(config.images.llm["base-url"], "http://127.0.0.1:9999/v1");
  assertEquals([config.images.timeout, config.images["max-size"]], [180, 20]);
  assertEquals(config.interpreter["echo-code"], true);
  assertEquals([config.interpreter.concurrency, config.interpreter.cooldown], [1, 30]);
  assert(!warnings.some((w) => w.includes("unknown key")), warnings.join("\n"));
  assertEquals(warnings.length, 8, warnings.join("\n"));
});

Deno.test("legacy config: an hf block with the original's data template draws through the gateway", async () => {
  const space = await startFakeSpace("dalle-4k");
  const yaml = fixture("original_images.yaml")
    .replace("https://ijohn07-dalle-4k.hf.space", space.origin)
    .replace(/^llm:[\s\S]*?(?=\n# hf)/m, "");
  const gw = await startGateway(yaml);
  try {
    assert(gw.logs.some((l) => l.includes("'hf.dalle-4k' is now the images.spaces entry")));
    const client = new OpenAI({ baseURL: gw.url, apiKey: "sk-dalle-4k", maxRetries: 0 });
    const res = await generate(client, { model: "dall-e-3", prompt: 'a "quoted" fox' });
    assertEquals(res.data!.length, 1);
    const inputs = inputsOf(space);
    assertEquals(inputs[0], 'a "quoted" fox');
    assertEquals(typeof inputs[4], "number");
    assertEquals(inputs.slice(5), [1024, 1024, 6, true]);
    assertEquals(res.data![0].revised_prompt, 'a "quoted" fox');
  } finally {
    await gw.close();
    await space.close();
  }
});
