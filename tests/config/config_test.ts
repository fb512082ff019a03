/**
 * config.yaml: defaults, validation messages with file, line and key, unknown keys, hot reload.
 */
import {
  assert,
  assertEquals,
  assertMatch,
  assertRejects,
  assertStringIncludes,
  assertThrows,
} from "../assert.ts";
import { ConfigError, ConfigStore, loadConfig, parseConfig } from "../../src/config/mod.ts";
import { createLogger } from "../../src/util/log.ts";
import { startGateway, waitFor } from "../helpers.ts";

Deno.test("an empty file gives every default", () => {
  const { config, warnings } = parseConfig("", "config.yaml");
  assertEquals(warnings, ["config.yaml holds no settings: every key is at its default"]);
  assertEquals(config.server.port, 8080);
  assertEquals(config.server.flags, true);
  assertEquals(config.server.password, []);
  assertEquals(config.server.timeouts, { connect: 30, "first-byte": 120, idle: 120 });
  assertEquals(config["custom-llm"], []);
  assertEquals(config.gemini["base-url"], "https://generativelanguage.googleapis.com");
  assertEquals(config.claude["base-url"], "https://claude.ai");
  assertEquals(config.copilot["base-url"], "https://copilot.microsoft.com");
  assertEquals(config.copilot.anonymous, 2);
  assertEquals([config.copilot.rpm, config.copilot.burst], [12, 4]);
  assertEquals(config.toolcall, { enabled: true, tasks: false });
});

Deno.test("a missing file starts with defaults and a warning", async () => {
  const r = await loadConfig("/nonexistent/dir/config.yaml");
  assertEquals(r.found, false);
  assertEquals(r.config.server.port, 8080);
  assertMatch(r.warnings[0], /config\.yaml not found: starting with the default configuration/);
});

Deno.test("unknown keys are warned with file, line and key, then ignored", () => {
  const text =
    "server:\n  port: 9000\n  prot: 1\nbogus: true\ncustom-llm:\n  - prefix: a\n    base-url: http://x/v1\n    colour: red\n";
  const { config, warnings } = parseConfig(text, "conf.yaml");
  assertEquals(config.server.port, 9000);
  assertEquals(
    warnings.sort(),
    [
      "conf.yaml:3:3: unknown key 'server.prot' ignored (did you mean 'server.port'?)",
      "conf.yaml:4:1: unknown key 'bogus' ignored",
      "conf.yaml:8:5: unknown key 'custom-llm[0].colour' ignored",
    ].sort(),
  );
});

Deno.test("a wrong type is refused with file, line and key", () => {
  const err = assertThrows(
    () => parseConfig('server:\n  port: 9000\n  flags: "yes"\n', "conf.yaml"),
    ConfigError,
  );
  assertMatch(err.message, /^conf\.yaml:3:3: 'server\.flags' .*boolean/);
  const err2 = assertThrows(
    () => parseConfig("custom-llm:\n  - prefix: ok\n    base-url: not a url\n", "c.yaml"),
    ConfigError,
  );
  assertMatch(err2.message, /^c\.yaml:3:5: 'custom-llm\[0\]\.base-url' must be an absolute URL/);
  const err3 = assertThrows(
    () => parseConfig("server:\n  proxies: ftp://x\n", "c.yaml"),
    ConfigError,
  );
  assertMatch(err3.message, /'server\.proxies' must be an http:\/\/, https:\/\/, socks5/);
});

Deno.test("invalid YAML is refused with its position", () => {
  const err = assertThrows(() => parseConfig("server:\n  port: [1, 2\n", "bad.yaml"), ConfigError);
  assertMatch(err.message, /^bad\.yaml:\d+:\d+: invalid YAML/);
});

