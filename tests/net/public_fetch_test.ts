/**
 * The SSRF guard of client-supplied URLs (issue 15, item 6): private, loopback and other
 * non-public addresses are refused (also behind a redirect), the connection goes to the address
 * that was checked, size, time and redirects are bounded, and errors reveal nothing of the target.
 */
import OpenAI from "openai";
import { assert, assertEquals, assertMatch, assertRejects } from "../assert.ts";
import { serveFake } from "../fakes/serve.ts";
import { startGateway } from "../helpers.ts";
import { defaultConfig } from "../../src/config/mod.ts";
import { HttpClients } from "../../src/net/http.ts";
import { fetchPublic, type PublicFetchOptions } from "../../src/net/public_fetch.ts";
import { isPublicAddress } from "../../src/net/address_guard.ts";
import { GatewayError } from "../../src/openai/errors.ts";

const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]);

/** An image host on 127.0.0.1 that answers per path and records what it was asked. */
function imageHost() {
  return serveFake((req, rec) => {
    if (rec.path === "/secret") return new Response("internal secret body", { status: 200 });
    if (rec.path === "/missing") return new Response("internal 404 page", { status: 404 });
    if (rec.path === "/big") return new Response(new Uint8Array(2048));
    if (rec.path === "/hang") {
      // Past the 1 s fetch timeout of the test that asks for it (and done before its cleanup).
      return new Promise<Response>((r) => setTimeout(() => r(new Response("late")), 2500));
    }
    if (rec.path.startsWith("/to/")) {
      return new Response(null, {
        status: 302,
        headers: { location: decodeURIComponent(rec.path.slice(4)) },
      });
    }
    if (rec.path === "/loop") {
      return new Response(null, { status: 302, headers: { location: "/loop" } });
    }
    return new Response(PNG, {
      headers: { "content-type": "image/png", "x-host": req.headers.get("host")! },
    });
  });
}

function options(extra: Partial<PublicFetchOptions> = {}): PublicFetchOptions {
  return {
    field: "messages[0].content[1].image_url.url",
    maxBytes: 1024,
    config: defaultConfig(),
    clients: new HttpClients(),
    ...extra,
  };
}

async function refusal(promise: Promise<unknown>): Promise<GatewayError> {
  const err = await assertRejects(() => promise, GatewayError);
  assertEquals(err.status, 400);
  assertEquals(err.param, "messages[0].content[1].image_url.url");
  return err;
}

Deno.test("address policy: only public unicast passes", () => {
  for (const a of ["8.8.8.8", "2001:4860:4860::8888", "93.184.216.34"]) {
    assert(isPublicAddress(a), a);
  }
  for (
    const a of [
      "127.0.0.1",
      "127.3.4.5",
      "10.0.0.1",
      "172.16.0.1",
      "192.168.1.1",
      "100.64.0.1",
      "169.254.169.254",
      "0.0.0.0",
      "224.0.0.1",
      "255.255.255.255",
      "::1",
      "::",
      "fe80::1",
      "fc00::1",
      "ff02::1",
      "::ffff:127.0.0.1",
      "::ffff:8.8.8.8",
      "64:ff9b::7f00:1",
      "2002:7f00:1::",
      "not an address",
    ]
  ) assert(!isPublicAddress(a), a);
});

Deno.test("loopback, [::1], private literals and localhost are refused before any connection", async () => {
  const host = await imageHost();
  try {
    for (
      const url of [
        `${host.origin}/secret`,
        `http://[::1]:${host.port}/secret`,
        `http://0.0.0.0:${host.port}/secret`,
        `http://2130706433:${host.port}/secret`,
        `http://[::ffff:127.0.0.1]:${host.port}/secret`,
        `http://localhost:${host.port}/secret`,
        "http://169.254.169.254/latest/meta-data/",
      ]
    ) {
      const err = await refusal(fetchPublic(url, options()));
      assertEquals(err.code, "url_refused", url);
      assertMatch(
        err.message,
        /the URL was refused: it does not lead to a public internet address/,
      );
    }
    for (const url of ["file:///etc/passwd", "ftp://example.com/x", "http://u:p@example.com/"]) {
      assertEquals((await refusal(fetchPublic(url, options()))).code, "url_refused", url);
    }
    assertEquals(host.requests.length, 0);
  } finally {
    await host.close();
  }
});

