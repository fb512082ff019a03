/**
 * Account pools: least-busy selection, rotation, concurrency, release, cooldown and its expiry,
 * auth failures, retries on the next account only before the first event, clear 429s.
 */
import { assert, assertEquals, assertMatch, assertRejects } from "../assert.ts";
import { GatewayError } from "../../src/openai/errors.ts";
import { Pool, PoolSet, useAccount, withAccount } from "../../src/pool/mod.ts";
import { collect } from "../chunks.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test("equal accounts rotate; the least busy one is picked", async () => {
  const pool = new Pool("p");
  pool.update(["a-secret-1", "b-secret-2", "c-secret-3"], { concurrency: 2 });
  const picks: string[] = [];
  for (let i = 0; i < 3; i++) {
    const l = await pool.acquire();
    picks.push(l.secret);
    l.release();
  }
  assertEquals(picks, ["a-secret-1", "b-secret-2", "c-secret-3"]);
  const held = [await pool.acquire(), await pool.acquire(), await pool.acquire()];
  // All busy once: the next goes to the one picked longest ago among the least busy.
  const fourth = await pool.acquire();
  assertEquals(fourth.secret, "a-secret-1");
  held[1].release();
  const fifth = await pool.acquire();
  assertEquals(fifth.secret, "b-secret-2");
  for (const l of [...held, fourth, fifth]) l.release();
  assertEquals(pool.state().map((s) => s.busy), [0, 0, 0]);
});

Deno.test("concurrency limit: a request waits for a release, then gets 429 when none comes", async () => {
  const pool = new Pool("claude");
  pool.update(["only-cookie-1"], { concurrency: 1, waitMs: 300 });
  const first = await pool.acquire();
  const t0 = Date.now();
  setTimeout(() => first.release(), 100);
  const second = await pool.acquire();
  assert(Date.now() - t0 >= 90);
  const err = await assertRejects(() => pool.acquire(), GatewayError);
  assertEquals(err.status, 429);
  assertMatch(err.message, /every claude account is busy/);
  second.release();
});

Deno.test("a release wakes every waiter, so the one that can use the account gets it at once", async () => {
  const pool = new Pool("claude");
  pool.update(["x-cookie-1", "y-cookie-2"], { concurrency: 1, waitMs: 10_000 });
  const x = await pool.acquire();
  const y = await pool.acquire();
  // Three waiters; only the middle one may take y. A wake call that missed it would leave y idle
  // until the waiter's one-second re-check.
  const onlyX = new Set(["y-cookie-2"]);
  const onlyY = new Set(["x-cookie-1"]);
  const first = pool.acquire(undefined, onlyX);
  const middle = pool.acquire(undefined, onlyY);
  const last = pool.acquire(undefined, onlyX);
  await sleep(20);
  const t0 = performance.now();
  y.release();
  const got = await middle;
  const ms = performance.now() - t0;
  assertEquals(got.secret, "y-cookie-2");
  assert(ms < 500, `the free account waited ${ms} ms for its waiter`);
  x.release();
  (await first).release();
  (await last).release();
  got.release();
  assertEquals(pool.state().map((s) => s.busy), [0, 0]);
});

Deno.test("a 429 sets the account aside for Retry-After; it comes back when that expires", async () => {
  const pool = new Pool("gemini");
  pool.update(["key-one-1234", "key-two-5678"], { concurrency: 10 });
  const l = await pool.acquire();
  l.cooldown("429 quota", 0.3);
  l.release();
  const state = pool.state();
  assertEquals(state[0].ready, false);
  assert(state[0].aside_until !== null);
  assertEquals(state[0].last_error, "429 quota");
  assertEquals(state[0].id, "key…234");
  // Only the other one is handed out now.
  for (let i = 0; i < 3; i++) {
    const x = await pool.acquire();
    assertEquals(x.secret, "key-two-5678");
    x.release();
  }
  await sleep(350);
  assertEquals(pool.state()[0].ready, true);
});

