/**
 * reCAPTCHA v3 (Enterprise) tokens minted in Chromium, for upstreams that want one per request
 * (arena.ai: `grecaptcha.enterprise.execute(siteKey, {action: "chat_submit"})`, reference section
 * 4). A token proves a real browser ran Google's script on the site's own page, so it can only be
 * made in one: a page of the site is opened in its own browser context (the account's cookies,
 * the caller's user agent with matching client hints, the caller's proxy), kept open while it
 * works, and asked for a fresh token each time. The page's cookies (the site's session, a
 * Cloudflare clearance earned on the way) come back with the token, so that the API call that
 * carries it presents the same identity.
 *
 * Every mint is bounded by `timeoutMs`: a page that never gets reCAPTCHA ready (a challenge that
 * does not pass, a site that hangs) fails with `RecaptchaTimeout`, saying what the page showed.
 *
 * @module
 */
import { pause } from "../util/signal.ts";
import { cookieMatchesHost, parseCookieHeader } from "./site.ts";
import type { Browser } from "./launch.ts";
import { type BrowserContext, BrowserError, type Page } from "./page.ts";

/** What one mint needs. */
export interface MintOptions {
  /** The server's browser (started on first use). */
  browser: () => Promise<Browser>;
  /** A page of the site whose scripts load reCAPTCHA. */
  url: string;
  /** The action the token is for (`chat_submit`). */
  action: string;
  /** The site key; read from the page's reCAPTCHA script (`render=`) when not given. */
  siteKey?: string;
  /** The account's cookies, as a `Cookie` header value. */
  cookieHeader?: string;
  /** The proxy the page goes through (the one the API calls use). */
  proxy?: string;
  /** The user agent the page presents (the one the API calls send). */
  userAgent: string;
  /** `Accept-Language`. */
  lang: string;
  /** Milliseconds the whole mint may take, page load included. */
  timeoutMs: number;
  /** Stops waiting (the client left); a page being opened goes on for the next caller. */
  signal?: AbortSignal;
}

/** A minted token and the identity that goes with it. */
export interface RecaptchaToken {
  token: string;
  siteKey: string;
  /** The site's cookies in the page's context (session, clearance), name -> value. */
  cookies: Record<string, string>;
  userAgent: string;
}

/** reCAPTCHA did not become ready, or gave no token, in time. */
export class RecaptchaTimeout extends BrowserError {
  override name = "RecaptchaTimeout";
}

/** An open page of one site, ready to mint. */
interface Warm {
  browser: Browser;
  context: BrowserContext;
  page: Page;
  siteKey: string;
  host: string;
}

/** A page of one key: being opened, or open. */
interface Slot {
  opening: Promise<Warm>;
  /** Set as soon as the context exists, so that a stuck opening can still be closed. */
  context?: BrowserContext;
  closed: boolean;
}

/** What the page says about itself while it loads. */
interface PageState {
  ready: boolean;
  siteKey: string | null;
  title: string;
}

const PAGE_STATE = `JSON.stringify({
  ready: !!(window.grecaptcha && window.grecaptcha.enterprise &&
    typeof window.grecaptcha.enterprise.execute === "function"),
  siteKey: (() => {
    for (const s of document.scripts) {
      const m = /[?&]render=([\\w-]+)/.exec(s.src || "");
      if (m && m[1] !== "explicit") return m[1];
    }
    return null;
  })(),
  title: document.title,
})`;

/** The `sec-ch-ua` brands of a Chrome user agent, so that client hints agree with it. */
function clientHints(userAgent: string): Record<string, unknown> | undefined {
  const major = /Chrome\/(\d+)/.exec(userAgent)?.[1];
  if (!major) return undefined;
  const platform = /Windows/.test(userAgent)
    ? "Windows"
    : /Mac OS X/.test(userAgent)
    ? "macOS"
    : "Linux";
  return {
    brands: [
      { brand: "Google Chrome", version: major },
      { brand: "Chromium", version: major },
      { brand: "Not/A)Brand", version: "24" },
    ],
    fullVersion: `${major}.0.0.0`,
    platform,
    platformVersion: platform === "Windows" ? "10.0.0" : "",
    architecture: "x86",
    model: "",
    mobile: false,
  };
}

/**
 * Pages that mint reCAPTCHA tokens, one per key (an upstream, an account, a proxy). The first mint
 * of a key opens the page; later ones reuse it; concurrent first mints share one opening. At most
 * `maxPages` are kept (keys can come from clients): opening one more closes the least recently
 * used.
 */
export class RecaptchaMinter {
  #warm = new Map<string, Slot>();

  constructor(readonly maxPages = 8) {}

