/**
 * The reCAPTCHA minter against the arena.ai fake's page (its script gives tokens only to a
 * browser): concurrent first mints share one page, a kept page serves later mints, a caller that
 * leaves does not stop the opening for others, and a page that never gets ready is a timeout.
 */
import { assert, assertEquals, assertRejects } from "../assert.ts";
import { Browsers, RecaptchaMinter, RecaptchaTimeout } from "../../src/browser/mod.ts";
import { configSchema } from "../../src/config/schema.ts";
import { startFakeArena } from "../fakes/arena.ts";
import { browserTest } from "./chromium.ts";

const UA =
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/147.0.0.0 Safari/537.36";

async function setup(options: Parameters<typeof startFakeArena>[0] = {}, maxPages?: number) {
  const fake = await startFakeArena(options);
  const browsers = new Browsers();
  const config = configSchema.parse({ browser: { args: ["--ignore-certificate-errors"] } });
  const minter = new RecaptchaMinter(maxPages);
  const mint = (timeoutMs = 30_000, signal?: AbortSignal, key = "k") =>
    minter.mint(key, {
      browser: () => browsers.get(config),
      url: `${fake.origin}/?mode=direct`,
      action: "chat_submit",
      userAgent: UA,
      lang: "en-US,en;q=0.9",
      timeoutMs,
      signal,
    });
  return {
    fake,
    minter,
    mint,
    async [Symbol.asyncDispose]() {
      await minter.close();
      await browsers.close();
      await fake.close();
    },
  };
}

browserTest(
  "recaptcha: concurrent first mints share one page; the page serves later mints",
  async () => {
    await using t = await setup();
    const tokens = await Promise.all([t.mint(), t.mint(), t.mint()]);
    const again = await t.mint();
    const all = [...tokens, again].map((x) => x.token);
    assertEquals(new Set(all).size, 4);
    assert(all.every((x) => /^03A[0-9a-f]{32}\.[0-9a-f]+$/.test(x)));
    assertEquals(t.fake.pagesServed, 1);
    assertEquals(tokens[0].siteKey, t.fake.siteKey);
    // The page's session comes with the token, and the page presented the user agent asked for.
    assert(t.fake.sessions.has(again.cookies["arena-auth-prod-v1"]));
    const page = t.fake.requests.find((r) => r.path === "/")!;
    assertEquals(page.headers.get("user-agent"), UA);
    assert(
      page.headers.get("sec-ch-ua")?.includes('"Google Chrome";v="147"'),
      page.headers.get("sec-ch-ua")!,
    );
    assertEquals(page.headers.get("sec-ch-ua-platform"), '"Windows"');
  },
);

browserTest(
  "recaptcha: a caller that leaves does not stop the page others wait for; reset reopens",
  async () => {
    await using t = await setup();
    const ac = new AbortController();
    const leaving = t.mint(30_000, ac.signal);
    const staying = t.mint();
    ac.abort(new Error("client left"));
    await assertRejects(() => leaving, Error, "client left");
    assert((await staying).token.startsWith("03A"));
    await t.minter.reset("k");
    await t.mint();
    assertEquals(t.fake.pagesServed, 2);
  },
);

browserTest(
  "recaptcha: a page that never gets reCAPTCHA ready times out and is closed",
  async () => {
    await using t = await setup({ noRecaptcha: true });
    const started = Date.now();
    const err = await assertRejects(() => t.mint(2000), RecaptchaTimeout);
    assert(err.message.includes("reCAPTCHA did not load"), err.message);
    assert(Date.now() - started < 30_000);
    // The failed page is not kept: the next mint opens a new one.
    await assertRejects(() => t.mint(1000), RecaptchaTimeout);
    assertEquals(t.fake.pagesServed, 2);
  },
);

browserTest(
  "recaptcha: at most maxPages pages are kept, the least recently used is closed",
  async () => {
    await using t = await setup({}, 2);
    await t.mint(30_000, undefined, "a");
    await t.mint(30_000, undefined, "b");
    await t.mint(30_000, undefined, "a"); // kept; "b" is now the least recently used
    await t.mint(30_000, undefined, "c"); // closes "b"
    assertEquals(t.fake.pagesServed, 3);
    await t.mint(30_000, undefined, "a"); // still kept
    assertEquals(t.fake.pagesServed, 3);
    await t.mint(30_000, undefined, "b"); // opened again
    assertEquals(t.fake.pagesServed, 4);
  },
);
