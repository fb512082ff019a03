/**
 * The release workflow's smoke test of one built binary, on the machine it was built for:
 * `--version`, `--check` (the chrome transport's native part loads), then the binary serves a chat
 * through a fake OpenAI-compatible upstream and answers it.
 *
 *   deno run -A tests/ship/smoke.ts dist/linux-server
 *
 * @module
 */
import { startFakeOpenAi } from "../fakes/openai.ts";

const binary = Deno.args[0];
if (!binary) {
  console.error("usage: deno run -A tests/ship/smoke.ts <binary>");
  Deno.exit(2);
}

async function run(args: string[]): Promise<{ code: number; out: string }> {
  const o = await new Deno.Command(binary, { args, stdout: "piped", stderr: "piped" }).output();
  const out = new TextDecoder().decode(o.stdout) + new TextDecoder().decode(o.stderr);
  return { code: o.code, out };
}

function fail(what: string): never {
  console.error(`smoke: ${what}`);
  Deno.exit(1);
}

const version = await run(["--version"]);
if (version.code !== 0) fail(`--version exited ${version.code}: ${version.out}`);
console.log(`smoke: ${version.out.trim()}`);

const checked = await run(["--check", "--config", "/nonexistent/config.yaml"]);
console.log(checked.out.trim());
if (checked.code !== 0) fail("--check: the chrome transport's native part did not load");

const upstream = await startFakeOpenAi();
const dir = await Deno.makeTempDir();
const free = Deno.listen({ hostname: "127.0.0.1", port: 0 });
const port = (free.addr as Deno.NetAddr).port;
free.close();
await Deno.writeTextFile(
  `${dir}/config.yaml`,
  `server:\n  host: 127.0.0.1\n  port: ${port}\ncustom-llm:\n  - prefix: up\n    base-url: ${upstream.baseUrl}\n    models: [gpt-4o-mini]\n`,
);
const server = new Deno.Command(binary, {
  args: ["--config", `${dir}/config.yaml`],
  stdout: "null",
  stderr: "null",
}).spawn();
try {
  let up = false;
  for (let i = 0; i < 100 && !up; i++) {
    up = await fetch(`http://127.0.0.1:${port}/health`).then((r) => r.ok).catch(() => false);
    if (!up) await new Promise((r) => setTimeout(r, 200));
  }
  if (!up) fail("the server did not answer /health within 20 s");
  const res = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: "Bearer sk-smoke" },
    body: JSON.stringify({
      model: "up/gpt-4o-mini",
      messages: [{ role: "user", content: "Say hello" }],
    }),
  });
  const body = await res.json();
  const text = body?.choices?.[0]?.message?.content;
  if (res.status !== 200 || typeof text !== "string" || text === "") {
    fail(`the chat answered ${res.status}: ${JSON.stringify(body)}`);
  }
  console.log(`smoke: chat answered "${text.slice(0, 60)}"`);
} finally {
  server.kill();
  await server.status;
  await upstream.close();
  await Deno.remove(dir, { recursive: true });
}
