/**
 * The command line: flags, environment overrides, defaults, --help, --version, --models.
 */
import { assert, assertEquals, assertMatch, assertThrows } from "../assert.ts";
import { cliOverride, HELP, parseCli } from "../../main.ts";
import { defaultConfig } from "../../src/config/mod.ts";
import { VERSION } from "../../src/version.ts";

const noEnv = () => undefined;

Deno.test("defaults without flags or environment", () => {
  const cli = parseCli([], noEnv);
  assertEquals(cli, {
    port: undefined,
    host: undefined,
    proxies: undefined,
    config: "config.yaml",
    log: "info",
    models: false,
    check: false,
    help: false,
    version: false,
  });
});

Deno.test("flags win over environment, environment over config", () => {
  const env = (n: string) =>
    ({ PORT: "9001", PROXIES: "socks5://127.0.0.1:1080", CONFIG: "/etc/x.yaml" } as Record<
      string,
      string
    >)[n];
  const fromEnv = parseCli([], env);
  assertEquals([fromEnv.port, fromEnv.proxies, fromEnv.config], [
    9001,
    "socks5://127.0.0.1:1080",
    "/etc/x.yaml",
  ]);
  const fromFlags = parseCli([
    "--port",
    "7000",
    "--proxies",
    "http://u:p@127.0.0.1:3128",
    "--config",
    "a.yaml",
    "--log",
    "debug",
  ], env);
  assertEquals([fromFlags.port, fromFlags.proxies, fromFlags.config, fromFlags.log], [
    7000,
    "http://u:p@127.0.0.1:3128",
    "a.yaml",
    "debug",
  ]);
  const config = defaultConfig();
  config.server.proxies = "socks5://10.0.0.1:1";
  cliOverride(fromFlags)(config);
  assertEquals(config.server.port, 7000);
  assertEquals(config.server.proxies, "http://u:p@127.0.0.1:3128");
});

Deno.test("bad flags are refused with a clear message", () => {
  assertThrows(() => parseCli(["--port", "http"], noEnv), Error, "--port must be an integer");
  assertThrows(() => parseCli(["--port", "70000"], noEnv), Error, "--port must be an integer");
  assertThrows(() => parseCli(["--proxies", "ftp://x"], noEnv), Error, "--proxies must be");
  assertThrows(() => parseCli(["--log", "loud"], noEnv), Error, "--log must be one of");
  assertThrows(() => parseCli(["--colour"], noEnv), Error);
});

Deno.test("--help lists every flag with its default", () => {
  for (
    const flag of [
      "--port",
      "--host",
      "--proxies",
      "--config",
      "--log",
      "--models",
      "-h, --help",
      "-v, --version",
    ]
  ) {
    assert(HELP.includes(flag), `help lacks ${flag}`);
  }
  assertMatch(HELP, /--port .*default: server\.port of the config, 8080/);
  assertMatch(HELP, /default: \.\/config\.yaml/);
  assertMatch(HELP, /default: info/);
  assertEquals(parseCli(["-h"], noEnv).help, true);
  assertEquals(parseCli(["-v"], noEnv).version, true);
});

async function run(args: string[], cwd?: string) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${Deno.cwd()}/main.ts`, ...args],
    cwd,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

Deno.test("the executable prints the version, the help, the models, and refuses a bad config", async () => {
  const v = await run(["--version"]);
  assertEquals(v.code, 0);
  assertEquals(v.stdout.trim(), `chatgpt-adapter ${VERSION}`);
  const h = await run(["--help"]);
  assertEquals(h.code, 0);
  assert(h.stdout.includes("--proxies <url>"));
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(
    `${dir}/c.yaml`,
    "custom-llm:\n  - prefix: p\n    base-url: http://127.0.0.1:9/v1\n    models: [a, b]\n",
  );
  const m = await run(["--models", "--config", `${dir}/c.yaml`]);
  assertEquals(m.code, 0);
  assert(m.stdout.split("\n").includes("p/a") && m.stdout.split("\n").includes("p/b"), m.stdout);
  await Deno.writeTextFile(`${dir}/bad.yaml`, "server:\n  port: eighty\n");
  const bad = await run(["--config", `${dir}/bad.yaml`]);
  assertEquals(bad.code, 1);
  assertMatch(bad.stderr, /bad\.yaml:2:3: 'server\.port'/);
  const badFlag = await run(["--port", "x"]);
  assertEquals(badFlag.code, 2);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a port in use is one clear line, no stack trace, exit code 1", async () => {
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (taken.addr as Deno.NetAddr).port;
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/c.yaml`, "server:\n  flags: true\n");
    const r = await run([
      "--port",
      String(port),
      "--host",
      "127.0.0.1",
      "--config",
      `${dir}/c.yaml`,
    ]);
    assertEquals(r.code, 1);
    assertMatch(r.stderr, new RegExp(`127\\.0\\.0\\.1:${port} is already in use.*--port`));
    assert(!/\n\s+at /.test(r.stderr), r.stderr);
  } finally {
    taken.close();
    await Deno.remove(dir, { recursive: true });
  }
});

/** Starts main.ts, collects its output until `until` matches, then stops it. */
async function firstLines(args: string[], until: RegExp): Promise<string> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${Deno.cwd()}/main.ts`, ...args],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let text = "";
  const decoder = new TextDecoder();
  const read = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream) {
      text += decoder.decode(chunk, { stream: true });
      if (until.test(text)) break;
    }
  };
  const timer = setTimeout(() => child.kill(), 20_000);
  await Promise.race([read(child.stdout), read(child.stderr)]);
  clearTimeout(timer);
  child.kill();
  await child.status;
  await child.stdout.cancel().catch(() => {});
  await child.stderr.cancel().catch(() => {});
  return text;
}

Deno.test("start-up: each provider's readiness, and a warning when pooled accounts are exposed", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(
      `${dir}/c.yaml`,
      "server:\n  host: 0.0.0.0\n  port: 0\ncustom-llm:\n  - prefix: up\n    base-url: http://127.0.0.1:9/v1\n    api-key: sk-configured-key-1234\n",
    );
    const out = await firstLines(
      ["--config", `${dir}/c.yaml`],
      /provider custom[^\n]*\n[\s\S]*WARN/,
    );
    assertMatch(out, /provider custom: ready \(up\/… → http:\/\/127\.0\.0\.1:9\/v1 \(1 key\)\)/);
    assertMatch(out, /WARN .*listening on 0\.0\.0\.0 without server\.password while custom serve/);
    assert(!out.includes("sk-configured-key-1234"), out);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
