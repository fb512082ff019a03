/**
 * End to end through the server started as `deno task start` starts it (the task's own command
 * line and permission flags, `--allow-ffi` included): claude's base URL points at the
 * Cloudflare-like TLS gate, with the claude.ai fake behind it. A chat through the official
 * `openai` client walks organizations, statsig, conversation, completion stream and delete through
 * the chrome transport; the gate saw a browser's handshake on every connection. The same
 * config with `claude.transport: fetch` is challenged and the client hears why.
 */
import OpenAI from "openai";
import { stringify } from "yaml";
import { assert, assertEquals } from "../assert.ts";
import { startFakeClaude } from "../fakes/claude.ts";
import { startTlsGate } from "../fakes/tls_gate.ts";
import { freePort } from "../fakes/microsocks.ts";
import { within } from "../helpers.ts";

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
  const claude = await startFakeClaude([{}]);
  // The gate forwards what it lets through to the claude.ai fake.
  const gate = await startTlsGate((req) => {
    const u = new URL(req.url);
    return fetch(`${claude.origin}${u.pathname}${u.search}`, {
      method: req.method,
      headers: req.headers,
      body: req.body,
    });
  });
  const config = (transport: string) => ({
    server: { password: ["gw-pass"], "ca-file": gate.caFile },
    claude: {
      "base-url": gate.origin,
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
    const first = gate.passed[0];
    assertEquals(`${first.method} ${first.path}`, "GET /api/organizations");
    assert(first.headers.get("cookie")?.includes("sessionKey=sk-ant-"));
    // The transport's client hints are Chrome 147's. (The claude provider still sends its own
    // older User-Agent, which wins over the transport's default `chromeUserAgent()`.)
    assert(first.headers.get("sec-ch-ua")?.includes('v="147"'), first.headers.get("sec-ch-ua")!);
    assert(gate.passed.some((p) => p.path.endsWith("/completion")));
    assertEquals(gate.challenged, 0);
    assert(gate.verdicts.length > 0 && gate.verdicts.every((v) => v.browser));
    // The conversation is deleted after the answer (a detached call, also through the gate).
    await within(
      (async () => {
        while (!gate.passed.some((p) => p.method === "DELETE")) {
          await new Promise((r) => setTimeout(r, 50));
        }
      })(),
      20_000,
      "the conversation delete",
    );
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
    await gate.close();
    await claude.close();
  }
});
