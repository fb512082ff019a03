/**
 * The transports through the `Upstream` client against the Cloudflare-like TLS gate: Deno's fetch
 * is challenged (403), the chrome transport passes (200) directly, through an HTTP CONNECT proxy
 * with credentials and through SOCKS5 (microsocks); bodies stream chunk by chunk; an abort closes
 * the upstream connection; timeouts, `server.ca-file` and the missing `--allow-ffi` error.
 */
import { assert, assertEquals, assertRejects } from "../assert.ts";
import { configSchema } from "../../src/config/schema.ts";
import { HttpClients, Upstream } from "../../src/net/http.ts";
import { chromeUserAgent, transportOf } from "../../src/net/transport/mod.ts";
import { GatewayError } from "../../src/openai/errors.ts";
import { startTlsGate, type TlsGate } from "../fakes/tls_gate.ts";
import { startConnectProxy } from "../fakes/connect_proxy.ts";
import { startMicrosocks } from "../fakes/microsocks.ts";
import { within } from "../helpers.ts";
import { testCa } from "../fakes/test_ca.ts";

function configFor(gate: TlsGate, server: Record<string, unknown> = {}) {
  return configSchema.parse({
    server: { "ca-file": gate.caFile, "no-proxy": [], ...server },
  });
}

function client(
  config: ReturnType<typeof configFor>,
  transport?: "fetch" | "chrome",
  signal = new AbortController().signal,
) {
  return new Upstream({
    provider: "claude",
    config,
    signal,
    transport,
    clients: new HttpClients(),
  });
}

const hello = () => new Response("hello from behind the gate", { status: 200 });

Deno.test("config: Cloudflare-fronted sections default to chrome, official APIs use fetch", () => {
  const c = configSchema.parse({});
  assertEquals([c.claude.transport, c.copilot.transport, c.arena.transport], [
    "chrome",
    "chrome",
    "chrome",
  ]);
  assertEquals(transportOf(c, "claude"), "chrome");
  // you.com's API is an official one (fetch); its legacy web mode picks chrome itself.
  assertEquals(c.you.transport, undefined);
  for (const p of ["gemini", "cohere", "coze", "custom", "interpreter", "bigjpg", "you"]) {
    assertEquals(transportOf(c, p), "fetch", p);
  }
  assertEquals(
    transportOf(configSchema.parse({ claude: { transport: "fetch" } }), "claude"),
    "fetch",
  );
});

Deno.test("the gate challenges Deno's fetch (403) and lets the chrome transport through (200)", async () => {
  const gate = await startTlsGate(hello);
  try {
    const config = configFor(gate);
    const plain = await client(config, "fetch").fetch(`${gate.origin}/api/organizations`);
    assertEquals(plain.status, 403);
    assertEquals(plain.headers.get("cf-mitigated"), "challenge");
    assert((await plain.text()).includes("<title>Just a moment...</title>"));
    const refused = gate.verdicts.at(-1)!;
    assertEquals(refused.browser, false);
    assert(refused.reasons.includes("no GREASE cipher suite"), refused.reasons.join("; "));

    // ok() turns the challenge into an honest 403 naming the page.
    const err = await assertRejects(
      () => client(config, "fetch").ok(`${gate.origin}/api/organizations`),
      GatewayError,
    );
    assertEquals(err.status, 403);
    assert(err.message.includes("Just a moment"), err.message);

    const res = await client(config).fetch(`${gate.origin}/api/organizations?x=1`);
    assertEquals([res.status, await res.text()], [200, "hello from behind the gate"]);
    assertEquals(gate.verdicts.at(-1)!.reasons, []);
    const seen = gate.passed.at(-1)!;
    assertEquals(seen.path, "/api/organizations?x=1");
    // The default headers match the TLS profile.
    assertEquals(seen.headers.get("user-agent"), chromeUserAgent());
    assert(seen.headers.get("sec-ch-ua")?.includes('v="147"'), seen.headers.get("sec-ch-ua")!);
    assertEquals(seen.headers.get("sec-ch-ua-platform"), '"Windows"');
    assertEquals(gate.passed.length, 1);
  } finally {
    await gate.close();
  }
});

