/**
 * Whole old configurations keep loading (issue 14.9): the original adapter's example
 * `config.yaml`, as shipped, and a file setting every key this gateway accepted before the 2026
 * round. Each loads with warnings only (never an unknown-key warning: every old key is known and
 * says what replaced it), the keys that still mean the same keep their values, and a gateway
 * started from the file answers through its custom upstream.
 */
import OpenAI from "openai";
import { assert, assertEquals, assertMatch } from "../assert.ts";
import { parseConfig } from "../../src/config/mod.ts";
import { startGateway } from "../helpers.ts";
import { startFakeOpenAi } from "../fakes/openai.ts";

const fixture = (name: string) =>
  Deno.readTextFileSync(new URL(`./fixtures/${name}`, import.meta.url));

/** The keys (`'a.b'`) the warnings are about, each warning placed at a file position. */
function warnedKeys(warnings: string[]): string[] {
  return warnings.map((w) => {
    assertMatch(w, /^config\.yaml:\d+:\d+: /, w);
    return /'([^' ]+)/.exec(w)?.[1] ?? w;
  });
}

Deno.test("the original's example config.yaml loads, every old key warned once and mapped", () => {
  const { config, warnings } = parseConfig(fixture("original_example.yaml"), "config.yaml");
  assert(!warnings.some((w) => w.includes("unknown key")), warnings.join("\n"));
  const keys = warnedKeys(warnings);
  for (
    const key of [
      "flags",
      "server-conn",
      "toolCall.id",
      "toolCall.enabled",
      "serverless",
      "serverless.headless",
      "domain",
      "llm",
      "lmsys",
      "bing.baseUrl",
      "you.helper",
      "coze.websdk-counter",
      "interpreter.baseUrl",
      "interpreter.echoCode",
      "custom-llm",
    ]
  ) {
    assertEquals(keys.filter((k) => k === key).length, 1, `${key}:\n${warnings.join("\n")}`);
  }
  // Keys that mean the same today are read silently.
  assert(!keys.some((k) => k.startsWith("claude")), warnings.join("\n"));
  // Mapped values.
  assertEquals(config.server.flags, true);
  assertEquals(config.server.domain, "http://127.0.0.1:8080");
  assertEquals(config.server.timeouts, { connect: 30, "first-byte": 120, idle: 120 });
  assertEquals(config.toolcall, { enabled: false, tasks: false });
  assertEquals(config.browser.headless, true);
  assertEquals(config.claude.cookies, ["xxx1", "xxx2"]);
  assertEquals(config.interpreter["base-url"], "http://127.0.0.1:8000");
  assertEquals(config["custom-llm"].map((e) => [e.prefix, e["base-url"]]), [
    ["custom", "http://127.0.0.1:8080/v1"],
  ]);
  assertEquals(config.images.llm["base-url"], "http://127.0.0.1:8081/v1");
});

Deno.test("the original's example config.yaml starts a gateway; custom/<model> answers", async () => {
  const upstream = await startFakeOpenAi();
  const yaml = fixture("original_example.yaml")
    .replace("baseUrl: http://127.0.0.1:8080", `baseUrl: ${upstream.origin}`);
  const gw = await startGateway(yaml);
  try {
    assert(gw.logs.some((l) => l.includes("'custom-llm' is now a list of upstreams")));
    const client = new OpenAI({ baseURL: gw.url, apiKey: "sk-any", maxRetries: 0 });
    const res = await client.chat.completions.create({
      model: "custom/gpt-4o-mini",
      messages: [{ role: "user", content: "hi" }],
    });
    assertEquals(typeof res.choices[0].message.content, "string");
    assertEquals(upstream.requests.at(-1)?.path, "/v1/chat/completions");
  } finally {
    await gw.close();
    await upstream.close();
  }
});

