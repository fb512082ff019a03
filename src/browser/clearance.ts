/**
 * Passing a Cloudflare challenge with a real browser, and keeping the result.
 *
 * A site behind Cloudflare's managed challenge answers scripted clients with a "Just a moment..."
 * page whose JavaScript proves a browser and then sets `cf_clearance`. That cookie is valid only
 * with the user agent (and address) that earned it. `passChallenge` opens the site in a fresh
 * browser context with the account's cookies, waits until the challenge is gone, and returns the
 * Cloudflare cookies with the exact user agent and `Accept-Language` the browser used, so that plain
 * HTTP calls can present the same identity. `ClearanceCache` keeps one clearance per site and
 * proxy, and makes concurrent requests share one challenge run instead of starting several.
 *
 * @module
 */
import type { Browser } from "./launch.ts";
import { type BrowserCookie, BrowserError } from "./page.ts";
import { pause } from "../util/signal.ts";

/** Cookies Cloudflare sets that belong to a clearance. */
const CLOUDFLARE_COOKIES = ["cf_clearance", "__cf_bm", "_cfuvid"];

/** What a passed challenge gives plain HTTP calls. */
export interface Clearance {
  /** Cloudflare's cookies (name -> value); empty when the site set none (no challenge). */
  cookies: Record<string, string>;
  /** The user agent the browser passed with; API calls must send exactly this. */
  userAgent: string;
  /** The `Accept-Language` the browser sent. */
  lang: string;
  /** Milliseconds since the epoch when `cf_clearance` expires, if it said. */
  expiresAt?: number;
  /** When it was obtained. */
  obtainedAt: number;
}

/** Options of `passChallenge`. */
export interface ChallengeOptions {
  /** The page to open (the site's root). */
  url: string;
  /** Cookies to carry (the account's), as a `Cookie` header value. */
  cookieHeader?: string;
  /** Proxy the browser context goes through (the same the API calls use). */
  proxy?: string;
  /** `Accept-Language` to send. */
  lang: string;
  /** Milliseconds to wait for the challenge to pass. */
  timeoutMs: number;
  /** Stops waiting (the server is shutting down). */
  signal?: AbortSignal;
  /** How often the page is looked at, in milliseconds. */
  pollMs?: number;
  /** How long a page without any challenge must stay quiet before it counts as passed. */
  settleMs?: number;
}

/** The challenge did not pass in time. */
export class ChallengeTimeout extends BrowserError {
  override name = "ChallengeTimeout";
}

/** Parses a `Cookie` header value into name/value pairs (values kept as written). */
export function parseCookieHeader(header: string): [string, string][] {
  const out: [string, string][] = [];
  for (const part of header.replace(/^\s*cookie:\s*/i, "").split(";")) {
    const eq = part.indexOf("=");
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    if (name) out.push([name, part.slice(eq + 1).trim()]);
  }
  return out;
}

/** True when a cookie set for `domain` is sent to `host`. */
export function cookieMatchesHost(domain: string, host: string): boolean {
  const d = domain.replace(/^\./, "").toLowerCase();
  const h = host.toLowerCase();
  return h === d || h.endsWith(`.${d}`);
}

/** What the page looks like right now. */
interface PageState {
  title: string;
  ready: string;
  challenge: boolean;
  userAgent: string;
}

/** Recognises a Cloudflare challenge or block page from inside it. */
const PAGE_STATE = `JSON.stringify({
  title: document.title,
  ready: document.readyState,
  challenge: /^(just a moment|attention required|one moment)/i.test(document.title) ||
    typeof window._cf_chl_opt !== "undefined" ||
    !!document.querySelector("#challenge-form, #challenge-running, #challenge-stage, #cf-challenge-running"),
  userAgent: navigator.userAgent,
})`;

/**
 * Opens `url` in a new context of `browser` with the account's cookies and waits for Cloudflare's
 * challenge to pass: `cf_clearance` set and the page no longer a challenge. A site that shows no
 * challenge at all passes once its page has loaded and stayed quiet for `settleMs`.
 */
