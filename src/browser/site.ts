/**
 * Opening a page of a site in Chromium the way the gateway's own requests look: the transport's
 * Chrome 147 user agent with its client hints (not headless Chromium's own), the account's
 * cookies, the same proxy; then waiting until Cloudflare's challenge page (if any) has passed.
 * Both the clearance (`clearance.ts`) and the captcha tokens (`tokens.ts`) start here.
 *
 * @module
 */
import { chromeUserAgent, chromeUserAgentMetadata } from "../net/transport/mod.ts";
import { pause } from "../util/signal.ts";
import type { Browser } from "./launch.ts";
import { type BrowserContext, type BrowserCookie, BrowserError, type Page } from "./page.ts";

/** Cookies Cloudflare sets that belong to a clearance (never carried into a fresh run). */
export const CLOUDFLARE_COOKIES = ["cf_clearance", "__cf_bm", "_cfuvid"];

/** How to open the site. */
export interface SiteOptions {
  /** The page to open. */
  url: string;
  /** Cookies to carry (the account's), as a `Cookie` header value. */
  cookieHeader?: string;
  /** Proxy the browser context goes through (the same the API calls use). */
  proxy?: string;
  /** `Accept-Language` to send. */
  lang: string;
  /** Milliseconds the whole run may take (challenge and whatever follows). */
  timeoutMs: number;
  /** Stops waiting (the request or the server ended). */
  signal?: AbortSignal;
  /** The user agent to present; default the chrome transport's (`chromeUserAgent()`). */
  userAgent?: string;
  /** How often the page is looked at, in milliseconds. */
  pollMs?: number;
  /** How long a page without any challenge must stay quiet before it counts as passed. */
  settleMs?: number;
}

/** The challenge did not pass in time. */
export class ChallengeTimeout extends BrowserError {
  override name = "ChallengeTimeout";
}

/** A page of the site, past the challenge. */
export interface OpenSite {
  context: BrowserContext;
  page: Page;
  /** The user agent the page presents. */
  userAgent: string;
  /** When the run's time is up (milliseconds since the epoch). */
  deadline: number;
  /** The cookies of the context that the site's host receives. */
  cookies(): Promise<BrowserCookie[]>;
  /** Closes the context. */
  close(): Promise<void>;
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
}

/** Recognises a Cloudflare challenge or block page from inside it. */
const PAGE_STATE = `JSON.stringify({
  title: document.title,
  ready: document.readyState,
  challenge: /^(just a moment|attention required|one moment)/i.test(document.title) ||
    typeof window._cf_chl_opt !== "undefined" ||
    !!document.querySelector("#challenge-form, #challenge-running, #challenge-stage, #cf-challenge-running"),
})`;

/**
 * Opens `options.url` in a new context of `browser` and waits for Cloudflare's challenge to pass:
 * the page loaded and no longer a challenge, and either `cf_clearance` set or the page quiet for
 * `settleMs`. The caller closes the returned site.
 */
export async function openSite(browser: Browser, options: SiteOptions): Promise<OpenSite> {
  const target = new URL(options.url);
  const pollMs = options.pollMs ?? 200;
  const settleMs = options.settleMs ?? 1500;
  const deadline = Date.now() + options.timeoutMs;
  const userAgent = options.userAgent ?? chromeUserAgent();
  const context = await browser.newContext({ proxy: options.proxy });
  const cookies = async () =>
    (await context.cookies()).filter((c) => cookieMatchesHost(c.domain, target.hostname));
  try {
    const origin = `${target.protocol}//${target.host}/`;
    await context.setCookies(
      parseCookieHeader(options.cookieHeader ?? "")
        .filter(([name]) => !CLOUDFLARE_COOKIES.includes(name))
        .map(([name, value]) => ({ name, value, url: origin })),
    );
    const page = await context.newPage();
    await page.setUserAgent(
      userAgent,
      options.lang,
      options.userAgent ? undefined : chromeUserAgentMetadata(),
    );
    await page.send("Page.enable");
    await page.navigate(target.href);

    let quietSince = 0;
    let last: PageState | undefined;
    while (true) {
      if (options.signal?.aborted) throw new BrowserError("the run was cancelled");
      if (!browser.connected) throw new BrowserError("the browser went away");
      let state: PageState | undefined;
      try {
        state = JSON.parse(await page.evaluate<string>(PAGE_STATE));
      } catch {
        // The page is navigating (the challenge reloads it); look again shortly.
      }
      if (state) {
        last = state;
        if (state.ready === "complete" && !state.challenge) {
          quietSince ||= Date.now();
          const cleared = (await cookies()).some((c) => c.name === "cf_clearance");
          if (cleared || Date.now() - quietSince >= settleMs) {
            return { context, page, userAgent, deadline, cookies, close: () => context.close() };
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
  } catch (err) {
    await context.close();
    throw err;
  }
}
