/**
 * Upstream websockets (`src/net/websocket.ts`) against the Cloudflare-like TLS gate: the chrome
 * transport's socket passes with Chrome's WebSocket handshake (ALPN http/1.1 alone, no ALPS, the
 * upgrade's headers in Chrome's order), Deno's is challenged; proxies, `server.ca-file`, the
 * abort, the timeouts and refused upgrades.
 */
import { assert, assertEquals, assertRejects } from "../assert.ts";
import { configSchema } from "../../src/config/schema.ts";
import { HttpClients } from "../../src/net/http.ts";
import { openSocket, type SocketContext, upgradeStatus } from "../../src/net/websocket.ts";
import {
  chromeUserAgent,
  chromeWebSocketEmulation,
  loadWreq,
} from "../../src/net/transport/mod.ts";
import { GatewayError } from "../../src/openai/errors.ts";
import { startTlsGate, type TlsGate } from "../fakes/tls_gate.ts";
import { startConnectProxy } from "../fakes/connect_proxy.ts";
import { startTlsFront } from "../fakes/tls_front.ts";
import { testCa } from "../fakes/test_ca.ts";
import { within } from "../helpers.ts";

function context(
  gate: { caFile: string },
  o: { server?: Record<string, unknown>; transport?: "fetch" | "chrome"; signal?: AbortSignal } =
    {},
): SocketContext {
  return {
    provider: "copilot",
    config: configSchema.parse({
      server: { "ca-file": gate.caFile, "no-proxy": [], ...o.server },
    }),
    signal: o.signal ?? new AbortController().signal,
    clients: new HttpClients(),
    transport: o.transport ?? "chrome",
  };
}

/** What the echo fake behind the gate saw of one upgrade. */
interface Upgrade {
  headers: Headers;
  closed: Promise<void>;
}

/** A gate whose handler upgrades to an echo socket that greets first. */
async function echoGate(options: { greetings?: number; silent?: boolean } = {}) {
  const upgrades: Upgrade[] = [];
  const gate = await startTlsGate((req) => {
    if (req.headers.get("upgrade") !== "websocket") {
      return new Response("no upgrade", { status: 426 });
    }
    if (new URL(req.url).searchParams.get("deny")) {
      return new Response("unauthorized", { status: 401 });
    }
    const headers = new Headers(req.headers);
    const { socket, response } = Deno.upgradeWebSocket(req);
    let closed!: () => void;
    upgrades.push({ headers, closed: new Promise((r) => closed = r) });
    socket.onopen = () => {
      if (options.silent) return;
      for (let i = 0; i < (options.greetings ?? 1); i++) socket.send(`hello ${i}`);
      socket.send(new TextEncoder().encode("binary bytes"));
    };
    socket.onmessage = (e) => socket.send(`echo: ${e.data}`);
    socket.onclose = () => closed();
    socket.onerror = () => closed();
    return response;
  });
  return { gate, upgrades };
}

function wss(gate: TlsGate, path = "/c/api/chat?api-version=2"): URL {
  return new URL(`${gate.origin.replace("https:", "wss:")}${path}`);
}

const HEADERS = { origin: "https://copilot.example", cookie: "a=1; b=2" };

Deno.test("the chrome socket passes the gate with Chrome's WebSocket handshake", async () => {
  const { gate, upgrades } = await echoGate({ greetings: 3 });
  try {
    const socket = await openSocket(wss(gate), { headers: HEADERS }, context(gate));
    // Messages sent at once on open are not lost while the socket is being set up.
    assertEquals(await socket.next(10), "hello 0");
    assertEquals(await socket.next(10), "hello 1");
    assertEquals(await socket.next(10), "hello 2");
    assertEquals(await socket.next(10), "binary bytes");
    socket.send("ping");
    assertEquals(await socket.next(10), "echo: ping");
    socket.close();

    const verdict = gate.verdicts.at(-1)!;
    assertEquals(verdict.reasons, []);
    assertEquals(verdict.hello.alpn, ["http/1.1"]);
    assertEquals(verdict.hello.alps, undefined);
    const h = upgrades[0].headers;
    assertEquals(h.get("user-agent"), chromeUserAgent());
    assertEquals(h.get("origin"), "https://copilot.example");
    assertEquals(h.get("cookie"), "a=1; b=2");
    assertEquals(h.get("accept-language"), "en-US,en;q=0.9");
    assertEquals(h.get("pragma"), "no-cache");
    // A navigation's headers are not on a WebSocket upgrade.
    for (const name of ["sec-fetch-mode", "sec-ch-ua", "accept", "priority"]) {
      assertEquals(h.get(name), null, name);
    }
    await within(upgrades[0].closed, 10_000, "the fake to see the close");
  } finally {
    await gate.close();
  }
});