Deno.test("chrome transport: request body, headers and every Set-Cookie come through", async () => {
  const gate = await startTlsGate(async (req) => {
    const body = await req.text();
    const headers = new Headers({ "content-type": "application/json" });
    headers.append("set-cookie", "a=1; Path=/");
    headers.append("set-cookie", "b=2; Path=/");
    return new Response(
      JSON.stringify({ body, method: req.method, cookie: req.headers.get("cookie") }),
      { status: 201, headers },
    );
  });
  try {
    const res = await client(configFor(gate)).fetch(`${gate.origin}/api/x`, {
      method: "POST",
      headers: { "content-type": "application/json", cookie: "sessionKey=sk-ant-sid01-x" },
      body: JSON.stringify({ prompt: "hi" }),
    });
    assertEquals(res.status, 201);
    assertEquals(res.headers.getSetCookie(), ["a=1; Path=/", "b=2; Path=/"]);
    assertEquals(await res.json(), {
      body: '{"prompt":"hi"}',
      method: "POST",
      cookie: "sessionKey=sk-ant-sid01-x",
    });
  } finally {
    await gate.close();
  }
});

Deno.test("chrome transport: an event stream arrives chunk by chunk", async () => {
  // The fake sends the next event only after the client has read the previous one: a transport
  // that buffered the body would never see event 1.
  const next: (() => void)[] = [];
  const gate = await startTlsGate(() => {
    let i = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(c) {
        if (i > 0) await new Promise<void>((r) => next.push(r));
        c.enqueue(new TextEncoder().encode(`data: {"n":${i}}\n\n`));
        if (++i === 4) c.close();
      },
    }, { highWaterMark: 0 });
    return new Response(body, { headers: { "content-type": "text/event-stream" } });
  });
  try {
    const events = await client(configFor(gate)).sse(`${gate.origin}/stream`);
    const got: string[] = [];
    for (let n = 0; n < 4; n++) {
      const e = await within(events.next(), 20_000, `event ${n}`);
      got.push(e.value!.data);
      next.shift()?.();
    }
    assertEquals(got, ['{"n":0}', '{"n":1}', '{"n":2}', '{"n":3}']);
    assertEquals((await events.next()).done, true);
  } finally {
    await gate.close();
  }
});

Deno.test("chrome transport: aborting closes the upstream connection", async () => {
  let disconnected!: () => void;
  const gone = new Promise<void>((r) => disconnected = r);
  const gate = await startTlsGate(() => {
    let timer: ReturnType<typeof setInterval>;
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        timer = setInterval(() => c.enqueue(new TextEncoder().encode("data: tick\n\n")), 50);
      },
      // Deno.serve cancels the body when its client went away.
      cancel() {
        clearInterval(timer);
        disconnected();
      },
    });
    return new Response(body, { headers: { "content-type": "text/event-stream" } });
  });
  try {
    const ac = new AbortController();
    const events = await client(configFor(gate), undefined, ac.signal).sse(`${gate.origin}/s`);
    assertEquals((await events.next()).value?.data, "tick");
    ac.abort();
    await assertRejects(() => events.next());
    // The fake behind the gate sees its client go away.
    await within(gone, 20_000, "the gate's handler to see the disconnect");
  } finally {
    await gate.close();
  }
});

Deno.test("both transports through an HTTP CONNECT proxy with credentials", async () => {
  const gate = await startTlsGate(hello);
  const proxy = startConnectProxy({ user: "alice", pass: "s3cret" });
  try {
    const config = configFor(gate, { proxies: proxy.url });
    const res = await client(config).fetch(`${gate.origin}/via-proxy`);
    assertEquals([res.status, await res.text()], [200, "hello from behind the gate"]);
    const plain = await client(config, "fetch").fetch(`${gate.origin}/via-proxy`);
    assertEquals(plain.status, 403);
    await plain.body?.cancel();
    assertEquals(proxy.tunnels, [`localhost:${gate.port}`, `localhost:${gate.port}`]);
    assertEquals(proxy.refused, 0);

    // Wrong credentials: the proxy refuses, the error names the proxy without the password.
    const bad = configFor(gate, { proxies: proxy.url.replace("s3cret", "wrong") });
    const err = await assertRejects(() => client(bad).fetch(`${gate.origin}/x`), GatewayError);
    assertEquals(err.status, 502);
    assert(err.message.includes("via proxy http://"), err.message);
    assert(!err.message.includes("wrong@"), err.message);
    assertEquals(proxy.refused, 1);
  } finally {
    await proxy.close();
    await gate.close();
  }
});

