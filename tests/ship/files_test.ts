/**
 * What ships beside the code stays consistent: one Deno version everywhere, the Dockerfile's
 * essentials, the release workflow's artefacts matching the compile task, the README's commands.
 */
import { assert, assertEquals, assertMatch } from "../assert.ts";

const root = new URL("../../", import.meta.url).pathname;
const read = (p: string) => Deno.readTextFile(root + p);

const ciRun = await read(".ci/run");
const DENO_VERSION = /DENO_VERSION=(\d+\.\d+\.\d+)/.exec(ciRun)![1];

Deno.test("one Deno version in CI, README, Dockerfile and the release workflow", async () => {
  const readme = await read("README.md");
  assertMatch(readme, new RegExp(`npx -y deno@${DENO_VERSION.replaceAll(".", "\\.")} task start`));
  assertMatch(readme, new RegExp(`npx -y deno@${DENO_VERSION.replaceAll(".", "\\.")} task test`));
  assertMatch(await read("Dockerfile"), new RegExp(`^FROM denoland/deno:${DENO_VERSION}$`, "m"));
  assertMatch(
    await read(".github/workflows/release.yml"),
    new RegExp(`deno-version: v${DENO_VERSION}`),
  );
});

Deno.test("README starts with the two commands: start the server, run the tests", async () => {
  const readme = await read("README.md");
  const block = /```sh\n([\s\S]*?)```/.exec(readme)![1].trim().split("\n");
  assertMatch(block[0], /task start/);
  assertMatch(block[1], /task test/);
  // .ci/run runs that same test command.
  assert(ciRun.includes('npx -y "deno@${DENO_VERSION}" task test'));
});

Deno.test("Dockerfile: non-root, config mounted, health check on /health, files it copies exist", async () => {
  const docker = await read("Dockerfile");
  const user = /^USER (\S+)$/m.exec(docker)?.[1];
  assert(user && user !== "root" && user !== "0", "must run as a non-root user");
  assertMatch(docker, /^HEALTHCHECK .*\n?.*\/health/m);
  assertMatch(docker, /--config", "\/app\/config\.yaml"/);
  assertMatch(docker, /^EXPOSE 8080$/m);
  for (const m of docker.matchAll(/^COPY (.+) \S+$/gm)) {
    for (const path of m[1].split(/\s+/)) await Deno.stat(root + path);
  }
});

Deno.test("the release workflow builds with the compile task and attaches every binary", async () => {
  const wf = await read(".github/workflows/release.yml");
  const denoJson = JSON.parse(await read("deno.json"));
  assertMatch(wf, /tags: \["v\*"\]/);
  assertMatch(wf, /run: deno task compile/);
  const outputs = [...(denoJson.tasks.compile as string).matchAll(/--output (\S+)/g)].map((m) =>
    m[1]
  );
  assertEquals(outputs.length, 5);
  for (const o of outputs) assert(wf.includes(`            ${o}\n`), `${o} is not attached`);
});

Deno.test("every config example in README and docs is valid, without unknown keys", async () => {
  const { parseConfig } = await import("../../src/config/load.ts");
  const files = ["README.md", "README.zh.md", "config.yaml"];
  for await (const e of Deno.readDir(root + "docs")) {
    if (e.name.endsWith(".md")) files.push(`docs/${e.name}`);
  }
  let blocks = 0;
  for (const f of files) {
    const text = await read(f);
    const yamls = f.endsWith(".yaml")
      ? [text]
      : [...text.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]);
    for (const y of yamls) {
      blocks++;
      const { warnings } = parseConfig(y, `${f} example ${blocks}`);
      assertEquals(warnings, [], `${f}:\n${y}`);
    }
  }
  assert(blocks >= 10, `only ${blocks} examples found`);
});

