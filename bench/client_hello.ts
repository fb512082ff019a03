/**
 * Captures the TLS ClientHello and the first HTTP/2 frames of several clients with a local
 * listener and prints them side by side: the real Chromium (`/usr/bin/chromium` or
 * `CHROMIUM=...`), the gateway's `chrome` transport, other impersonation libraries, and Deno's
 * own `fetch`.
 *
 * Run: `deno run -A bench/client_hello.ts [--json] [client name filters]`. Each client requests
 * `https://localhost:<port>/capture/<client>`; a TCP front door reads the ClientHello, a TLS
 * server behind it (the test CA from `tests/fakes/test_ca.ts`) decrypts and records the frames.
 *
 * @module
 */
import { testCa } from "../tests/fakes/test_ca.ts";
import { type ClientHello } from "../tests/fakes/client_hello.ts";
import { captureHttp, type HttpCapture } from "../tests/fakes/h2_capture.ts";
import { startTlsFront } from "../tests/fakes/tls_front.ts";
import { describeHello, describeHttp, type Row } from "./client_hello_table.ts";
import { configSchema } from "../src/config/schema.ts";
import { HttpClients, Upstream } from "../src/net/http.ts";

/** One client's capture. */
interface Captured {
  client: string;
  hello: ClientHello;
  http: HttpCapture;
}

const ca = await testCa();
Deno.writeTextFileSync(
  "/tmp/bench-bundle.pem",
  Deno.readTextFileSync("/etc/ssl/certs/ca-certificates.crt") + ca.caPem,
);
Deno.env.set("SSL_CERT_FILE", "/tmp/bench-bundle.pem");
const inner = Deno.listenTls({
  hostname: "127.0.0.1",
  port: 0,
  cert: ca.cert,
  key: ca.key,
  alpnProtocols: ["h2", "http/1.1"],
});
const front = startTlsFront(() => (inner.addr as Deno.NetAddr).port);
const captured = new Map<string, Captured>();
const serving = (async () => {
  for await (const conn of inner) {
    (async () => {
      try {
        const hs = await conn.handshake();
        const http = await captureHttp(conn, hs.alpnProtocol);
        const path = http.headers.find(([k]) => k === ":path")?.[1] ??
          http.headers.find(([k]) => k === "x-capture")?.[1] ?? "";
        const client = decodeURIComponent(path.replace(/^\/capture\//, ""));
        const hello = front.helloOf((conn.remoteAddr as Deno.NetAddr).port);
        if (hello && path.startsWith("/capture/") && !captured.has(client)) {
          captured.set(client, { client, hello, http });
        }
      } catch {
        // A client that gave up (a favicon request after the page, a failed handshake).
      } finally {
        try {
          conn.close();
        } catch {
          // Closed.
        }
      }
    })();
  }
})();

const base = `https://localhost:${front.port}/capture/`;

async function runChromium(name: string): Promise<void> {
  const exe = Deno.env.get("CHROMIUM") ?? "/usr/bin/chromium";
  const profile = await Deno.makeTempDir({ prefix: "hello-chromium-" });
  const child = new Deno.Command(exe, {
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
      base + encodeURIComponent(name),
    ],
    stdout: "null",
    stderr: "null",
  }).spawn();
  const timer = setTimeout(() => child.kill(), 30_000);
  await child.status;
  clearTimeout(timer);
  await Deno.remove(profile, { recursive: true }).catch(() => {});
}

/** The clients measured: name -> how to make its request. */
const clients: [string, () => Promise<unknown>][] = [
  ["chromium", () => runChromium("chromium")],
  ["gateway chrome transport", async () => {
    const http = new Upstream({
      provider: "claude",
      config: configSchema.parse({ server: { "ca-file": ca.caFile } }),
      signal: new AbortController().signal,
      clients: new HttpClients(),
    });
    const res = await http.fetch(base + encodeURIComponent("gateway chrome transport"));
    await res.body?.cancel();
  }],
  ["deno fetch", async () => {
    const client = Deno.createHttpClient({ caCerts: [ca.caPem] });
    const res = await fetch(base + "deno%20fetch", { client });
    await res.body?.cancel();
    client.close();
  }],
];

// impit (pinned in deno.json for this comparison only) trusts the CA through rustls-native-certs,
// which reads SSL_CERT_FILE once per process.
for (const profile of ["chrome", "chrome142", "chrome151"] as const) {
  clients.push([`impit ${profile}`, async () => {
    Deno.env.set("SSL_CERT_FILE", ca.caFile);
    const { Impit } = await import("impit");
    const impit = new Impit({ browser: profile });
    const res = await impit.fetch(base + encodeURIComponent(`impit ${profile}`));
    await res.text();
  }]);
}
const only = Deno.args.filter((a) => !a.startsWith("--"));
for (const [name, run] of clients) {
  if (only.length && !only.some((o) => name.includes(o))) continue;
  try {
    await run();
  } catch (err) {
    console.error(`${name}: ${(err as Error).message}`);
  }
}
await new Promise((r) => setTimeout(r, 200));
inner.close();
await front.close();
await serving.catch(() => {});

const results = [...captured.values()];
if (Deno.args.includes("--json")) {
  console.log(JSON.stringify(
    results.map((r) => ({ client: r.client, tls: describeHello(r.hello), http: r.http })),
    null,
    2,
  ));
} else {
  const rows: Row[] = results.map((r) => ({
    client: r.client,
    ...describeHello(r.hello),
    ...describeHttp(r.http),
  }));
  const keys = Object.keys(rows[0] ?? {}).filter((k) => k !== "client");
  console.log(`| feature | ${rows.map((r) => r.client).join(" | ")} |`);
  console.log(`|---|${rows.map(() => "---").join("|")}|`);
  for (const k of keys) console.log(`| ${k} | ${rows.map((r) => r[k]).join(" | ")} |`);
}
Deno.exit(0);
