/**
 * The browser module's clearance service: captcha tokens minted in a page of the site (reCAPTCHA
 * Enterprise for arena.ai, Turnstile for Copilot) with the transport's user agent and client
 * hints, through the TLS gate and `server.ca-file`; its retry-once policy; the public key hashes
 * that make Chromium trust `server.ca-file`.
 */
import { assert, assertEquals, assertRejects } from "../assert.ts";
import { Browsers, ClearanceService, spkiHashes } from "../../src/browser/mod.ts";
import { configSchema } from "../../src/config/schema.ts";
import { challengeError } from "../../src/net/cloudflare.ts";
import { chromeUserAgent } from "../../src/net/transport/mod.ts";
import { GatewayError } from "../../src/openai/errors.ts";
import { startTlsGate } from "../fakes/tls_gate.ts";
import { testCa } from "../fakes/test_ca.ts";
import { browserTest } from "./chromium.ts";

Deno.test("spki hashes of server.ca-file are openssl's", async () => {
  const ca = await testCa();
  const p = new Deno.Command("sh", {
    args: [
      "-c",
      `openssl x509 -in ${ca.caFile} -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64`,
    ],
    stdout: "piped",
  });
  const expected = new TextDecoder().decode((await p.output()).stdout).trim();
  assertEquals(await spkiHashes(ca.caPem), [expected]);
  // A bundle of two (the server certificate is a certificate too); junk is skipped.
  const two = await spkiHashes(
    `${ca.caPem}\n${ca.cert}\n-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----`,
  );
  assertEquals(two.length, 2);
  assertEquals(two[0], expected);
});

/** A site whose pages provide (or load) the captcha APIs; tokens name what they saw. */
async function captchaSite() {
  return await startTlsGate((req) => {
    const path = new URL(req.url).pathname;
    const html = (body: string) =>
      new Response(`<html><head><title>site</title></head><body>${body}</body></html>`, {
        headers: { "content-type": "text/html" },
      });
    const seen =
      `navigator.userAgent + "|" + JSON.stringify(navigator.userAgentData.brands) + "|" + navigator.userAgentData.platform`;
    if (path === "/recaptcha.js") {
      return new Response(
        `window.grecaptcha = { enterprise: { ready: function (cb) { setTimeout(cb, 10); },
          execute: function (key, o) { return Promise.resolve(key + "|" + o.action + "|" + ${seen}); } } };`,
        { headers: { "content-type": "application/javascript" } },
      );
    }
    if (path === "/with-turnstile") {
      return html(`<script>window.turnstile = { render: function (el, o) {
        if (o.sitekey === "bad") { o["error-callback"]("110100"); return; }
        setTimeout(function () { o.callback("ts|" + o.sitekey + "|" + ${seen}); }, 50);
      } };</script>`);
    }
    return html("nothing loaded yet");
  });
}

browserTest(
  "clearance service: a reCAPTCHA token minted in a page, its script loaded there",
  async () => {
    const gate = await captchaSite();
    const browsers = new Browsers();
    try {
      const config = configSchema.parse({
        server: { "ca-file": gate.caFile },
        browser: { timeout: 30 },
      });
      const service = new ClearanceService(browsers);
      const id = { provider: "arena", site: `${gate.origin}/`, account: "" };
      const token = await service.token(id, config, {
        kind: "recaptcha",
        siteKey: "6Lsite",
        action: "chat_submit",
        scriptUrl: `${gate.origin}/recaptcha.js`,
      });
      const [key, action, ua, brands, platform] = token.split("|");
      assertEquals([key, action], ["6Lsite", "chat_submit"]);
      // The page looked like the chrome transport: its user agent and client hints.
      assertEquals(ua, chromeUserAgent());
      assert(brands.includes('"brand":"Google Chrome","version":"147"'), brands);
      assertEquals(platform, "Windows");
      assert(gate.passed.some((p) => p.path === "/recaptcha.js"), "the script came from the site");
      assert(gate.verdicts.every((v) => v.browser));

      const ts = await service.token(id, config, {
        kind: "turnstile",
        siteKey: "0xsite",
        pageUrl: `${gate.origin}/with-turnstile`,
      });
      assert(ts.startsWith(`ts|0xsite|${chromeUserAgent()}|`), ts);

      const err = await assertRejects(
        () =>
          service.token(id, config, {
            kind: "turnstile",
            siteKey: "bad",
            pageUrl: `${gate.origin}/with-turnstile`,
          }),
        GatewayError,
      );
      assertEquals([err.status, err.code], [502, "challenge_failed"]);
      assert(err.message.includes("turnstile error 110100"), err.message);
    } finally {
      await browsers.close();
      await gate.close();
    }
  },
);

browserTest("clearance service: a challenge is retried once with a fresh clearance", async () => {
  const gate = await captchaSite();
  const browsers = new Browsers();
  try {
    const config = configSchema.parse({ server: { "ca-file": gate.caFile } });
    const service = new ClearanceService(browsers);
    const id = { provider: "test", site: `${gate.origin}/`, account: "acct" };
    let calls = 0;
    const answer = await service.run(id, config, undefined, (c) => {
      calls++;
      if (calls === 1) {
        assertEquals(c, undefined);
        throw challengeError("test", "site");
      }
      assert(c && c.userAgent === chromeUserAgent());
      return Promise.resolve("ok");
    });
    assertEquals([answer, calls], ["ok", 2]);
    // Kept for the identity: the next run starts with it.
    assert(service.peek(id));
    assertEquals(service.peek({ ...id, account: "other" }), undefined);
    // A second challenge after the fresh clearance is thrown, not retried for ever.
    calls = 0;
    const err = await assertRejects(
      () =>
        service.run(id, config, undefined, () => {
          calls++;
          throw challengeError("test", "site");
        }),
      GatewayError,
    );
    assertEquals([err.status, err.code, calls], [403, "cloudflare_challenge", 2]);
    assert(err.message.includes("even with a fresh clearance"));
  } finally {
    await browsers.close();
    await gate.close();
  }
});