Deno.test("when every account rests the error says when the first returns", async () => {
  const pool = new Pool("cohere");
  pool.update(["k1-abcdefgh", "k2-abcdefgh"], {});
  const a = await pool.acquire();
  a.cooldown("429", 30);
  a.release();
  const b = await pool.acquire();
  b.authFailed("401 invalid key");
  b.release();
  const err = await assertRejects(() => pool.acquire(), GatewayError);
  assertEquals(err.status, 429);
  assertEquals(err.code, "pool_cooling_down");
  assertMatch(
    err.message,
    /every cohere account is cooling down \(2 set aside\); the first is ready again in (29|30)s/,
  );
  assert(err.retryAfter === 30 || err.retryAfter === 29);
});

Deno.test("an empty pool without a client credential is a 401 that says what to do", async () => {
  const pool = new PoolSet().get("claude", []);
  const err = await assertRejects(() => pool.acquire(), GatewayError);
  assertEquals(err.status, 401);
  assertMatch(err.message, /configure claude accounts in config\.yaml/);
});

Deno.test("withAccount retries the next account before the first event, and records why", async () => {
  const pool = new Pool("claude");
  pool.update(["cookie-a-111", "cookie-b-222", "cookie-c-333"], { cooldown: 3600 });
  const tried: string[] = [];
  const events = await collect(withAccount(pool, {}, async function* (secret) {
    tried.push(secret);
    if (secret === "cookie-a-111") {
      throw new GatewayError(429, "claude answered 429", undefined, null, null, {
        retryAfter: 120,
      });
    }
    if (secret === "cookie-b-222") throw new GatewayError(403, "claude answered 403");
    yield { type: "text", text: `ok from ${secret}` };
  }));
  assertEquals(tried, ["cookie-a-111", "cookie-b-222", "cookie-c-333"]);
  assertEquals(events, [{ type: "text", text: "ok from cookie-c-333" }]);
  const s = pool.state();
  assertEquals(s.map((a) => a.ready), [false, false, true]);
  assertEquals(s.map((a) => a.busy), [0, 0, 0]);
  // 429 rests for Retry-After (120 s), 403 for the auth re-check (an hour by default).
  const until = s.map((a) => a.aside_until ? Date.parse(a.aside_until) - Date.now() : 0);
  assert(until[0] > 100_000 && until[0] <= 120_000, String(until[0]));
  assert(until[1] > 3_500_000, String(until[1]));
});

Deno.test("withAccount does not retry after the first event, nor on a request error", async () => {
  const pool = new Pool("p");
  pool.update(["s1-abcdef", "s2-abcdef"], {});
  let calls = 0;
  await assertRejects(
    () =>
      collect(withAccount(pool, {}, async function* () {
        calls++;
        yield { type: "text", text: "partial" };
        throw new GatewayError(502, "broke mid-stream");
      })),
    GatewayError,
    "broke mid-stream",
  );
  assertEquals(calls, 1);
  calls = 0;
  await assertRejects(
    () =>
      // deno-lint-ignore require-yield
      collect(withAccount(pool, {}, async function* () {
        calls++;
        throw new GatewayError(400, "bad request");
      })),
    GatewayError,
    "bad request",
  );
  assertEquals(calls, 1);
  assertEquals(pool.state().map((a) => a.busy), [0, 0]);
});

Deno.test("withAccount gives up after three tries with the upstream's own error", async () => {
  const pool = new Pool("p");
  pool.update(["s1-abcdef", "s2-abcdef", "s3-abcdef", "s4-abcdef"], {});
  let calls = 0;
  const err = await assertRejects(() =>
    // deno-lint-ignore require-yield
    collect(withAccount(pool, {}, async function* () {
      calls++;
      throw new GatewayError(502, `upstream down ${calls}`);
    })), GatewayError);
  assertEquals(calls, 3);
  assertEquals(err.message, "upstream down 3");
});

