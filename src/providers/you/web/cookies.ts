/**
 * The `Cookie` header you.com calls carry: the account's cookies with the rewrites the web app
 * itself would have made (safe search off, the selected model, upload hint seen) and the
 * Cloudflare clearance merged in.
 *
 * @module
 */
import { parseCookieHeader } from "../../../browser/mod.ts";

/**
 * The account's cookies as name/value pairs. A value without any `=` is taken as a bare session
 * token (`stytch_session` and `ydc_stytch_session`).
 */
export function accountCookies(secret: string): [string, string][] {
  const text = secret.trim().replace(/^cookie:\s*/i, "");
  if (!text.includes("=")) return [["stytch_session", text], ["ydc_stytch_session", text]];
  return parseCookieHeader(text);
}

/** The `Cookie` header for an API call of `model` with `clearance` cookies merged in. */
export function cookieHeader(
  secret: string,
  model: string,
  clearance: Record<string, string> = {},
): string {
  const jar = new Map<string, string>();
  for (const [name, value] of accountCookies(secret)) {
    if (name.startsWith("safesearch")) jar.set(name, "Off");
    else if (name === "you_subscription") jar.set(name, "freemium");
    else if (name === "ai_model") jar.set(name, model);
    else jar.set(name, value);
  }
  jar.set("has_seen_agent_uploads_modal", "true");
  // The clearance replaces any stale Cloudflare cookie pasted with the account.
  for (const [name, value] of Object.entries(clearance)) jar.set(name, value);
  return [...jar].map(([k, v]) => `${k}=${v}`).join("; ");
}
