/**
 * `deno run -A <URL>/main.ts` works without the remote deno.json: the repository is served over
 * a local HTTP server and the server is started from that URL, in a folder with no deno.json.
 */
import { assert, assertEquals, assertMatch } from "../assert.ts";
import { startFakeOpenAi } from "../fakes/openai.ts";
import { parseSseBody } from "../helpers.ts";

const root = new URL("../../", import.meta.url).pathname;

function serveRepo() {
  const types: Record<string, string> = {
    ts: "application/typescript; charset=utf-8",
    json: "application/json",
  };
  const requested: string[] = [];
  let resolve!: (port: number) => void;
  const ready = new Promise<number>((r) => resolve = r);
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen: ({ port }) => resolve(port),
  }, async (req) => {
    const path = decodeURIComponent(new URL(req.url).pathname);
    requested.push(path);
    if (path.includes("..")) return new Response("no", { status: 400 });
    try {
      const body = await Deno.readFile(root + path.slice(1));
      return new Response(body, {
        headers: { "content-type": types[path.split(".").pop()!] ?? "text/plain" },
      });
    } catch {
      return new Response("not found", { status: 404 });
    }
  });
  return { ready, requested, close: () => server.shutdown() };
}

async function* lines(stream: ReadableStream<Uint8Array>) {
  let buf = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    buf += chunk;
    let i;
    while ((i = buf.indexOf("\n")) >= 0) {
      yield buf.slice(0, i);
      buf = buf.slice(i + 1);
    }
  }
}

Deno.test("the server runs from a URL without its deno.json", async () => {
  const repo = serveRepo();
  const port = await repo.ready;
  const upstream = await startFakeOpenAi();
  const dir = await Deno.makeTempDir({ prefix: "url-run-" });
  await Deno.writeTextFile(
    `${dir}/config.yaml`,
    `custom-llm:\n  - prefix: up\n    base-url: ${upstream.baseUrl}\n    models: [gpt-4o-mini]\n`,
  );
  const url = `http://127.0.0.1:${port}/main.ts`;
  const env = { NO_COLOR: "1", DENO_TLS_CA_STORE: "system" };
  try {
    const v = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--reload=http://127.0.0.1", url, "--version"],
      cwd: dir,
      env,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const vText = new TextDecoder().decode(v.stdout);
    assertEquals(v.code, 0, new TextDecoder().decode(v.stderr));
    assertMatch(vText, /^chatgpt-adapter \d+\.\d+\.\d+/);
    // The remote deno.json was read only as the version's JSON module, never as a config.
    assert(repo.requested.includes("/main.ts"));

    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        url,
        "--port",
        "0",
        "--host",
        "127.0.0.1",
        "--config",
        `${dir}/config.yaml`,
      ],
      cwd: dir,
      env,
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    try {
      let gwPort = 0;
      for await (const line of lines(child.stdout)) {
        const m = /listening on http:\/\/[^:]+:(\d+)/.exec(line);
        if (m) {
          gwPort = Number(m[1]);
          break;
        }
      }
      assert(gwPort > 0, "the server did not report its port");
      const health = await fetch(`http://127.0.0.1:${gwPort}/health`);
      assertEquals(await health.json(), { status: "ok" });
      const res = await fetch(`http://127.0.0.1:${gwPort}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          model: "up/gpt-4o-mini",
          stream: true,
          messages: [{ role: "user", content: "from a URL" }],
        }),
      });
      const text = await res.text();
      const content = parseSseBody<{ choices: { delta: { content?: string } }[] }>(text).events
        .map((e) => e.choices[0]?.delta.content ?? "").join("");
      assertEquals(content, "Hello! You said: from a URL");
      assert(text.endsWith("data: [DONE]\n\n"));
    } finally {
      child.kill("SIGTERM");
      await child.status;
      await child.stdout.cancel().catch(() => {});
      await child.stderr.cancel().catch(() => {});
    }
  } finally {
    await repo.close();
    await upstream.close();
    await Deno.remove(dir, { recursive: true });
  }
});