/** The keys of the previous schema that changed meaning, and what each warning says. */
const RETIRED: Readonly<Record<string, string>> = {
  "cohere.safety": 'read as "OFF"',
  "coze.base-url": "now coze.web-url",
  "coze.cookies": "legacy web mode",
  "coze.sign-url": "legacy web mode",
  "coze.websdk-url": "legacy web mode",
  "coze.upload-url": "legacy web mode",
  "coze.owner-wait": "legacy web mode",
  "you.base-url": "now you.web-url",
  "you.cookies": "legacy web mode",
  "you.notice": "legacy web mode",
  "you.clearance": "legacy web mode",
  "you.file-tokens": "legacy web mode",
  "bing.base-url": "ignored",
  "bing.hub-url": "ignored",
  "bing.cookies": "copilot.access-tokens",
  "bing.bundle-version": "ignored",
  "bing.concurrency": "copilot.concurrency",
  "bing.cooldown": "copilot.cooldown",
  "bing.proxies": "copilot.proxies",
  "lmsys.base-url": "arena.ai",
  "lmsys.fn": "arena.ai",
  "lmsys.models": "arena.ai",
  "lmsys.flow": "arena.ai",
  "lmsys.tries": "arena.ai",
  "lmsys.refusals": "arena.ai",
  "lmsys.concurrency": "arena.concurrency",
  "lmsys.cooldown": "arena.cooldown",
  "lmsys.proxies": "arena.proxies",
  "images.prodia-sd": "images.spaces",
  "images.prodia-xl": "flux-dev",
  "images.dalle-4k": "images.spaces",
  "images.dalle-3-xl": "images.spaces",
  "images.animagine-xl": "images.spaces",
  "images.google-xl": "images.spaces",
  "images.default-backend:": "flux-dev",
};

Deno.test("every key of the previous schema loads: retired ones warned once, the rest kept", () => {
  const { config, warnings } = parseConfig(fixture("previous_all_keys.yaml"), "config.yaml");
  assert(!warnings.some((w) => w.includes("unknown key")), warnings.join("\n"));
  const keys = warnedKeys(warnings);
  for (const [key, words] of Object.entries(RETIRED)) {
    const about = warnings.filter((_, i) => keys[i] === key);
    assertEquals(about.length, 1, `${key}:\n${warnings.join("\n")}`);
    assert(about[0].includes(words), `${key} should say '${words}': ${about[0]}`);
  }
  // One notice beyond the table: playground is off unless enabled.
  const others = keys.filter((k) => !(k in RETIRED));
  assertEquals(others.length, 1, others.join("\n"));
  assert(warnings.some((w) => w.includes("images.playground is off by default")));
  // What still means the same keeps its value.
  assertEquals(config.server.password, ["gw-password-0001"]);
  assertEquals(config.server.proxies, "http://127.0.0.1:7890");
  assertEquals(config["custom-llm"][0].headers, { "x-team": "docs" });
  assertEquals(config.gemini.keys, ["AIzaSyPreviousKey000000000000000000001"]);
  assertEquals([config.gemini.concurrency, config.gemini.thoughts], [2, true]);
  assertEquals(config.cohere.safety, "OFF");
  assertEquals(config.claude.pad, 25000);
  assertEquals(config.copilot.cooldown, 600);
  assertEquals(config.arena.cooldown, 60);
  assertEquals(config.coze["web-url"], "https://www.coze.com");
  assertEquals(config.you["web-url"], "https://you.com");
  assertEquals(config.toolcall.id, "get_weather");
  assertEquals(config.browser.args, ["--no-sandbox"]);
});

Deno.test("a gateway starts from every key of the previous schema and answers", async () => {
  const upstream = await startFakeOpenAi({ models: ["llama3.1"] });
  const yaml = fixture("previous_all_keys.yaml")
    .replace("http://127.0.0.1:11434/v1", `${upstream.origin}/v1`)
    // The test listens on loopback without going through a proxy that does not exist here.
    .replace("proxies: http://127.0.0.1:7890", "");
  const gw = await startGateway(yaml);
  try {
    const client = new OpenAI({ baseURL: gw.url, apiKey: "gw-password-0001", maxRetries: 0 });
    const res = await client.chat.completions.create({
      model: "local/llama3.1",
      messages: [{ role: "user", content: "hi" }],
    });
    assertEquals(typeof res.choices[0].message.content, "string");
    const sent = upstream.requests.at(-1)!;
    assertEquals(sent.headers.get("x-team"), "docs");
    assertEquals(sent.headers.get("authorization"), "Bearer sk-local-0001");
  } finally {
    await gw.close();
    await upstream.close();
  }
});
