/**
 * arena.ai's refusals as `GatewayError`s (reference section 4, gpt4free `raise_for_status.py`):
 *
 * - 403 with Cloudflare's markers: the clearance went stale (code `cloudflare_challenge`); the
 *   provider passes the challenge again in the browser and retries once. Never an auth failure.
 * - 403 "recaptcha validation failed": the token was refused (code `recaptcha_failed`); a new
 *   one is minted and the request retried once.
 * - 401: the session cookie is not (or no longer) valid.
 * - 429: rate limited, with the site's `Retry-After` when it sends one.
 *
 * After their one retry, the first two are 502s: the upstream refused, not the client's
 * credentials, so a pool does not set the account aside for them.
 *
 * @module
 */
import { httpErrorOf, readCapped, snippet } from "../../net/http.ts";
import { GatewayError } from "../../openai/errors.ts";

/** The code of a Cloudflare challenge. */
export const CLOUDFLARE = "cloudflare_challenge";
/** The code of a refused reCAPTCHA token. */
export const RECAPTCHA = "recaptcha_failed";

/** True for Cloudflare's challenge or block page. */
function isCloudflare(res: Response, text: string): boolean {
  if (res.headers.get("cf-mitigated") === "challenge") return true;
  return /<title>(just a moment|attention required)|cf-chl|challenge-platform|cf-please-wait/i
    .test(text);
}

/** An error response of arena.ai as a `GatewayError` (see the module doc for the codes). */
export async function arenaResponseError(res: Response): Promise<GatewayError> {
  const text = await readCapped(res);
  if (res.status === 403 && isCloudflare(res, text)) {
    return new GatewayError(
      502,
      `arena upstream answered 403 with a Cloudflare challenge (the browser's clearance was not accepted; try a proxy: arena.proxies)`,
      "upstream_error",
      CLOUDFLARE,
    );
  }
  if (res.status === 403 && /recaptcha validation failed/i.test(text)) {
    return new GatewayError(
      502,
      `arena upstream refused the reCAPTCHA token (403 ${snippet(text, 120)})`,
      "upstream_error",
      RECAPTCHA,
    );
  }
  const err = httpErrorOf("arena", res, text);
  if (res.status === 400 && /model/i.test(err.message) && /not found|unknown|invalid/i.test(text)) {
    return new GatewayError(404, err.message, "invalid_request_error", "model_not_found", "model");
  }
  return err;
}