Deno.test("secrets are normalised to lists and base URLs lose trailing slashes", () => {
  const { config } = parseConfig(
    "server:\n  password: single\ngemini:\n  keys: AIzaOne\n  base-url: http://127.0.0.1:9/\n",
    "c.yaml",
  );
  assertEquals(config.server.password, ["single"]);
  assertEquals(config.gemini.keys, ["AIzaOne"]);
  assertEquals(config.gemini["base-url"], "http://127.0.0.1:9");
});

Deno.test("reload: a valid edit goes live, an invalid one is refused and logged", async () => {
  const dir = await Deno.makeTempDir();
  const file = `${dir}/config.yaml`;
  await Deno.writeTextFile(file, "server:\n  keep-alive: 15\n");
  const lines: string[] = [];
  const log = createLogger("info", (_l, line) => lines.push(line));
  const store = new ConfigStore(file, (await loadConfig(file)).config);
  let changes = 0;
  store.onChange(() => changes++);
  await Deno.writeTextFile(file, "server:\n  keep-alive: 5\n");
  assertEquals(await store.reload(log), true);
  assertEquals(store.current.server["keep-alive"], 5);
  await Deno.writeTextFile(file, "server:\n  keep-alive: many\n");
  assertEquals(await store.reload(log), false);
  assertEquals(store.current.server["keep-alive"], 5);
  assertEquals(changes, 1);
  assert(
    lines.some((l) =>
      /edit refused, the previous configuration stays live: .*config\.yaml:2:3/.test(l)
    ),
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("the running server reloads its file when it changes", async () => {
  const gw = await startGateway({ "custom-llm": [] }, { watch: true });
  try {
    const models = async () =>
      (await (await fetch(`${gw.url}/models`)).json()).data
        .map((m: { id: string }) => m.id)
        .filter((id: string) => id.startsWith("p/"));
    assertEquals(await models(), []);
    await gw.writeConfig({
      "custom-llm": [{ prefix: "p", "base-url": "http://127.0.0.1:9/v1", models: ["m1"] }],
    });
    await waitFor(() => gw.store.current["custom-llm"].length === 1, 5000, "reload");
    assertEquals(await models(), ["p/m1"]);
    await gw.writeConfig("custom-llm: 12\n");
    await waitFor(() => gw.logs.some((l) => l.includes("edit refused")), 5000, "refusal log");
    assertEquals(await models(), ["p/m1"]);
  } finally {
    await gw.close();
  }
});

Deno.test("loadConfig reports an unreadable path as a ConfigError", async () => {
  const dir = await Deno.makeTempDir();
  await assertRejects(() => loadConfig(dir), ConfigError, "cannot read");
  await Deno.remove(dir);
});

Deno.test("a section whose keys are all commented out means defaults", () => {
  const { config, warnings } = parseConfig(
    "server:\n  # port: 1\nbrowser:\n  # executable: x\n",
    "c.yaml",
  );
  assertEquals(warnings, []);
  assertEquals(config.server.port, 8080);
  assertEquals(config.browser.headless, true);
});

Deno.test("every credential read from config is masked in logs and errors", async () => {
  const { redact } = await import("../../src/util/mask.ts");
  parseConfig(
    [
      "images:",
      "  playground: { tokens: [pg-session-0123456789] }",
      "  llm: { token: llm-token-9876543210 }",
      "claude:",
      "  cookies: 'sessionKey=claude-cookie-55555555; other=x'",
    ].join("\n"),
    "c.yaml",
  );
  const out = redact("pg-session-0123456789 llm-token-9876543210 claude-cookie-55555555");
  for (const s of ["0123456789", "9876543210", "55555555"]) assert(!out.includes(s), out);
});

Deno.test("config: a misspelt key is a warning with the key it probably meant", () => {
  const { warnings } = parseConfig(
    "server:\n  pasword: [x]\n  keep_alive: 5\ngemini:\n  kyes: [k]\ncustom-llm:\n  - prefix: a\n    base-url: http://x/v1\n    apikey: k\nzzz: 1\n",
    "c.yaml",
  );
  assertEquals(warnings, [
    "c.yaml:2:3: unknown key 'server.pasword' ignored (did you mean 'server.password'?)",
    "c.yaml:3:3: unknown key 'server.keep_alive' ignored (did you mean 'server.keep-alive'?)",
    "c.yaml:9:5: unknown key 'custom-llm[0].apikey' ignored (did you mean 'custom-llm[0].api-key'?)",
    "c.yaml:5:3: unknown key 'gemini.kyes' ignored (did you mean 'gemini.keys'?)",
    "c.yaml:10:1: unknown key 'zzz' ignored",
  ]);
});

Deno.test("config: two custom-llm entries with one prefix are refused, naming both", () => {
  const err = assertThrows(
    () =>
      parseConfig(
        "custom-llm:\n  - prefix: up\n    base-url: http://a/v1\n  - prefix: up\n    base-url: http://b/v1\n",
        "c.yaml",
      ),
    ConfigError,
  );
  assertMatch(
    err.message,
    /c\.yaml:4:\d+: 'custom-llm\[1\]\.prefix' repeats the prefix of custom-llm\[0\]/,
  );
});

Deno.test("the old bing section is read into copilot with a deprecation warning per key", () => {
  const text = [
    "bing:",
    "  base-url: https://www.bing.com",
    "  hub-url: wss://sydney.bing.com",
    "  cookies: [abcdefgh12345678]",
    "  proxies: socks5://127.0.0.1:1080",
    "  concurrency: 2",
    "  transport: fetch",
    "  colour: red",
    "copilot:",
    "  concurrency: 1",
    "",
  ].join("\n");
  const { config, warnings } = parseConfig(text, "old.yaml");
  assertEquals(config.copilot.proxies, "socks5://127.0.0.1:1080");
  assertEquals(config.copilot.transport, "fetch");
  // copilot's own key wins over the old one.
  assertEquals(config.copilot.concurrency, 1);
  assertEquals(config.copilot["access-tokens"], []);
  assertEquals("bing" in config, false);
  assertEquals(warnings, [
    "old.yaml:2:3: 'bing.base-url' is deprecated and ignored: the Sydney ChatHub it pointed at is gone; see copilot.base-url",
    "old.yaml:3:3: 'bing.hub-url' is deprecated and ignored: the Sydney ChatHub it pointed at is gone; see copilot.base-url",
    "old.yaml:4:3: 'bing.cookies' is deprecated and ignored: it held _U cookies of the retired Bing chat, which no longer sign in to Copilot; use copilot.access-tokens (docs/copilot.md)",
    "old.yaml:5:3: 'bing.proxies' is deprecated; read as 'copilot.proxies'",
    "old.yaml:6:3: 'bing.concurrency' is deprecated; ignored because 'copilot.concurrency' is set",
    "old.yaml:7:3: 'bing.transport' is deprecated; read as 'copilot.transport'",
    "old.yaml:8:3: 'bing.colour' is not a key of the deprecated 'bing' section; ignored",
  ]);
});

Deno.test("config: alias bombs and aliases inside their own node are ConfigErrors, never a crash (fuzz finding)", () => {
  const bomb = 'a: &a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n' +
    "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n" +
    "e: [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n";
  const cycle = "server: &s\n  port: 8080\n  flags: *s\n";
  for (const text of [bomb, cycle]) {
    const err = assertThrows(() => parseConfig(text, "c.yaml"), ConfigError);
    assertStringIncludes(err.message, "c.yaml:1:1: invalid YAML");
  }
  // An alias used in two places (no cycle) is an ordinary value.
  const shared = parseConfig(
    "server:\n  no-proxy: &hosts [a.example]\n  password: [x]\nbing:\n  no-proxy: *hosts\n",
    "c.yaml",
  );
  assertEquals(shared.config.server["no-proxy"], ["a.example"]);
});
