/**
 * Copilot with Chromium: a stale Cloudflare clearance is earned again in the browser (with the
 * transport's user agent, through the TLS gate, trusting `server.ca-file`) and the call retried
 * once; the chat socket's Turnstile challenge gets a token minted in a page of the site; a
 * challenge that does not pass in time is a 504 that says so, and `/v1/pool` shows the account
 * with the reason instead of setting it aside. Skipped (with a message) without Chromium.
 */
import OpenAI from "openai";
import { assert, assertEquals, assertInstanceOf, assertMatch } from "../../assert.ts";
import { chromeUserAgent } from "../../../src/net/transport/mod.ts";
import { browserTest } from "../../browser/chromium.ts";
import { eventsOf, setup } from "./helpers.ts";

const ask = (text: string) => [{ role: "user" as const, content: text }];

browserTest(
  "copilot: a stale clearance is earned again in Chromium and the call retried",
  async () => {
    await using t = await setup({ copilot: { anonymous: 1 } });
    const first = await t.client.chat.completions.create({ model: "copilot", messages: ask("a") });
    assertEquals(first.choices[0].message.content, "You said: a");
    assertEquals(t.fake.challengesServed, 0, "no challenge, no browser");
    assertEquals(await t.gw.browsers.running(), false);

    t.fake.expireClearances();
    const second = await t.client.chat.completions.create({ model: "copilot", messages: ask("b") });
    assertEquals(second.choices[0].message.content, "You said: b");
    assertEquals(t.fake.clearancesIssued, 1);
    // The browser opened the site as the transport does: same user agent, Chrome 147 hints.
    const page = t.fake.requests.find((r) =>
      r.path === "/" && /cf_clearance=/.test(r.headers.get("cookie") ?? "")
    )!;
    assertEquals(page.headers.get("user-agent"), chromeUserAgent());
    assertMatch(page.headers.get("sec-ch-ua") ?? "", /"Google Chrome";v="147"/);
    assertEquals(page.headers.get("sec-ch-ua-platform"), '"Windows"');
    // The retried calls and the socket carried the clearance.
    const socket = t.fake.sockets.at(-1)!;
    assertMatch(socket.headers.get("cookie") ?? "", /cf_clearance=/);
    assertEquals(socket.refused, undefined);
    // Cloudflare's refusal blamed nobody.
    const [acct] = await t.pool();
    assertEquals([acct.ready, acct.clearance_failures], [true, 0]);
    assert(
      t.gw.logs.some((l) => /Cloudflare's challenge stopped .*earning a fresh clearance/.test(l)),
    );

    // Kept: the next request needs no browser run.
    const served = t.fake.challengesServed;
    const third = await t.client.chat.completions.create({ model: "copilot", messages: ask("c") });
    assertEquals(third.choices[0].message.content, "You said: c");
    assertEquals(t.fake.challengesServed, served);
  },
);

browserTest(
  "copilot: the socket's Turnstile challenge is answered with a token from Chromium",
  async () => {
    await using t = await setup({ copilot: { anonymous: 1 } });
    t.fake.respond = () => ({ challenge: { method: null } });
    const res = await t.client.chat.completions.create({ model: "copilot", messages: ask("t") });
    assertEquals(res.choices[0].message.content, "You said: t");
    assertEquals(t.fake.turnstileSpent, 1);
    const socket = t.fake.sockets[0];
    assertEquals(eventsOf(socket.received), [
      "setOptions",
      "reportLocalConsents",
      "send",
      "challengeResponse",
      "send",
    ]);
    const answer = socket.received[3] as { method: string; token: string };
    assertEquals(answer.method, "cloudflare");
    assertMatch(answer.token, /^[0-9a-f]{32}\.[0-9a-f]+$/);
  },
);

browserTest(
  "copilot: a challenge that does not pass in time is a 504; the pool shows why",
  async () => {
    await using t = await setup({
      fake: { requireClearance: true, challengeDelayMs: 120_000 },
      copilot: { anonymous: 1 },
      extra: { browser: { timeout: 1.5 } },
    });
    const started = Date.now();
    const err = await t.client.chat.completions.create({ model: "copilot", messages: ask("x") })
      .catch((e) => e);
    assertInstanceOf(err, OpenAI.APIError);
    assertEquals(err.status, 504);
    assertEquals(err.code, "challenge_timeout");
    assertMatch(err.message, /challenge was not solved in time: .*did not pass within 2s/);
    assert(Date.now() - started < 60_000);
    assertEquals(t.fake.sockets.length, 0);
    const [acct] = await t.pool();
    assertEquals(acct.ready, true, "a clearance failure does not set the account aside");
    assertEquals(acct.clearance_failures, 1);
    assertMatch(acct.last_error ?? "", /not solved in time/);
  },
);
