/**
 * Cloudflare's refusals, told apart from the site's own. A challenge (the "Just a moment..." page,
 * `cf-mitigated: challenge`) says nothing about the account: the clearance (`cf_clearance`, bound
 * to the user agent and the address) is missing or stale. Such errors carry their own codes, so
 * that pools never count them as auth failures (`src/pool/`) and providers know to refresh the
 * clearance (`src/browser/service.ts`) and retry once.
 *
 * @module
 */
import { GatewayError, upstreamFailed, upstreamTimeout } from "../openai/errors.ts";
import { httpErrorOf, readCapped } from "./http.ts";

/** The code of an answer that was Cloudflare's challenge. */
export const CHALLENGE = "cloudflare_challenge";
/** The code of a challenge the browser did not pass in time (504). */
export const CHALLENGE_TIMEOUT = "challenge_timeout";
/** The code of a challenge the browser could not attempt (no browser, a crash, a captcha error). */
export const CHALLENGE_FAILED = "challenge_failed";

/** Codes of the errors that concern a clearance, not an account. */
export const CLEARANCE_CODES: ReadonlySet<string> = new Set([
  CHALLENGE,
  CHALLENGE_TIMEOUT,
  CHALLENGE_FAILED,
]);

/** True when `err` is about a clearance (see `CLEARANCE_CODES`). */
export function isClearanceError(err: unknown): boolean {
  return err instanceof GatewayError && err.code !== null && CLEARANCE_CODES.has(err.code);
}

/** True when `err` is Cloudflare's challenge (the clearance is missing or stale). */
export function isChallenge(err: unknown): err is GatewayError {
  return err instanceof GatewayError && err.code === CHALLENGE;
}

/** The 403 of a challenge at `host` (`what` says what was refused). */
export function challengeError(provider: string, host: string, what = "the call"): GatewayError {
  const err = new GatewayError(
    403,
    `${provider}: Cloudflare's challenge stopped ${what} to ${host} (the browser clearance is missing or stale)`,
    "permission_error",
    CHALLENGE,
  );
  err.upstreamStatus = 403;
  return err;
}

/** The 504 of a challenge that was not solved in time. */
export function challengeTimeout(provider: string, detail: string): GatewayError {
  const err = upstreamTimeout(provider, `Cloudflare's challenge was not solved in time: ${detail}`);
  return new GatewayError(504, err.message, "timeout_error", CHALLENGE_TIMEOUT);
}

/** The 502 of a challenge the browser could not attempt. */
export function challengeFailed(provider: string, detail: string, cause?: unknown): GatewayError {
  const err = upstreamFailed(provider, `Cloudflare's challenge could not be attempted: ${detail}`);
  return new GatewayError(502, err.message, "upstream_error", CHALLENGE_FAILED, null, { cause });
}

/** True when a page's text is Cloudflare's challenge or block page. */
export function looksLikeChallenge(text: string): boolean {
  return /<title>\s*(just a moment|attention required|one moment)/i.test(text) ||
    text.includes("_cf_chl_opt") || text.includes("/cdn-cgi/challenge-platform/");
}

/** True when a response's headers alone say it is a challenge. */
export function challengeHeader(res: Response): boolean {
  return res.headers.get("cf-mitigated") === "challenge";
}

/**
 * The error of a non-2xx response: Cloudflare's challenge (`CHALLENGE`, 403) when the headers or
 * the page say so, else the site's own error (`httpErrorOf`). Reads (at most 64 KiB of) the body.
 */
export async function refusalOf(
  provider: string,
  res: Response,
  host = "the site",
): Promise<GatewayError> {
  const text = await readCapped(res);
  const html = (res.headers.get("content-type") ?? "").toLowerCase().includes("text/html");
  if (
    challengeHeader(res) ||
    ([403, 429, 503].includes(res.status) && html && looksLikeChallenge(text))
  ) {
    return challengeError(provider, host);
  }
  return httpErrorOf(provider, res, text);
}
