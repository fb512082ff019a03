/**
 * End to end through the server started as `deno task start` starts it (the task's own command
 * line and permission flags, `--allow-ffi` included): claude's base URL points at the
 * Cloudflare-like TLS gate, with the claude.ai fake behind it. A chat through the official
 * `openai` client walks bootstrap, organizations, a temporary conversation and the completion
 * stream through the chrome transport; the gate saw a browser's handshake on every connection and
 * claude.ai saw Chrome's own user agent. The same config with `claude.transport: fetch` is
 * challenged and the client hears why.
 */
import OpenAI from "openai";
import { stringify } from "yaml";
import { assert, assertEquals } from "../assert.ts";
import { startFakeClaudeWeb } from "../fakes/claude_web.ts";
import { freePort } from "../fakes/microsocks.ts";
import { chromeUserAgent } from "../../src/net/transport/mod.ts";

const root = new URL("../../", import.meta.url).pathname;

/** Starts `deno task start` with `config`; resolves once /health answers. */
async function startTask(config: Record<string, unknown>) {
  const dir = await Deno.makeTempDir({ prefix: "gateway-e2e-" });
  await Deno.writeTextFile(`${dir}/config.yaml`, stringify(config));
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["task", "start", "--config", `${dir}/config.yaml`, "--port", String(port)],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", DENO_TLS_CA_STORE: "system" },
  }).spawn();
  const log: string[] = [];
  const drain = Promise.all([child.stdout, child.stderr].map(async (s) => {
    for await (const t of s.pipeThrough(new TextDecoderStream())) log.push(t);
  }));
  const origin = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  while (true) {
    try {
      const res = await fetch(`${origin}/health`);
      await res.body?.cancel();
      if (res.ok) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) throw new Error(`the server did not start: ${log.join("")}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url: `${origin}/v1`,
    log,
    async stop() {
      child.kill("SIGTERM");
      await child.status;
      await drain;
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

Deno.test("e2e: deno task start reaches claude through the TLS gate with the chrome transport", async () => {
  // The fake claude.ai sits behind the gate, which lets only browser handshakes through.
  const claude = await startFakeClaudeWeb([{}]);
  const gate = claude.gate;
  const config = (transport: string) => ({
    server: { password: ["gw-pass"], "ca-file": claude.caFile },
    claude: {
      "base-url": claude.origin,
      cookies: claude.accounts.map((a) => a.sessionKey),
      transport,
    },
  });
  const server = await startTask(config("chrome"));
  try {
    const client = new OpenAI({ baseURL: server.url, apiKey: "gw-pass", maxRetries: 0 });
    const stream = await client.chat.completions.create({
      model: "claude",
      messages: [{ role: "user", content: "ping" }],
      stream: true,
    });
    let text = "";
    for await (const c of stream) text += c.choices[0]?.delta.content ?? "";
    assertEquals(text, "Hello from claude.ai!");
    assertEquals(gate.passed.map((p) => `${p.method} ${p.path.replace(/[0-9a-f-]{36}/g, ":id")}`), [
      "GET /api/bootstrap",
      "GET /api/organizations",
      "POST /api/organizations/:id/chat_conversations",
      "POST /api/organizations/:id/chat_conversations/:id/completion",
    ]);
    const first = gate.passed[0];
    assert(first.headers.get("cookie")?.includes("sessionKey=sk-ant-"));
    // Chrome 147's client hints and its own user agent: one coherent browser.
    assert(first.headers.get("sec-ch-ua")?.includes('v="147"'), first.headers.get("sec-ch-ua")!);
    for (const p of gate.passed) assertEquals(p.headers.get("user-agent"), chromeUserAgent());
    assertEquals(gate.challenged, 0);
    assert(gate.verdicts.length > 0 && gate.verdicts.every((v) => v.browser));
  } finally {
    await server.stop();
  }

  // The same site through Deno's fetch: challenged, and the client hears why.
  const plain = await startTask(config("fetch"));
  try {
    const passedBefore = gate.passed.length;
    const res = await fetch(`${plain.url}/chat/completions`, {
      method: "POST",
      headers: { authorization: "Bearer gw-pass", "content-type": "application/json" },
      body: JSON.stringify({ model: "claude", messages: [{ role: "user", content: "ping" }] }),
    });
    const body = await res.json();
    // The claude provider reports the challenge as an upstream failure naming Cloudflare.
    assertEquals(res.status, 502, JSON.stringify(body));
    assert(body.error.message.includes("Cloudflare challenge"), body.error.message);
    assert(gate.challenged > 0);
    assertEquals(gate.passed.length, passedBefore);
  } finally {
    await plain.stop();
    await claude.close();
  }
});
