/**
 * The browser module: finding and starting Chromium, contexts and pages over CDP, passing the
 * fake Cloudflare challenge, the clearance cache, and the shared browser's life cycle.
 */
import {
  Browser,
  BrowserError,
  Browsers,
  ChallengeTimeout,
  type Clearance,
  ClearanceCache,
  cookieMatchesHost,
  findExecutable,
  parseCookieHeader,
  passChallenge,
} from "../../src/browser/mod.ts";
import { configSchema } from "../../src/config/schema.ts";
import { GatewayError } from "../../src/openai/errors.ts";
import { assert, assertEquals, assertMatch, assertRejects } from "../assert.ts";
import { startFakeYou } from "../fakes/you_web.ts";
import { browserTest, chromium } from "./chromium.ts";

const LANG = "en-US,en;q=0.9";

async function tempScript(body: string, mode = 0o755): Promise<{ path: string; dir: string }> {
  const dir = await Deno.makeTempDir({ prefix: "browser-test-" });
  const path = `${dir}/fake-browser`;
  await Deno.writeTextFile(path, body);
  await Deno.chmod(path, mode);
  return { path, dir };
}

Deno.test("findExecutable takes a configured path only when it is an executable file", async () => {
  const exe = await tempScript("#!/bin/sh\nexit 0\n");
  const plain = await tempScript("not a program", 0o644);
  try {
    assertEquals(await findExecutable(exe.path), exe.path);
    assertEquals(await findExecutable(plain.path), undefined);
    assertEquals(await findExecutable(`${exe.dir}/missing`), undefined);
    assertEquals(await findExecutable("no-such-browser-name-xyz"), undefined);
    // A bare name is looked up on PATH.
    assertMatch((await findExecutable("sh")) ?? "", /^\/.*\/sh$/);
  } finally {
    await Deno.remove(exe.dir, { recursive: true });
    await Deno.remove(plain.dir, { recursive: true });
  }
});

Deno.test("a browser that exits at start fails with its exit code and its own words", async () => {
  const exe = await tempScript(
    "#!/bin/sh\necho '[1:1:ERROR:dbus/bus.cc] Failed to connect to the bus' >&2\n" +
      "echo 'Missing X server or $DISPLAY' >&2\nexit 3\n",
  );
  try {
    const err = await assertRejects(
      () => Browser.launch({ executable: exe.path, headless: true }),
      BrowserError,
    );
    assertMatch(err.message, /exited with code 3/);
    assertMatch(err.message, /Missing X server/);
    // D-Bus noise is left out.
    assert(!err.message.includes("dbus"), err.message);
  } finally {
    await Deno.remove(exe.dir, { recursive: true });
  }
});

Deno.test("a browser that never announces DevTools is killed after the launch timeout", async () => {
  const exe = await tempScript("#!/bin/sh\nexec sleep 30\n");
  try {
    const err = await assertRejects(
      () => Browser.launch({ executable: exe.path, headless: true, timeoutMs: 500 }),
      BrowserError,
    );
    assertMatch(err.message, /no DevTools endpoint within 500 ms/);
  } finally {
    await Deno.remove(exe.dir, { recursive: true });
  }
});

Deno.test("Browsers without a browser is a 500 that says what to install", async () => {
  const config = configSchema.parse({ browser: { executable: "/nonexistent/chromium" } });
  const browsers = new Browsers();
  const err = await assertRejects(() => browsers.get(config), GatewayError);
  assertEquals(err.status, 500);
  assertEquals(err.code, "browser_unavailable");
  assertMatch(err.message, /'\/nonexistent\/chromium' is not an executable file/);
  assertMatch(err.message, /apt-get install chromium/);
  assertEquals(await browsers.running(), false);
});

Deno.test("cookie helpers: Cookie header parsing and domain matching", () => {
  assertEquals(parseCookieHeader("Cookie: a=1; b = x=y ;bad; c="), [["a", "1"], ["b", "x=y"], [
    "c",
    "",
  ]]);
  assert(cookieMatchesHost(".you.com", "you.com"));
  assert(cookieMatchesHost("you.com", "api.you.com"));
  assert(!cookieMatchesHost("you.com", "notyou.com"));
  assert(cookieMatchesHost("127.0.0.1", "127.0.0.1"));
});