Deno.test("config.yaml loads without a warning, and so does every commented example in it", async () => {
  const { parseConfig } = await import("../../src/config/load.ts");
  const text = await read("config.yaml");
  assertEquals(parseConfig(text, "config.yaml").warnings, []);
  // An example is a comment line holding a key (`# gemini:`, `#   keys: [...]`) or a list item:
  // removing its '# ' must give a config whose keys are all current (no unknown or old key), in
  // their sections (deno fmt moves comments that follow a section's last key to column 0).
  const example = /^(\s*)# (\s*(?:[a-z0-9-]+:(?:\s|$)|- ))/;
  const lines = text.split("\n");
  const uncommented = lines.map((l) => l.replace(example, "$1$2")).join("\n");
  const examples = lines.filter((l) => example.test(l)).length;
  assert(examples >= 40, `only ${examples} example lines`);
  const { config, warnings } = parseConfig(uncommented, "config.yaml, examples uncommented");
  assertEquals(warnings, [], uncommented);
  // The examples reach the keys they show.
  assertEquals(config.gemini.keys, ["AIza..."]);
  assertEquals(config.coze.tokens, ["pat_..."]);
  assertEquals(config.coze.bot, "7351234567890123456");
  assertEquals(config.you["api-key"], ["ydc-sk-..."]);
  assertEquals(config.interpreter["api-key"], "your-INTERPRETER_API_KEY");
  assertEquals(config["custom-llm"].map((e) => e.prefix), ["openai"]);
  assertEquals(config.images.spaces.map((s) => s.name), ["flux-dev"]);
  assertEquals(config.responses.ttl, 86400);
  assertEquals(config.server["ca-file"], "/etc/ssl/corporate-ca.pem");
});

Deno.test("the Chinese README has the same sections, commands and examples as the English one", async () => {
  const en = await read("README.md");
  const zh = await read("README.zh.md");
  const count = (t: string, re: RegExp) => [...t.matchAll(re)].length;
  assertEquals(count(zh, /^##+ /gm), count(en, /^##+ /gm));
  assertEquals(count(zh, /^```/gm), count(en, /^```/gm));
  for (
    const s of [
      "task start",
      "task test",
      "server.password",
      "custom-llm",
      "X-Accel-Buffering",
      "--unstable-no-legacy-abort",
    ]
  ) {
    assert(zh.includes(s), `README.zh.md lacks ${s}`);
  }
  for (const link of en.matchAll(/\]\((docs\/[^)]+)\)/g)) assert(zh.includes(link[1]), link[1]);
});

Deno.test("Dockerfile: dependencies are installed before the sources are copied", async () => {
  const docker = await read("Dockerfile");
  const install = docker.indexOf("RUN deno install");
  const sources = docker.indexOf("COPY src/");
  assert(install > 0 && sources > install, "deno install must come before COPY src/");
  assertMatch(docker.slice(0, install), /^COPY deno\.json deno\.lock \.\/$/m);
  // That layer holds every npm package only if the sources import nothing outside the map.
  const imports = Object.values(JSON.parse(await read("deno.json")).imports as string[]);
  const walk = async (dir: string, out: string[]) => {
    for await (const e of Deno.readDir(root + dir)) {
      const p = `${dir}/${e.name}`;
      if (e.isDirectory) await walk(p, out);
      else if (p.endsWith(".ts")) out.push(await read(p));
    }
    return out;
  };
  const texts = [await read("main.ts"), ...await walk("src", [])];
  for (const text of texts) {
    for (const m of text.matchAll(/"npm:((?:@[^/"]+\/)?[^@/"]+)@([^/"]+)/g)) {
      assert(
        imports.some((i) => i.startsWith(`npm:${m[1]}@${m[2]}`)),
        `npm:${m[1]}@${m[2]} is not in deno.json's imports`,
      );
    }
  }
});

Deno.test("the release workflow runs CI, compiles, smoke-tests each binary on its system", async () => {
  const wf = await read(".github/workflows/release.yml");
  assertMatch(wf, /run: sudo -E bash \.ci\/run/);
  const outputs = [...(JSON.parse(await read("deno.json")).tasks.compile as string).matchAll(
    /--output (\S+)/g,
  )].map((m) => m[1]);
  for (const o of outputs) {
    assertMatch(
      wf,
      new RegExp(`binary: ${o.replaceAll(".", "\\.")}\\n`),
      `${o} is not smoke-tested`,
    );
  }
  assertMatch(wf, /deno run -A tests\/ship\/smoke\.ts \$\{\{ matrix\.binary \}\}/);
});