  /** A fresh token for `key`'s page, opening it first when needed. */
  async mint(key: string, options: MintOptions): Promise<RecaptchaToken> {
    const deadline = Date.now() + options.timeoutMs;
    const host = new URL(options.url).host;
    for (let round = 0;; round++) {
      let slot = this.#warm.get(key);
      const fresh = !slot;
      if (slot) {
        // Most recently used last: the first entry is the one to close when there are too many.
        this.#warm.delete(key);
        this.#warm.set(key, slot);
      } else {
        for (const [old, oldest] of this.#warm) {
          if (this.#warm.size < this.maxPages) break;
          this.#drop(old, oldest);
        }
        slot = this.#open(key, options, deadline);
      }
      let warm: Warm;
      try {
        // A little grace: the opening's own timeout says more about what the page showed.
        warm = await this.#bounded(slot.opening, deadline + 1000, options, `${host} did not load`);
      } catch (err) {
        if (err instanceof RecaptchaTimeout) this.#drop(key, slot);
        throw err;
      }
      try {
        if (!warm.browser.connected) throw new BrowserError("the browser went away");
        const token = await this.#bounded(
          this.#execute(warm, options.action),
          deadline,
          options,
          `reCAPTCHA on ${host} gave no token`,
        );
        const cookies: Record<string, string> = {};
        for (const c of await warm.context.cookies()) {
          if (cookieMatchesHost(c.domain, warm.host)) cookies[c.name] = c.value;
        }
        return { token, siteKey: warm.siteKey, cookies, userAgent: options.userAgent };
      } catch (err) {
        // A page that stopped working is closed; a kept one gets one more chance, reopened.
        this.#drop(key, slot);
        if (fresh || round > 0 || err instanceof RecaptchaTimeout || options.signal?.aborted) {
          throw err;
        }
      }
    }
  }

  /** Closes `key`'s page (its session or clearance went stale); the next mint opens a new one. */
  async reset(key: string): Promise<void> {
    const slot = this.#warm.get(key);
    if (slot) await this.#drop(key, slot);
  }

  /** Closes every page. */
  async close(): Promise<void> {
    await Promise.all([...this.#warm.keys()].map((k) => this.reset(k)));
  }

  /** Forgets `slot` and closes its context, whatever state its opening is in. */
  #drop(key: string, slot: Slot): Promise<void> {
    if (this.#warm.get(key) === slot) this.#warm.delete(key);
    slot.closed = true;
    return slot.context?.close().catch(() => {}) ?? Promise.resolve();
  }

  /** Opens the page and waits until reCAPTCHA is ready; the slot is dropped when it fails. */
  #open(key: string, o: MintOptions, deadline: number): Slot {
    const slot: Slot = { opening: undefined as unknown as Promise<Warm>, closed: false };
    const stopped = () => {
      if (slot.closed) throw new BrowserError("the page was closed while it opened");
    };
    slot.opening = (async () => {
      const browser = await o.browser();
      const context = slot.context = await browser.newContext({ proxy: o.proxy });
      stopped();
      const target = new URL(o.url);
      await context.setCookies(
        parseCookieHeader(o.cookieHeader ?? "").map(([name, value]) => ({
          name,
          value,
          url: `${target.origin}/`,
        })),
      );
      const page = await context.newPage();
      await page.send("Emulation.setUserAgentOverride", {
        userAgent: o.userAgent,
        acceptLanguage: o.lang,
        userAgentMetadata: clientHints(o.userAgent),
      });
      await page.send("Page.enable");
      await page.navigate(target.href);
      let last: PageState | undefined;
      while (Date.now() < deadline) {
        stopped();
        try {
          last = JSON.parse(await page.evaluate<string>(PAGE_STATE)) as PageState;
        } catch {
          // The page is navigating (a challenge reloads it); look again shortly.
        }
        if (last?.ready) {
          const siteKey = o.siteKey || last.siteKey;
          if (!siteKey) {
            throw new BrowserError(
              `${target.host} loaded reCAPTCHA without naming its site key; set it in the configuration`,
            );
          }
          return { browser, context, page, siteKey, host: target.hostname };
        }
        await pause(150);
      }
      const seen = last?.title ? ` (the page shows '${last.title}')` : "";
      const why = /just a moment|attention required/i.test(last?.title ?? "")
        ? "Cloudflare's challenge did not pass"
        : "reCAPTCHA did not load";
      throw new RecaptchaTimeout(
        `${why} on ${target.host} within ${Math.round(o.timeoutMs / 1000)}s${seen}`,
      );
    })();
    this.#warm.set(key, slot);
    slot.opening.catch(() => this.#drop(key, slot));
    return slot;
  }

  async #execute(warm: Warm, action: string): Promise<string> {
    const token = await warm.page.evaluate<unknown>(
      `new Promise((resolve, reject) => window.grecaptcha.enterprise.ready(() => {
        window.grecaptcha.enterprise.execute(${JSON.stringify(warm.siteKey)},
          { action: ${JSON.stringify(action)} }).then(resolve, reject);
      }))`,
    );
    if (typeof token !== "string" || token === "") {
      throw new BrowserError("reCAPTCHA answered without a token");
    }
    return token;
  }

  /**
   * `p`, unless the deadline passes first (`RecaptchaTimeout`, the key's page closed so that a
   * stuck page is not kept) or the caller's signal aborts (the page stays for others).
   */
  #bounded<T>(p: Promise<T>, deadline: number, o: MintOptions, what: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const left = Math.max(0, deadline - Date.now());
      const timer = setTimeout(() => {
        cleanup();
        reject(new RecaptchaTimeout(`${what} within ${Math.round(o.timeoutMs / 1000)}s`));
      }, left);
      const onAbort = () => {
        cleanup();
        reject(o.signal!.reason);
      };
      const cleanup = () => {
        clearTimeout(timer);
        o.signal?.removeEventListener("abort", onAbort);
      };
      if (o.signal?.aborted) return onAbort();
      o.signal?.addEventListener("abort", onAbort, { once: true });
      p.then((v) => {
        cleanup();
        resolve(v);
      }, (e) => {
        cleanup();
        reject(e);
      });
    });
  }
}