function fakeClearance(tag: string, expiresAt?: number): Clearance {
  return { cookies: { cf_clearance: tag }, userAgent: "UA", lang: LANG, expiresAt, obtainedAt: 0 };
}

Deno.test("ClearanceCache: concurrent callers share one run, then reuse it", async () => {
  const cache = new ClearanceCache();
  let runs = 0;
  let release!: () => void;
  const gate = new Promise<void>((r) => release = r);
  const solve = async () => {
    runs++;
    await gate;
    return fakeClearance(`c${runs}`);
  };
  const waiting = [cache.get("k", solve), cache.get("k", solve), cache.get("k", solve)];
  assert(cache.running("k"));
  release();
  const got = await Promise.all(waiting);
  assertEquals(runs, 1);
  assert(got.every((c) => c === got[0]));
  assertEquals(await cache.get("k", solve), got[0]);
  assertEquals(runs, 1);
  // Other keys (another site or proxy) have their own.
  await cache.get("other", solve);
  assertEquals(runs, 2);
});

Deno.test("ClearanceCache: drop forgets only the clearance that failed", async () => {
  const cache = new ClearanceCache();
  let n = 0;
  const solve = () => Promise.resolve(fakeClearance(`c${++n}`));
  const first = await cache.get("k", solve);
  cache.drop("k", first);
  const second = await cache.get("k", solve);
  assertEquals(second.cookies.cf_clearance, "c2");
  // A late report about the old one does not throw away the new one.
  cache.drop("k", first);
  assertEquals(await cache.get("k", solve), second);
});

Deno.test("ClearanceCache: expired clearances are renewed; failures are not kept", async () => {
  const cache = new ClearanceCache();
  let n = 0;
  const expiring = () => Promise.resolve(fakeClearance(`c${++n}`, Date.now() + 1000));
  await cache.get("k", expiring);
  await cache.get("k", expiring);
  assertEquals(n, 2, "a clearance about to expire is not used");

  let fail = true;
  const flaky = () =>
    fail ? Promise.reject(new Error("no luck")) : Promise.resolve(fakeClearance("ok"));
  await assertRejects(() => cache.get("f", flaky), Error, "no luck");
  fail = false;
  assertEquals((await cache.get("f", flaky)).cookies.cf_clearance, "ok");
});

Deno.test("ClearanceCache: a waiter that leaves does not stop the run for the others", async () => {
  const cache = new ClearanceCache();
  let release!: () => void;
  const gate = new Promise<void>((r) => release = r);
  const solve = async () => {
    await gate;
    return fakeClearance("shared");
  };
  const leaving = new AbortController();
  const a = cache.get("k", solve, leaving.signal);
  const b = cache.get("k", solve);
  leaving.abort(new DOMException("client left", "AbortError"));
  await assertRejects(() => a, DOMException);
  release();
  assertEquals((await b).cookies.cf_clearance, "shared");
});

browserTest("Chromium starts, runs script in isolated contexts, and closes", async () => {
  const browser = await Browser.launch({ executable: chromium!, headless: true });
  try {
    assert(browser.connected);
    assertMatch(browser.userAgent, /Chrome\/\d+/);
    const a = await browser.newContext();
    const b = await browser.newContext();
    await a.setCookies([{ name: "who", value: "a", url: "http://127.0.0.1/" }]);
    assertEquals((await a.cookies()).map((c) => `${c.name}=${c.value}`), ["who=a"]);
    assertEquals(await b.cookies(), []);
    const page = await a.newPage();
    assertEquals(await page.evaluate<number>("6 * 7"), 42);
    assertEquals(await page.evaluate<boolean>("navigator.webdriver"), false);
    await assertRejects(() => page.evaluate("no_such_thing()"), BrowserError);
    await a.close();
    await b.close();
  } finally {
    await browser.close();
  }
  assert(!browser.connected);
});

