/**
 * Chromium for upstreams that need a real browser (Cloudflare challenges). One browser process
 * serves the whole server: started on first use, started again if it died or its settings
 * changed, and closed by `closeBrowser()` when the server shuts down.
 *
 * Settings (`browser.*` in config.yaml): `executable` (a path or a name on PATH; default the first
 * of chromium, chromium-browser, google-chrome, google-chrome-stable found on PATH), `headless`,
 * `args` (extra flags), `timeout` (seconds a challenge may take), `lang` (`Accept-Language`).
 *
 * @module
 */
import type { Config } from "../config/schema.ts";
import { GatewayError } from "../openai/errors.ts";
import type { Logger } from "../util/log.ts";
import { Browser, BROWSER_NAMES, BrowserError, findExecutable } from "./launch.ts";

export { Browser, BrowserContext, BrowserError, findExecutable, Page } from "./launch.ts";
export type { BrowserCookie, CookieToSet, LaunchOptions } from "./launch.ts";
export {
  type ChallengeOptions,
  ChallengeTimeout,
  type Clearance,
  ClearanceCache,
  cookieMatchesHost,
  parseCookieHeader,
  passChallenge,
} from "./clearance.ts";

interface Shared {
  key: string;
  starting: Promise<Browser>;
}

let shared: Shared | undefined;
/** Bumped by `closeBrowser` so that a launch finishing afterwards closes itself. */
let generation = 0;

/**
 * The server's browser, started when needed. Fails with a `GatewayError` (500) that says what to
 * do when no browser is installed or it cannot start.
 */
export async function sharedBrowser(config: Config, log?: Logger): Promise<Browser> {
  const settings = config.browser;
  const key = JSON.stringify([settings.executable ?? "", settings.headless, settings.args]);
  if (shared && shared.key === key) {
    const current = await shared.starting.catch(() => undefined);
    if (current?.connected) return current;
  }
  if (shared) {
    const old = shared;
    shared = undefined;
    old.starting.then((b) => b.close()).catch(() => {});
  }
  const gen = generation;
  const starting = (async () => {
    const executable = await findExecutable(settings.executable);
    if (!executable) {
      const where = settings.executable
        ? `browser.executable '${settings.executable}' is not an executable file`
        : `none of ${BROWSER_NAMES.join(", ")} is on PATH`;
      throw new GatewayError(
        500,
        `this model needs Chromium to pass the site's Cloudflare check, but ${where}; install it (apt-get install chromium) or set browser.executable`,
        "server_error",
        "browser_unavailable",
      );
    }
    let browser: Browser;
    try {
      browser = await Browser.launch({
        executable,
        headless: settings.headless,
        args: settings.args,
        log,
      });
    } catch (err) {
      throw new GatewayError(
        500,
        `the browser could not start: ${(err as Error).message}`,
        "server_error",
        "browser_unavailable",
        null,
        { cause: err },
      );
    }
    if (gen !== generation) {
      // The server shut down while the browser was starting.
      await browser.close();
      throw new BrowserError("the browser was closed");
    }
    return browser;
  })();
  const entry = { key, starting };
  shared = entry;
  starting.catch(() => {
    // A failed start is not kept: the next request tries again.
    if (shared === entry) shared = undefined;
  });
  return await starting;
}

/** True while the shared browser process runs. */
export async function browserRunning(): Promise<boolean> {
  const b = await shared?.starting.catch(() => undefined);
  return b?.connected ?? false;
}

/** Closes the shared browser, if one was started. Safe to call at any time and more than once. */
export async function closeBrowser(): Promise<void> {
  generation++;
  const current = shared;
  shared = undefined;
  if (!current) return;
  const browser = await current.starting.catch(() => undefined);
  await browser?.close();
}