Deno.test("both transports through SOCKS5 (socks5 and socks5h, with credentials)", async (t) => {
  const socks = await startMicrosocks({ user: "bob", pass: "p4ss" });
  if (!socks) {
    console.warn("SKIPPED: microsocks is not installed (apt-get install microsocks)");
    t.step({ name: "microsocks missing", ignore: true, fn: () => {} });
    return;
  }
  const gate = await startTlsGate(hello);
  try {
    for (const scheme of ["socks5", "socks5h"]) {
      const config = configFor(gate, { proxies: socks.url.replace("socks5", scheme) });
      const before: number = socks.lines.filter((l) => l.includes(`:${gate.port}`)).length;
      const res = await client(config).fetch(`${gate.origin}/${scheme}`);
      assertEquals([res.status, await res.text()], [200, "hello from behind the gate"], scheme);
      const plain = await client(config, "fetch").fetch(`${gate.origin}/${scheme}`);
      assertEquals(plain.status, 403, scheme);
      await plain.body?.cancel();
      const after: number = socks.lines.filter((l) => l.includes(`:${gate.port}`)).length;
      assertEquals(after - before, 2, `${scheme}: ${socks.lines.join(" | ")}`);
    }
    assertEquals(gate.passed.map((p) => p.path), ["/socks5", "/socks5h"]);
  } finally {
    await gate.close();
    await socks.stop();
  }
});

Deno.test("chrome transport: no answer within the connect timeout is a 504", async () => {
  // Accepts TCP and never answers the ClientHello.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const c of listener) held.push(c);
  })().catch(() => {});
  try {
    const config = configSchema.parse({
      server: { "ca-file": (await testCa()).caFile, timeouts: { connect: 1 } },
    });
    const port = (listener.addr as Deno.NetAddr).port;
    const err = await assertRejects(
      () => within(client(config).fetch(`https://localhost:${port}/`), 20_000, "the timeout"),
      GatewayError,
    );
    assertEquals(err.status, 504);
  } finally {
    listener.close();
    for (const c of held) c.close();
    await accepting;
  }
});

Deno.test("chrome transport: a silent body fails with the idle timeout (504)", async () => {
  const gate = await startTlsGate(() =>
    new Response(
      new ReadableStream({
        start(c) {
          c.enqueue(new TextEncoder().encode("data: first\n\n"));
        },
      }),
      { headers: { "content-type": "text/event-stream" } },
    )
  );
  try {
    const config = configFor(gate, { timeouts: { idle: 1 } });
    const events = await client(config).sse(`${gate.origin}/quiet`);
    assertEquals((await events.next()).value?.data, "first");
    const err = await assertRejects(() => within(events.next(), 20_000, "idle"), GatewayError);
    assertEquals(err.status, 504);
  } finally {
    await gate.close();
  }
});

Deno.test("server.ca-file: without it the test CA is not trusted; an unreadable one is a 500", async () => {
  const gate = await startTlsGate(hello);
  try {
    // Trust is process-wide and the test modules share a process: asked from a fresh one.
    const script = new URL("./transport_untrusted_fixture.ts", import.meta.url).pathname;
    const env = Deno.env.toObject();
    delete env.SSL_CERT_FILE;
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", script, gate.origin],
      stdout: "piped",
      stderr: "piped",
      clearEnv: true,
      env: { ...env, NO_COLOR: "1" },
    }).output();
    assert(out.success, new TextDecoder().decode(out.stderr));
    assertEquals(JSON.parse(new TextDecoder().decode(out.stdout)), { chrome: 502, fetch: 502 });
    const missing = configSchema.parse({ server: { "ca-file": "/nonexistent/ca.pem" } });
    for (const transport of ["chrome", "fetch"] as const) {
      const err = await assertRejects(
        () => client(missing, transport).fetch(`${gate.origin}/`),
        GatewayError,
      );
      assertEquals([err.status, err.code], [500, "ca_file_unreadable"], transport);
      assert(err.message.includes("server.ca-file '/nonexistent/ca.pem'"), err.message);
    }
    assertEquals(gate.passed.length, 0);
  } finally {
    await gate.close();
  }
});

Deno.test("without --allow-ffi the chrome transport fails with a 502 naming the flag", async () => {
  const script = new URL("./transport_noffi_fixture.ts", import.meta.url).pathname;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-env", "--allow-net", "--allow-sys", script],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  assert(out.success, new TextDecoder().decode(out.stderr));
  const { status, code, message } = JSON.parse(text);
  assertEquals([status, code], [502, "transport_unavailable"]);
  assert(message.includes("--allow-ffi"), message);
  assert(message.includes("transport: fetch"), message);
});