browserTest(
  "the fake challenge passes in Chromium; the clearance works only with its user agent",
  async () => {
    const fake = await startFakeYou({
      accounts: [{ session: "sess-browser-000000" }],
      challengeDelayMs: 300,
    });
    const browser = await Browser.launch({ executable: chromium!, headless: true });
    try {
      const clearance = await passChallenge(browser, {
        url: `${fake.origin}/`,
        cookieHeader: "stytch_session=sess-browser-000000; cf_clearance=stale-value",
        lang: "de-DE,de;q=0.9",
        timeoutMs: 20_000,
      });
      assertEquals(fake.clearancesIssued, 1);
      assertMatch(clearance.cookies.cf_clearance, /^[0-9a-f]{32}\.[0-9a-f]+$/);
      assert(!clearance.userAgent.includes("Headless"), clearance.userAgent);
      assertEquals(clearance.lang, "de-DE,de;q=0.9");
      assert(clearance.expiresAt! > Date.now() + 60_000, "cf_clearance expiry is taken");
      // The browser opened the site with the account's cookies (not the stale clearance) and the
      // language asked for.
      const first = fake.requests[0];
      assertEquals(first.path, "/");
      assertEquals(first.headers.get("cookie"), "stytch_session=sess-browser-000000");
      assertMatch(first.headers.get("accept-language") ?? "", /^de-DE/);

      const call = (ua: string, cookie: string) =>
        fetch(`${fake.origin}/api/user/getYouProState`, {
          headers: { "user-agent": ua, cookie, origin: fake.origin },
        });
      const cookie =
        `stytch_session=sess-browser-000000; cf_clearance=${clearance.cookies.cf_clearance}`;
      const ok = await call(clearance.userAgent, cookie);
      assertEquals(ok.status, 200);
      assertEquals((await ok.json()).freemium.max_calls, 5);
      const otherUa = await call(clearance.userAgent.replace("Chrome/", "Chrome/1"), cookie);
      assertEquals(otherUa.status, 403);
      assertEquals(otherUa.headers.get("cf-mitigated"), "challenge");
      await otherUa.body?.cancel();
      const none = await call(clearance.userAgent, "stytch_session=sess-browser-000000");
      assertEquals(none.status, 403);
      assertMatch(await none.text(), /<title>Just a moment\.\.\.<\/title>/);
    } finally {
      await browser.close();
      await fake.close();
    }
  },
);

browserTest("a plain HTTP client cannot pass the fake challenge", async () => {
  const fake = await startFakeYou({ accounts: [], challengeDelayMs: 50 });
  try {
    const page = await fetch(`${fake.origin}/`);
    assertEquals(page.status, 403);
    await page.text();
    // Reloading without running the script gets another challenge, never a clearance.
    const again = await fetch(`${fake.origin}/`, { headers: { cookie: "cf_clearance=guess.0" } });
    assertEquals(again.status, 403);
    await again.text();
    assertEquals(fake.clearancesIssued, 0);
  } finally {
    await fake.close();
  }
});

browserTest("a challenge that never passes times out with what the page showed", async () => {
  const fake = await startFakeYou({ accounts: [], challengeDelayMs: 120_000 });
  const browser = await Browser.launch({ executable: chromium!, headless: true });
  try {
    const err = await assertRejects(
      () => passChallenge(browser, { url: `${fake.origin}/`, lang: LANG, timeoutMs: 1500 }),
      ChallengeTimeout,
    );
    assertMatch(
      err.message,
      /did not pass within 2s \(the page still shows 'Just a moment\.\.\.'\)/,
    );
  } finally {
    await browser.close();
    await fake.close();
  }
});

browserTest(
  "a site without a challenge passes once its page settles, without cookies",
  async () => {
    const fake = await startFakeYou({ accounts: [], noChallenge: true });
    const browser = await Browser.launch({ executable: chromium!, headless: true });
    try {
      const c = await passChallenge(browser, {
        url: `${fake.origin}/`,
        lang: LANG,
        timeoutMs: 10_000,
        settleMs: 300,
      });
      assertEquals(c.cookies, {});
      assertEquals(c.expiresAt, undefined);
      assertMatch(c.userAgent, /Chrome\//);
    } finally {
      await browser.close();
      await fake.close();
    }
  },
);

browserTest("a site that cannot be reached fails at once with the browser's reason", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const browser = await Browser.launch({ executable: chromium!, headless: true });
  try {
    const err = await assertRejects(
      () =>
        passChallenge(browser, { url: `http://127.0.0.1:${port}/`, lang: LANG, timeoutMs: 10_000 }),
      BrowserError,
    );
    assertMatch(err.message, /ERR_CONNECTION_REFUSED/);
  } finally {
    await browser.close();
  }
});