Deno.test("Deno's WebSocket is stopped at the gate: the upgrade never reaches the site", async () => {
  const { gate, upgrades } = await echoGate();
  try {
    // Deno offers h2 and tries the upgrade over HTTP/2 at the challenge server; either way the
    // socket does not open, and the gate judged the handshake a non-browser's.
    const err = await assertRejects(
      () => openSocket(wss(gate), { headers: HEADERS }, context(gate, { transport: "fetch" })),
      GatewayError,
    );
    assert([403, 502].includes(err.status), err.message);
    assert(err.message.includes("websocket"), err.message);
    assertEquals(upgrades.length, 0);
    assert(gate.verdicts.at(-1)!.reasons.includes("no GREASE cipher suite"));
  } finally {
    await gate.close();
  }
});

Deno.test("the library's own chrome_147 WebSocket (ALPS with ALPN http/1.1) is refused", async () => {
  // Why the transport spells out its own emulation: the profile's WebSocket keeps ALPS.
  const { gate } = await echoGate();
  const wreq = await loadWreq();
  Deno.env.set("SSL_CERT_FILE", gate.caFile);
  const creating = wreq.createSession({ browser: "chrome_147", os: "windows" });
  Deno.env.delete("SSL_CERT_FILE");
  const session = await creating;
  try {
    await assertRejects(() => session.websocket(wss(gate).href));
    assertEquals(gate.verdicts.at(-1)!.reasons, ["ALPS (h2) with ALPN http/1.1 alone"]);
  } finally {
    await session.close();
    await gate.close();
  }
});

Deno.test("the chrome socket's upgrade request is Chrome's, header for header, in order", async () => {
  const ca = await testCa();
  const inner = Deno.listenTls({
    hostname: "127.0.0.1",
    port: 0,
    cert: ca.cert,
    key: ca.key,
    alpnProtocols: ["http/1.1"],
  });
  let head = "";
  const got = (async () => {
    const conn = await inner.accept();
    const buf = new Uint8Array(16 * 1024);
    let text = "";
    while (!text.includes("\r\n\r\n")) {
      const n = await conn.read(buf);
      if (n === null) break;
      text += new TextDecoder().decode(buf.subarray(0, n));
    }
    head = text;
    conn.close();
  })();
  const front = startTlsFront(() => (inner.addr as Deno.NetAddr).port);
  try {
    const url = new URL(`wss://localhost:${front.port}/c/api/chat`);
    await assertRejects(() =>
      openSocket(url, { headers: HEADERS, timeouts: { connect: 20 } }, context(ca))
    );
    await within(got, 10_000, "the upgrade request");
    const names = head.split("\r\n").slice(1).filter(Boolean).map((l) => l.split(":")[0]);
    // Chromium 156's WebSocket upgrade, less Sec-WebSocket-Extensions (see profile.ts).
    assertEquals(names, [
      "Host",
      "Connection",
      "Pragma",
      "Cache-Control",
      "User-Agent",
      "Upgrade",
      "Origin",
      "Sec-WebSocket-Version",
      "Accept-Encoding",
      "Accept-Language",
      "Cookie",
      "Sec-WebSocket-Key",
    ]);
    assertEquals(chromeWebSocketEmulation("x").origHeaders, names);
  } finally {
    await front.close();
    inner.close();
  }
});

