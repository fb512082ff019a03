/**
 * The ClientHello reader (bytes cut at every position, the handshake spread over two records) and
 * the TLS gate fake judged against the real Chromium: a browser's handshake passes, a hello that
 * differs from Chrome's in one feature is refused.
 */
import { assert, assertEquals } from "../assert.ts";
import {
  type ClientHello,
  ClientHelloReader,
  EXT,
  parseClientHello,
  readClientHello,
} from "../fakes/client_hello.ts";
import { notBrowserReasons, startTlsGate } from "../fakes/tls_gate.ts";
import { testCa } from "../fakes/test_ca.ts";
import { which } from "../fakes/microsocks.ts";
import { within } from "../helpers.ts";

/** The raw bytes of the ClientHello Deno's fetch sends to localhost. */
async function denoHelloBytes(): Promise<Uint8Array> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const client = Deno.createHttpClient({ caCerts: [(await testCa()).caPem] });
  const request = fetch(`https://localhost:${port}/`, { client }).catch(() => undefined);
  const conn = await listener.accept();
  const { bytes } = await readClientHello(conn);
  conn.close();
  listener.close();
  await request;
  client.close();
  return bytes;
}

function feed(parts: Uint8Array[]): ClientHello | undefined {
  const reader = new ClientHelloReader();
  for (const p of parts) {
    const hs = reader.push(p);
    if (hs) return parseClientHello(hs);
  }
  return undefined;
}

Deno.test("ClientHelloReader: the same hello however the bytes are cut", async () => {
  const bytes = await denoHelloBytes();
  const whole = feed([bytes])!;
  assertEquals(whole.sni, "localhost");
  assertEquals(whole.alpn, ["h2", "http/1.1"]);
  assert(whole.ciphers.length > 3 && whole.extensions.length > 5);
  for (let cut = 1; cut < bytes.length; cut++) {
    assertEquals(feed([bytes.subarray(0, cut), bytes.subarray(cut)]), whole, `cut at ${cut}`);
  }
  assertEquals(feed([...bytes].map((b) => new Uint8Array([b]))), whole);
  // The handshake message spread over two TLS records.
  const hs = bytes.subarray(5);
  const record = (frag: Uint8Array) =>
    new Uint8Array([22, 3, 1, frag.length >> 8, frag.length & 255, ...frag]);
  const split = Math.floor(hs.length / 2);
  assertEquals(feed([record(hs.subarray(0, split)), record(hs.subarray(split))]), whole);
  // Not TLS at all.
  let thrown = false;
  try {
    feed([new TextEncoder().encode("GET / HTTP/1.1\r\n\r\n")]);
  } catch {
    thrown = true;
  }
  assert(thrown);
});

Deno.test("the TLS gate lets the real Chromium through and refuses near misses", async (t) => {
  const chromium = which("chromium") ?? which("chromium-browser");
  if (!chromium) {
    console.warn("SKIPPED: chromium is not installed (apt-get install chromium)");
    t.step({ name: "chromium missing", ignore: true, fn: () => {} });
    return;
  }
  const gate = await startTlsGate(() =>
    new Response("<html><title>behind</title></html>", { headers: { "content-type": "text/html" } })
  );
  const profile = await Deno.makeTempDir({ prefix: "gate-chromium-" });
  try {
    const child = new Deno.Command(chromium, {
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-quic",
        "--ignore-certificate-errors",
        `--user-data-dir=${profile}`,
        "--dump-dom",
        `${gate.origin}/from-chromium`,
      ],
      stdout: "piped",
      stderr: "null",
    }).spawn();
    const out = await within(child.output(), 60_000, "chromium");
    assert(new TextDecoder().decode(out.stdout).includes("behind"));
    assert(gate.passed.some((p) => p.path === "/from-chromium"));
    const hello = gate.verdicts[0].hello;
    assertEquals(notBrowserReasons(hello), []);

    // One feature off is enough to be refused.
    const alps = { ...hello, alps: { type: EXT.alps, protocols: ["impit"] } };
    assertEquals(notBrowserReasons(alps), ["ALPS names impit"]);
    const noGrease = {
      ...hello,
      extensions: hello.extensions.filter((e) => (e.type & 0x0f0f) !== 0x0a0a),
    };
    assertEquals(notBrowserReasons(noGrease), ["no GREASE extension"]);
    const firefoxish = {
      ...hello,
      extensions: [...hello.extensions, { type: EXT.recordSizeLimit, data: new Uint8Array(2) }],
    };
    assertEquals(notBrowserReasons(firefoxish), ["non-Chrome extension 28"]);
  } finally {
    await gate.close();
    await Deno.remove(profile, { recursive: true }).catch(() => {});
  }
});

Deno.test("the TLS gate lets Chromium's own WebSocket connection through", async (t) => {
  const chromium = which("chromium") ?? which("chromium-browser");
  if (!chromium) {
    console.warn("SKIPPED: chromium is not installed (apt-get install chromium)");
    t.step({ name: "chromium missing", ignore: true, fn: () => {} });
    return;
  }
  let wsUrl = "";
  let opened = false;
  const gate = await startTlsGate((req) => {
    if (req.headers.get("upgrade") === "websocket") {
      const { socket, response } = Deno.upgradeWebSocket(req);
      socket.onopen = () => {
        opened = true;
        socket.send("through");
      };
      return response;
    }
    return new Response(
      `<html><head><title>page</title></head><body><script>
        const ws = new WebSocket(${JSON.stringify(wsUrl)});
        ws.onmessage = (e) => { document.title = "socket said " + e.data; };
      </script></body></html>`,
      { headers: { "content-type": "text/html" } },
    );
  });
  wsUrl = `${gate.origin.replace("https:", "wss:")}/socket`;
  const profile = await Deno.makeTempDir({ prefix: "gate-chromium-" });
  try {
    const child = new Deno.Command(chromium, {
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-quic",
        "--ignore-certificate-errors",
        `--user-data-dir=${profile}`,
        "--virtual-time-budget=5000",
        "--dump-dom",
        `${gate.origin}/page`,
      ],
      stdout: "piped",
      stderr: "null",
    }).spawn();
    await within(child.output(), 60_000, "chromium");
    assert(opened, "the socket opened");
    const socket = gate.passed.find((p) => p.path === "/socket");
    assert(socket, "the websocket upgrade passed the gate");
    // Its own connection: ALPN http/1.1 alone, no ALPS, and otherwise Chrome's hello.
    assertEquals(socket.hello.alpn, ["http/1.1"]);
    assertEquals(socket.hello.alps, undefined);
    assertEquals(notBrowserReasons(socket.hello), []);
  } finally {
    await gate.close();
    await Deno.remove(profile, { recursive: true }).catch(() => {});
  }
});