browserTest(
  "the server's browser is started once, closed by close, and started again",
  async () => {
    const config = configSchema.parse({});
    const browsers = new Browsers();
    try {
      const [a, b] = await Promise.all([browsers.get(config), browsers.get(config)]);
      assert(a === b, "concurrent callers get the same browser");
      assert(await browsers.running());
      await browsers.close();
      assert(!a.connected);
      assertEquals(await browsers.running(), false);
      const c = await browsers.get(config);
      assert(c !== a && c.connected);
      // Changed settings start a new browser and close the old one.
      const d = await browsers.get(configSchema.parse({ browser: { args: ["--lang=de"] } }));
      assert(d !== c && d.connected);
    } finally {
      await browsers.close();
    }
    assertEquals(await browsers.running(), false);
  },
);

browserTest("close during a launch stops that launch too", async () => {
  const config = configSchema.parse({});
  const browsers = new Browsers();
  const starting = browsers.get(config);
  await browsers.close();
  await assertRejects(() => starting);
  assertEquals(await browsers.running(), false);
});

/**
 * A forward proxy that records the first line of every connection (so `CONNECT host:443` of
 * HTTPS traffic is seen too) and forwards plain HTTP requests for `allowed` to it.
 */
function recordingProxy(allowed: string) {
  const seen: string[] = [];
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns = new Set<Deno.Conn>();
  (async () => {
    for await (const conn of listener) {
      conns.add(conn);
      (async () => {
        const buf = new Uint8Array(16384);
        const n = await conn.read(buf).catch(() => null);
        const head = n ? new TextDecoder().decode(buf.subarray(0, n)) : "";
        const line = head.split("\r\n")[0];
        if (line) seen.push(line);
        const url = line.split(" ")[1] ?? "";
        if (url.startsWith(`http://${allowed}/`)) {
          const path = url.slice(`http://${allowed}`.length);
          const res = await fetch(`http://${allowed}${path}`).catch(() => undefined);
          const body = res ? await res.text() : "";
          const out = `HTTP/1.1 ${res?.status ?? 502} OK\r\ncontent-type: text/html\r\n` +
            `content-length: ${
              new TextEncoder().encode(body).length
            }\r\nconnection: close\r\n\r\n${body}`;
          await conn.write(new TextEncoder().encode(out)).catch(() => {});
        }
        conn.close();
        conns.delete(conn);
      })().catch(() => {});
    }
  })().catch(() => {});
  const port = (listener.addr as Deno.NetAddr).port;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close() {
      listener.close();
      for (const c of conns) c.close();
    },
  };
}

browserTest(
  "Chromium makes no traffic of its own: only the page's requests reach the proxy",
  async () => {
    const site = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      () =>
        new Response("<html><body>hello</body></html>", {
          headers: { "content-type": "text/html" },
        }),
    );
    const host = `127.0.0.1:${site.addr.port}`;
    const proxy = recordingProxy(host);
    const browser = await Browser.launch({ executable: chromium!, headless: true });
    try {
      const ctx = await browser.newContext({ proxy: proxy.url });
      const page = await ctx.newPage();
      await page.navigate(`http://${host}/page`);
      // Chromium's sign-in, component-update and time queries start within a second of launch.
      await new Promise((r) => setTimeout(r, 3000));
      assert(
        proxy.seen.some((l) => l.includes(`${host}/page`)),
        `the page came through: ${proxy.seen}`,
      );
      const foreign = proxy.seen.filter((l) => !l.includes(`//${host}/`));
      assertEquals(foreign, [], "connections Chromium made of its own accord");
      await ctx.close();
    } finally {
      await browser.close();
      proxy.close();
      await site.shutdown();
    }
  },
);