Deno.test("the chrome socket through an HTTP CONNECT proxy with credentials", async () => {
  const { gate } = await echoGate();
  const proxy = startConnectProxy({ user: "alice", pass: "s3cret" });
  try {
    const ctx = context(gate, { server: { proxies: proxy.url } });
    const socket = await openSocket(wss(gate), { headers: HEADERS }, ctx);
    assertEquals(await socket.next(10), "hello 0");
    socket.close();
    assertEquals(proxy.tunnels, [`localhost:${gate.port}`]);

    const bad = context(gate, { server: { proxies: proxy.url.replace("s3cret", "wrong") } });
    const err = await assertRejects(
      () => openSocket(wss(gate), { headers: HEADERS }, bad),
      GatewayError,
    );
    assert(err.message.includes("via proxy http://"), err.message);
    assert(!err.message.includes("wrong"), err.message);
  } finally {
    await proxy.close();
    await gate.close();
  }
});

Deno.test("a refused upgrade keeps its status: 401 is an auth failure", async () => {
  const { gate } = await echoGate();
  try {
    const err = await assertRejects(
      () => openSocket(wss(gate, "/c/api/chat?deny=1"), { headers: HEADERS }, context(gate)),
      GatewayError,
    );
    assertEquals([err.status, err.upstreamStatus], [401, 401]);
  } finally {
    await gate.close();
  }
});

Deno.test("an abort closes the socket at once; a silent socket is a 504 after idle", async () => {
  const { gate, upgrades } = await echoGate({ silent: true });
  try {
    const abort = new AbortController();
    const socket = await openSocket(
      wss(gate),
      { headers: HEADERS },
      context(gate, { signal: abort.signal }),
    );
    const reading = socket.next(0);
    abort.abort(new DOMException("client left", "AbortError"));
    await assertRejects(() => reading, DOMException);
    await within(upgrades[0].closed, 10_000, "the fake to see the abort");

    const idle = await openSocket(
      wss(gate),
      { headers: HEADERS, timeouts: { idle: 1 } },
      context(gate),
    );
    const started = Date.now();
    const err = await assertRejects(() => idle.next(), GatewayError);
    assertEquals(err.status, 504);
    assert(err.message.includes("sent nothing for 1s"), err.message);
    assert(Date.now() - started < 15_000);
    await within(upgrades[1].closed, 10_000, "the fake to see the timeout's close");
  } finally {
    await gate.close();
  }
});

Deno.test("a server that never answers the upgrade is a 504 after the connect timeout", async () => {
  const ca = await testCa();
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  (async () => {
    for await (const c of listener) held.push(c);
  })().catch(() => {});
  try {
    const url = new URL(`wss://localhost:${(listener.addr as Deno.NetAddr).port}/c/api/chat`);
    for (const transport of ["chrome", "fetch"] as const) {
      const started = Date.now();
      const err = await assertRejects(
        () =>
          openSocket(url, { headers: HEADERS, timeouts: { connect: 1 } }, {
            ...context(ca),
            transport,
          }),
        GatewayError,
      );
      assertEquals(err.status, 504, transport);
      assert(err.message.includes("did not open within 1s"), err.message);
      assert(Date.now() - started < 15_000);
    }
  } finally {
    listener.close();
    for (const c of held) c.close();
  }
});

Deno.test("upgradeStatus reads the status both stacks put in their errors", () => {
  assertEquals(
    upgradeStatus("error upgrading connection: unexpected status code: 403 Forbidden"),
    403,
  );
  assertEquals(upgradeStatus("failed to connect to WebSocket: Invalid status code 401"), 401);
  assertEquals(upgradeStatus("connection reset"), 0);
});

Deno.test("a plain ws:// socket (no TLS to impersonate) uses Deno's WebSocket", async () => {
  const seen: Headers[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    seen.push(new Headers(req.headers));
    const { socket, response } = Deno.upgradeWebSocket(req);
    socket.onopen = () => socket.send("plain hello");
    socket.onmessage = (e) => socket.send(`echo: ${e.data}`);
    return response;
  });
  try {
    const ca = await testCa();
    const socket = await openSocket(
      new URL(`ws://127.0.0.1:${server.addr.port}/c/api/chat`),
      { headers: { ...HEADERS, "user-agent": "custom-agent" } },
      context(ca),
    );
    assertEquals(await socket.next(10), "plain hello");
    socket.send("x");
    assertEquals(await socket.next(10), "echo: x");
    socket.close();
    assertEquals(seen[0].get("cookie"), "a=1; b=2");
    assert((seen[0].get("user-agent") ?? "").includes("custom-agent"));
  } finally {
    await server.shutdown();
  }
});
