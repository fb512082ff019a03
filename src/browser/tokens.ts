/**
 * Captcha tokens minted in Chromium, in a page of the site that asks for them: Cloudflare
 * Turnstile (`turnstile.render` with the site key; Copilot's chat socket asks for one) and
 * reCAPTCHA v3 / Enterprise (`grecaptcha.enterprise.execute(siteKey, { action })`; arena.ai wants
 * one per request). A token is bound to the site, the user agent and the address that minted it,
 * so the page is opened as the gateway's own requests look (`site.ts`): same user agent, same
 * proxy, the account's cookies; a Cloudflare challenge on the way is passed first.
 *
 * When the page has not loaded the captcha's API itself, its script is added to the page (the
 * widget's own subresources are allowed: only Chromium's background traffic is silenced).
 *
 * @module
 */
import type { Browser } from "./launch.ts";
import { type BrowserCookie, BrowserError } from "./page.ts";
import { ChallengeTimeout, openSite, type SiteOptions } from "./site.ts";

/** A Turnstile token request. */
export interface TurnstileRequest {
  kind: "turnstile";
  siteKey: string;
  /** The widget's `action`, when the site sets one. */
  action?: string;
  /** The widget's `cData`, when the site sets one. */
  cData?: string;
  /** Where the API is loaded from when the page has none. */
  scriptUrl?: string;
}

/** A reCAPTCHA v3 (Enterprise by default) token request. */
export interface RecaptchaRequest {
  kind: "recaptcha";
  siteKey: string;
  action: string;
  /** `grecaptcha.enterprise` (default) or the classic v3 `grecaptcha`. */
  enterprise?: boolean;
  /** Where the API is loaded from when the page has none. */
  scriptUrl?: string;
}

/** What to mint. */
export type TokenRequest = TurnstileRequest | RecaptchaRequest;

/** A minted token, and the site's cookies after the run (a fresh clearance among them). */
export interface MintedToken {
  token: string;
  cookies: BrowserCookie[];
  userAgent: string;
}

/** The default place of each API (as the sites load them). */
export const TURNSTILE_SCRIPT =
  "https://challenges.cloudflare.com/turnstile/v0/api.js?render=explicit";
/** reCAPTCHA Enterprise's script; `render` is the site key. */
export const RECAPTCHA_ENTERPRISE_SCRIPT = "https://www.google.com/recaptcha/enterprise.js";
/** Classic reCAPTCHA v3's script. */
export const RECAPTCHA_SCRIPT = "https://www.google.com/recaptcha/api.js";

/** The page-side helper: loads a script once and waits until `ready()` says the API is there. */
const LOAD = `async function __gwLoad(src, ready, until) {
  if (!ready()) {
    await new Promise((resolve, reject) => {
      const s = document.createElement("script");
      s.src = src;
      s.async = true;
      s.onload = resolve;
      s.onerror = () => reject(new Error("the captcha script did not load: " + src));
      document.head.appendChild(s);
    });
  }
  while (!ready()) {
    if (Date.now() > until) throw new Error("the captcha API did not appear");
    await new Promise((r) => setTimeout(r, 50));
  }
}`;

/** The expression that renders a Turnstile widget and resolves with its token. */
function turnstileScript(r: TurnstileRequest, until: number): string {
  const options = {
    sitekey: r.siteKey,
    ...(r.action ? { action: r.action } : {}),
    ...(r.cData ? { cData: r.cData } : {}),
  };
  return `(async () => {
  ${LOAD}
  await __gwLoad(${JSON.stringify(r.scriptUrl ?? TURNSTILE_SCRIPT)},
    () => window.turnstile && typeof window.turnstile.render === "function", ${until});
  const box = document.createElement("div");
  box.id = "__gw_turnstile";
  box.style.cssText = "position:fixed;left:10px;top:10px;z-index:2147483647";
  document.body.appendChild(box);
  return await new Promise((resolve, reject) => {
    window.turnstile.render(box, Object.assign(${JSON.stringify(options)}, {
      callback: (token) => resolve(token),
      "error-callback": (code) => reject(new Error("turnstile error " + code)),
      "expired-callback": () => reject(new Error("the turnstile token expired")),
    }));
  });
})()`;
}

/** The expression that runs reCAPTCHA v3 and resolves with its token. */
function recaptchaScript(r: RecaptchaRequest, until: number): string {
  const enterprise = r.enterprise ?? true;
  const api = enterprise
    ? "window.grecaptcha && window.grecaptcha.enterprise"
    : "window.grecaptcha";
  const base = enterprise ? RECAPTCHA_ENTERPRISE_SCRIPT : RECAPTCHA_SCRIPT;
  const src = r.scriptUrl ?? `${base}?render=${encodeURIComponent(r.siteKey)}`;
  return `(async () => {
  ${LOAD}
  const api = () => ${api};
  await __gwLoad(${JSON.stringify(src)}, () => !!(api() && api().execute && api().ready), ${until});
  await new Promise((resolve) => api().ready(resolve));
  return await api().execute(${JSON.stringify(r.siteKey)}, { action: ${JSON.stringify(r.action)} });
})()`;
}

/** Milliseconds after which an unsolved Turnstile widget is clicked (the checkbox variant). */
const CLICK_AFTER_MS = 3000;

/**
 * Opens `options.url` (a page of the site) as `site.ts` does and mints the token `request` asks
 * for in it. The whole run (challenge included) is bounded by `options.timeoutMs`: then a
 * `ChallengeTimeout`. A captcha that fails (its error callback, a script that does not load) is a
 * `BrowserError` with its words.
 */
export async function mintToken(
  browser: Browser,
  options: SiteOptions,
  request: TokenRequest,
): Promise<MintedToken> {
  const site = await openSite(browser, options);
  const what = request.kind === "turnstile" ? "Turnstile" : "reCAPTCHA";
  let timer: ReturnType<typeof setTimeout> | undefined;
  let clicker: ReturnType<typeof setTimeout> | undefined;
  try {
    const until = site.deadline;
    const script = request.kind === "turnstile"
      ? turnstileScript(request, until)
      : recaptchaScript(request, until);
    if (request.kind === "turnstile") {
      // A managed widget may show a checkbox: click where it sits, as a user would.
      clicker = setTimeout(() => {
        site.page.click(40, 35).catch(() => {});
      }, CLICK_AFTER_MS);
    }
    const token = await Promise.race([
      site.page.evaluate<unknown>(script),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new ChallengeTimeout(
                `the ${what} of ${new URL(options.url).host} gave no token within ${
                  Math.round(options.timeoutMs / 1000)
                }s`,
              ),
            ),
          Math.max(0, until - Date.now()),
        );
      }),
    ]);
    if (typeof token !== "string" || token === "") {
      throw new BrowserError(`the ${what} of ${new URL(options.url).host} gave no token`);
    }
    return { token, cookies: await site.cookies(), userAgent: site.userAgent };
  } finally {
    clearTimeout(timer);
    clearTimeout(clicker);
    await site.close();
  }
}
