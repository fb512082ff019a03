/**
 * Chromium for upstreams that need a real browser: Cloudflare clearance, Turnstile and reCAPTCHA
 * tokens (`service.ts`). One browser process serves the whole server (`Browsers`): started on
 * first use, started again if it died or its settings changed, and closed when the server shuts
 * down.
 *
 * Settings (`browser.*` in config.yaml): `executable` (a path or a name on PATH; default the first
 * of chromium, chromium-browser, google-chrome, google-chrome-stable found on PATH), `headless`,
 * `args` (extra flags), `timeout` (seconds a challenge may take), `lang` (`Accept-Language`).
 * `server.ca-file` is trusted by the browser too.
 *
 * @module
 */
export { Browsers } from "./browsers.ts";
export { Browser, findExecutable } from "./launch.ts";
export type { LaunchOptions } from "./launch.ts";
export { BrowserContext, BrowserError, Page } from "./page.ts";
export type { BrowserCookie, CookieToSet } from "./page.ts";
export {
  type ChallengeOptions,
  type Clearance,
  ClearanceCache,
  clearanceOf,
  passChallenge,
} from "./clearance.ts";
export {
  ChallengeTimeout,
  CLOUDFLARE_COOKIES,
  cookieMatchesHost,
  type OpenSite,
  openSite,
  parseCookieHeader,
  type SiteOptions,
} from "./site.ts";
export {
  type MintedToken,
  mintToken,
  type RecaptchaRequest,
  type TokenRequest,
  type TurnstileRequest,
} from "./tokens.ts";
export {
  ClearanceService,
  type RunOptions,
  type SiteIdentity,
  type TokenOrder,
} from "./service.ts";
export { spkiHashes } from "./spki.ts";
export {
  type MintOptions,
  RecaptchaMinter,
  RecaptchaTimeout,
  type RecaptchaToken,
} from "./recaptcha.ts";
