/**
 * Passing a Cloudflare challenge with a real browser, and keeping the result.
 *
 * A site behind Cloudflare's managed challenge answers scripted clients with a "Just a moment..."
 * page whose JavaScript proves a browser and then sets `cf_clearance`. That cookie is valid only
 * with the user agent (and address) that earned it. `passChallenge` opens the site in a fresh
 * browser context with the account's cookies, waits until the challenge is gone, and returns the
 * Cloudflare cookies with the exact user agent and `Accept-Language` the browser used, so that plain
 * HTTP calls can present the same identity. `ClearanceCache` keeps one clearance per key (site,
 * proxy and account, see `service.ts`), and makes concurrent requests share one challenge run
 * instead of starting several.
 *
 * @module
 */
import type { Browser } from "./launch.ts";
import type { BrowserCookie } from "./page.ts";
import { CLOUDFLARE_COOKIES, openSite, type SiteOptions } from "./site.ts";

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

/** Options of `passChallenge`: the site's root and how to open it. */
export type ChallengeOptions = SiteOptions;

/**
 * Opens `url` in a new context of `browser` with the account's cookies and waits for Cloudflare's
 * challenge to pass: `cf_clearance` set and the page no longer a challenge. A site that shows no
 * challenge at all passes once its page has loaded and stayed quiet for `settleMs`.
 */
export async function passChallenge(
  browser: Browser,
  options: ChallengeOptions,
): Promise<Clearance> {
  const site = await openSite(browser, options);
  try {
    return clearanceOf(await site.cookies(), site.userAgent, options.lang);
  } finally {
    await site.close();
  }
}

/** The clearance in a context's cookies (those the site's host receives). */
export function clearanceOf(
  cookies: readonly BrowserCookie[],
  userAgent: string,
  lang: string,
): Clearance {
  return clearanceFrom(cookies, cookies.find((c) => c.name === "cf_clearance"), userAgent, lang);
}

function clearanceFrom(
  cookies: readonly BrowserCookie[],
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
    const kept = this.peek(key);
    if (kept) return kept;
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

  /** The kept clearance of `key` while it lasts, without running anything. */
  peek(key: string): Clearance | undefined {
    const kept = this.#kept.get(key);
    return kept && (kept.expiresAt === undefined || kept.expiresAt > Date.now() + 5000)
      ? kept
      : undefined;
  }

  /** Keeps `clearance` for `key` (one earned on the way, e.g. while minting a token). */
  set(key: string, clearance: Clearance): void {
    this.#kept.set(key, clearance);
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