Deno.test("a redirect to loopback is refused at its hop; the name is resolved once per hop", async () => {
  const host = await imageHost();
  try {
    // img.test stands for a public host: it resolves (here) to the one address the policy lets
    // through, 127.0.0.1; every other loopback address stays refused.
    const lookups: string[] = [];
    const o = options({
      allowed: (a) => a === "127.0.0.1",
      resolve: (name) => {
        lookups.push(name);
        // A rebinding name: a second lookup would answer a private address.
        return Promise.resolve(lookups.length === 1 ? ["127.0.0.1"] : ["10.0.0.1"]);
      },
    });
    const ok = await fetchPublic(`http://img.test:${host.port}/cat.png`, o);
    assertEquals(ok.bytes, PNG);
    assertEquals(ok.contentType, "image/png");
    // The connection went to the checked address; the name stayed the request's host.
    assertEquals(host.requests[0].headers.get("host"), `img.test:${host.port}`);
    assertEquals(lookups, ["img.test"]);

    for (
      const target of [`http://127.0.0.2:${host.port}/secret`, `http://[::1]:${host.port}/secret`]
    ) {
      const url = `http://127.0.0.1:${host.port}/to/${encodeURIComponent(target)}`;
      const err = await refusal(fetchPublic(url, o));
      assertEquals(err.code, "url_refused");
    }
    assert(host.requests.every((r) => r.path !== "/secret"), "a redirect reached /secret");

    const loop = await refusal(fetchPublic(`http://127.0.0.1:${host.port}/loop`, o));
    assertMatch(loop.message, /redirects more than 5 times \(server\.fetch\.max-redirects\)/);
  } finally {
    await host.close();
  }
});

Deno.test("status, body, size and time of a target are never shown", async () => {
  const host = await imageHost();
  const config = defaultConfig();
  config.server.fetch["allow-private"] = true;
  config.server.fetch.timeout = 1;
  const lines: string[] = [];
  const log = (await import("../../src/util/log.ts")).createLogger(
    "debug",
    (_l, l) => lines.push(l),
  );
  try {
    const o = options({ config, log });
    const missing = await refusal(fetchPublic(`${host.origin}/missing`, o));
    assertEquals(
      missing.message,
      "messages[0].content[1].image_url.url: the URL could not be fetched",
    );
    assert(!JSON.stringify(missing.toBody()).includes("404"));
    assertMatch(lines.join("\n"), /answered 404/);
    const big = await refusal(fetchPublic(`${host.origin}/big`, o));
    assertMatch(big.message, /larger than 0 MiB/);
    const hang = await refusal(fetchPublic(`${host.origin}/hang`, o));
    assertMatch(hang.message, /could not be fetched within 1s/);
    // With the switch on, loopback is fetched.
    assertEquals((await fetchPublic(`${host.origin}/cat.png`, o)).bytes, PNG);
  } finally {
    await host.close();
  }
});

Deno.test("https: the pinned connection still verifies the certificate of the URL's name", async () => {
  const dir = new URL("../fakes/tls/", import.meta.url);
  const cert = await Deno.readTextFile(new URL("img_test.crt", dir));
  const key = await Deno.readTextFile(new URL("img_test.key", dir));
  let port = 0;
  const ready = Promise.withResolvers<void>();
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    cert,
    key,
    onListen: (a) => {
      port = a.port;
      ready.resolve();
    },
  }, (req) => new Response(PNG, { headers: { "x-host": req.headers.get("host")! } }));
  await ready.promise;
  try {
    const o = options({
      allowed: (a) => a === "127.0.0.1",
      resolve: () => Promise.resolve(["127.0.0.1"]),
      ca: [cert],
    });
    const ok = await fetchPublic(`https://img.test:${port}/a.png`, o);
    assertEquals(ok.bytes, PNG);
    // Another name pinned to the same address: the certificate does not match, no fetch.
    const err = await refusal(fetchPublic(`https://other.test:${port}/a.png`, o));
    assertEquals(err.code, "url_unreachable");
  } finally {
    await server.shutdown();
  }
});

Deno.test("gemini: an image_url on loopback is a 400 and never fetched", async () => {
  const host = await imageHost();
  const gw = await startGateway({ gemini: { keys: ["AIzaFakeKeyForSsrfTests000001"] } });
  try {
    const client = new OpenAI({ baseURL: gw.url, apiKey: "x", maxRetries: 0 });
    for (const url of [`${host.origin}/secret`, `http://[::1]:${host.port}/secret`]) {
      const err = await client.chat.completions.create({
        model: "gemini-2.0-flash",
        messages: [{
          role: "user",
          content: [{ type: "text", text: "look" }, { type: "image_url", image_url: { url } }],
        }],
      }).catch((e) => e);
      assertEquals(err.status, 400);
      assertEquals(err.code, "url_refused");
      assertEquals(err.param, "messages[0].content[1].image_url.url");
      assert(!err.message.includes("secret body"));
    }
    assertEquals(host.requests.length, 0);
  } finally {
    await gw.close();
    await host.close();
  }
});