Deno.test("the account is released when the consumer abandons the stream", async () => {
  const pool = new Pool("p");
  pool.update(["only-one-secret"], { concurrency: 1 });
  const it = withAccount(pool, {}, async function* () {
    while (true) {
      yield { type: "text", text: "x" };
      await sleep(1);
    }
  })[Symbol.asyncIterator]();
  await it.next();
  assertEquals(pool.state()[0].busy, 1);
  await it.return!(undefined);
  assertEquals(pool.state()[0].busy, 0);
});

Deno.test("a client token bypasses the pool", async () => {
  const pool = new Pool("p");
  pool.update([], {});
  const events = await collect(
    withAccount(pool, { token: "client-own-key" }, async function* (secret) {
      yield { type: "text", text: secret };
    }),
  );
  assertEquals(events, [{ type: "text", text: "client-own-key" }]);
  assertEquals(
    await useAccount(pool, { token: "tok-123456" }, (s) => Promise.resolve(s.length)),
    10,
  );
});

Deno.test("updating the list keeps the state of accounts that stay", async () => {
  const set = new PoolSet();
  const pool = set.get("p", ["keep-me-123", "drop-me-456"]);
  const l = await pool.acquire();
  l.cooldown("429", 100);
  l.release();
  set.get("p", ["keep-me-123", "new-one-789"]);
  assertEquals(pool.state().map((a) => [a.id, a.ready]), [["kee…123", false], ["new…789", true]]);
  assertEquals(set.state().map((p) => p.provider), ["p"]);
});

Deno.test("a Cloudflare challenge is no auth failure: the account stays ready, the pool shows it", async () => {
  const { challengeError, challengeTimeout } = await import("../../src/net/cloudflare.ts");
  const pool = new Pool("copilot");
  pool.update(["session-one-1", "session-two-2"], { concurrency: 1 });
  let calls = 0;
  const failing = withAccount(pool, {}, (secret) => {
    calls++;
    // deno-lint-ignore require-yield
    return (async function* () {
      throw challengeError("copilot", `host-of-${secret}`);
    })();
  });
  const err = await assertRejects(() => collect(failing), GatewayError);
  assertEquals([err.status, err.code], [403, "cloudflare_challenge"]);
  // Not retried on the next account (same address, same user agent), nobody set aside.
  assertEquals(calls, 1);
  let state = pool.state();
  assertEquals(state.map((s) => s.ready), [true, true]);
  assertEquals(state[0].clearance_failures, 1);
  assert(state[0].last_error!.includes("Cloudflare's challenge"), state[0].last_error!);

  // A challenge not solved in time (504) counts too (the other account's turn now).
  const timedOut = withAccount(pool, {}, () =>
    // deno-lint-ignore require-yield
    (async function* () {
      throw challengeTimeout("copilot", "30s");
    })());
  const t = await assertRejects(() => collect(timedOut), GatewayError);
  assertEquals([t.status, t.code], [504, "challenge_timeout"]);
  state = pool.state();
  assertEquals(state.map((s) => s.clearance_failures), [1, 1]);
  assertEquals(state.map((s) => s.aside_until), [null, null]);

  // A success resets the count of the account that served it.
  const ok = withAccount(pool, {}, () =>
    (async function* () {
      yield { type: "text" as const, text: "fine" };
    })());
  await collect(ok);
  assertEquals(pool.state().map((s) => s.clearance_failures), [0, 1]);
  // A plain 403 of the site itself is still an auth failure.
  const denied = withAccount(pool, { tries: 1 }, () =>
    // deno-lint-ignore require-yield
    (async function* () {
      throw new GatewayError(403, "account suspended");
    })());
  await assertRejects(() => collect(denied), GatewayError);
  assertEquals(pool.state().map((s) => s.ready), [true, false]);
});