export async function passChallenge(
  browser: Browser,
  options: ChallengeOptions,
): Promise<Clearance> {
  const target = new URL(options.url);
  const pollMs = options.pollMs ?? 200;
  const settleMs = options.settleMs ?? 1500;
  const context = await browser.newContext({ proxy: options.proxy });
  try {
    const origin = `${target.protocol}//${target.host}/`;
    await context.setCookies(
      parseCookieHeader(options.cookieHeader ?? "")
        .filter(([name]) => !CLOUDFLARE_COOKIES.includes(name))
        .map(([name, value]) => ({ name, value, url: origin })),
    );
    const page = await context.newPage();
    // Headless Chromium names itself `HeadlessChrome`, which Cloudflare refuses on sight.
    const userAgent = browser.userAgent.replace(/HeadlessChrome/g, "Chrome");
    await page.setUserAgent(userAgent, options.lang);
    await page.send("Page.enable");
    await page.navigate(target.href);

    const deadline = Date.now() + options.timeoutMs;
    let quietSince = 0;
    let last: PageState | undefined;
    while (true) {
      if (options.signal?.aborted) throw new BrowserError("the browser is shutting down");
      if (!browser.connected) throw new BrowserError("the browser went away");
      let state: PageState | undefined;
      try {
        state = JSON.parse(await page.evaluate<string>(PAGE_STATE));
      } catch {
        // The page is navigating (the challenge reloads it); look again shortly.
      }
      if (state) {
        last = state;
        const settled = state.ready === "complete" && !state.challenge;
        if (settled) {
          const cookies = (await context.cookies()).filter((c) =>
            cookieMatchesHost(c.domain, target.hostname)
          );
          const clearance = cookies.find((c) => c.name === "cf_clearance");
          quietSince ||= Date.now();
          if (clearance || Date.now() - quietSince >= settleMs) {
            return clearanceFrom(cookies, clearance, state.userAgent || userAgent, options.lang);
          }
        } else {
          quietSince = 0;
        }
      }
      if (Date.now() >= deadline) {
        const seen = last ? ` (the page still shows '${last.title || "no title"}')` : "";
        throw new ChallengeTimeout(
          `the challenge of ${target.host} did not pass within ${
            Math.round(options.timeoutMs / 1000)
          }s${seen}`,
        );
      }
      await pause(pollMs, options.signal);
    }
  } finally {
    await context.close();
  }
}

function clearanceFrom(
  cookies: BrowserCookie[],
  clearance: BrowserCookie | undefined,
  userAgent: string,
  lang: string,
): Clearance {
  const picked: Record<string, string> = {};
  for (const c of cookies) if (CLOUDFLARE_COOKIES.includes(c.name)) picked[c.name] = c.value;
  return {
    cookies: picked,
    userAgent,
    lang,
    expiresAt: clearance && clearance.expires > 0 ? clearance.expires * 1000 : undefined,
    obtainedAt: Date.now(),
  };
}

/**
 * One clearance per key (site and proxy). `get` returns the kept one while it lasts; otherwise the
 * first caller runs `solve` and everyone else arriving meanwhile waits for that same run.
 */
export class ClearanceCache {
  #kept = new Map<string, Clearance>();
  #running = new Map<string, Promise<Clearance>>();

  /** The kept clearance of `key`, or a fresh one from `solve` (shared by concurrent callers). */
  async get(
    key: string,
    solve: () => Promise<Clearance>,
    signal?: AbortSignal,
  ): Promise<Clearance> {
    const kept = this.#kept.get(key);
    if (kept && (kept.expiresAt === undefined || kept.expiresAt > Date.now() + 5000)) return kept;
    let run = this.#running.get(key);
    if (!run) {
      run = solve().then((c) => {
        this.#kept.set(key, c);
        return c;
      }).finally(() => this.#running.delete(key));
      // Nobody may be left waiting when it fails; the rejection is handled here too.
      run.catch(() => {});
      this.#running.set(key, run);
    }
    return await abortable(run, signal);
  }

  /** True while a challenge run for `key` is in progress. */
  running(key: string): boolean {
    return this.#running.has(key);
  }

  /** Forgets `clearance` of `key` (it stopped working); a newer one is kept. */
  drop(key: string, clearance?: Clearance): void {
    const kept = this.#kept.get(key);
    if (kept && (!clearance || kept === clearance)) this.#kept.delete(key);
  }

  /** Forgets every clearance. */
  clear(): void {
    this.#kept.clear();
  }
}

/** `p`, or a rejection when `signal` aborts first (`p` itself goes on). */
function abortable<T>(p: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return p;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}
