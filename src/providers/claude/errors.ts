/**
 * claude.ai's error answers as `GatewayError`s with honest statuses, so that the pool can tell a
 * rate limit (rest the account exactly until the limit resets) from a refused or disabled account
 * (set it aside) from a block of the server's address (Cloudflare: the account is not to blame)
 * from a client mistake (`Invalid model`: no retry, no blame on the account).
 *
 * Error bodies: `{"type":"error","error":{"type","message"}}`, where `message` may itself be JSON
 * (a rate limit's: `{"type":"exceeded_limit","resetsAt":<unix seconds>,...}`). The reset time of
 * a 429 is read from that message, else from the `anthropic-ratelimit-unified-reset` header (unix
 * seconds), else from `Retry-After` (reference section 2, clewdr `src/error.rs`).
 *
 * @module
 */
import { jsonOrUndefined, parseRetryAfter, readCapped, snippet } from "../../net/http.ts";
import { GatewayError } from "../../openai/errors.ts";

/** The provider id errors are reported under. */
const PROVIDER = "claude";

/** What claude.ai says when an organization is disabled (a 400). */
export const DISABLED_MESSAGE = "This organization has been disabled.";

/** claude.ai's error object (`error` of the body, or of an SSE `error` event). */
export interface ClaudeErrorObject {
  type?: string;
  message?: string;
  resets_at?: unknown;
  resetsAt?: unknown;
}

/** Seconds from now until `value` (unix seconds or milliseconds, or an ISO date), if ahead. */
export function secondsUntil(value: unknown, now = Date.now()): number | undefined {
  let at: number | undefined;
  if (typeof value === "number" && Number.isFinite(value)) {
    at = value > 1e12 ? value : value * 1000;
  } else if (typeof value === "string" && value.trim() !== "") {
    const n = Number(value);
    at = Number.isFinite(n) ? (n > 1e12 ? n : n * 1000) : Date.parse(value);
  }
  if (at === undefined || Number.isNaN(at) || at <= now) return undefined;
  return Math.ceil((at - now) / 1000);
}

/** The JSON inside a message, when the message is JSON. */
function innerJson(message: string | undefined): Record<string, unknown> | undefined {
  if (!message || !message.trimStart().startsWith("{")) return undefined;
  const v = jsonOrUndefined(message);
  return v && typeof v === "object" && !Array.isArray(v) ? v as Record<string, unknown> : undefined;
}

/**
 * Seconds until a rate limit resets: the message's `resetsAt`, then the error's own fields, then
 * the `anthropic-ratelimit-unified-reset` header, then `Retry-After`.
 */
export function resetSeconds(
  error: ClaudeErrorObject | undefined,
  headers?: Headers,
): number | undefined {
  const inner = innerJson(error?.message);
  for (const c of [inner?.resetsAt, inner?.resets_at, error?.resetsAt, error?.resets_at]) {
    const s = secondsUntil(c);
    if (s !== undefined) return s;
  }
  const unified = secondsUntil(headers?.get("anthropic-ratelimit-unified-reset") ?? undefined);
  if (unified !== undefined) return unified;
  return parseRetryAfter(headers?.get("retry-after") ?? null);
}

/** A readable message for an error object (a JSON rate-limit message is summarised). */
function describe(error: ClaudeErrorObject | undefined, fallback: string): string {
  const inner = innerJson(error?.message);
  if (inner) {
    const kind = typeof inner.type === "string" ? inner.type : "limit";
    const reset = secondsUntil(inner.resetsAt ?? inner.resets_at);
    return reset !== undefined ? `${kind}, resets in ${reset}s` : kind;
  }
  return error?.message || error?.type || fallback;
}

/** True when the message says the model id is not one claude.ai knows. */
export function isInvalidModel(message: string | undefined): boolean {
  return /invalid model/i.test(message ?? "");
}

/** The error for a model claude.ai refused. */
export function invalidModel(model: string, detail: string): GatewayError {
  return new GatewayError(
    404,
    `claude.ai does not offer the model '${model}' to this account (${detail})`,
    "invalid_request_error",
    "model_not_found",
    "model",
  );
}

/** The error that sets an account aside for good reason (disabled, banned). */
export function accountRefused(reason: string, code: string): GatewayError {
  return new GatewayError(
    403,
    `${PROVIDER}: ${reason} (the account is set aside)`,
    "permission_error",
    code,
  );
}

/**
 * The error for an error object inside a stream or body. `status` is the HTTP status when there
 * was one (0 inside a stream).
 */
export function claudeError(
  status: number,
  error: ClaudeErrorObject | undefined,
  options: { model?: string; headers?: Headers } = {},
): GatewayError {
  const message = describe(error, status ? `status ${status}` : "error event");
  if (isInvalidModel(error?.message)) return invalidModel(options.model ?? "?", message);
  if (status === 400 && error?.message?.trim() === DISABLED_MESSAGE) {
    return accountRefused(DISABLED_MESSAGE, "account_disabled");
  }
  const type = error?.type ?? "";
  const where = status ? `answered ${status}` : "failed mid-stream";
  if (status === 429 || type === "rate_limit_error") {
    return new GatewayError(
      429,
      `${PROVIDER} upstream ${where}: rate limited (${message})`,
      "rate_limit_error",
      "rate_limit_exceeded",
      null,
      { retryAfter: resetSeconds(error, options.headers) },
    );
  }
  if (status === 401 || type === "authentication_error") {
    return new GatewayError(
      401,
      `${PROVIDER} upstream ${where}: the session key was refused (${message})`,
      "authentication_error",
      "invalid_api_key",
    );
  }
  if (status === 403 || type === "permission_error") {
    return new GatewayError(
      403,
      `${PROVIDER} upstream ${where}: access denied (${message})`,
      "permission_error",
    );
  }
  if (status === 529 || status === 503 || type === "overloaded_error") {
    return new GatewayError(503, `${PROVIDER} upstream ${where}: overloaded (${message})`);
  }
  if (status === 400 || status === 413 || type === "invalid_request_error") {
    return new GatewayError(
      status === 413 ? 413 : 400,
      `${PROVIDER} upstream ${where}: the request was refused (${message})`,
    );
  }
  if (status === 408 || status === 504) {
    return new GatewayError(504, `${PROVIDER} upstream ${where}: ${message}`, "timeout_error");
  }
  return new GatewayError(502, `${PROVIDER} upstream ${where}: ${message}`, "upstream_error");
}

/** True when a response is Cloudflare's bot challenge rather than claude.ai's answer. */
function isChallenge(res: Response, text: string): boolean {
  if (res.headers.get("cf-mitigated") === "challenge") return true;
  const type = res.headers.get("content-type") ?? "";
  return type.includes("text/html") && /just a moment|challenge-platform|cf-chl/i.test(text);
}

/** The 502 of a response that blocks the server's address (the account is not to blame). */
function blocked(detail: string): GatewayError {
  return new GatewayError(
    502,
    `${PROVIDER} upstream ${detail}: this server's IP address is not trusted by claude.ai (try a proxy: claude.proxies)`,
    "upstream_error",
    "upstream_blocked",
  );
}

/** Turns an error response of claude.ai into a `GatewayError`. */
export async function responseError(res: Response, model?: string): Promise<GatewayError> {
  if (res.status >= 300 && res.status < 400) {
    // claude.ai answers a blocked address with a redirect (clewdr: "check your IP address").
    await res.body?.cancel();
    const to = res.headers.get("location");
    return blocked(
      `answered ${res.status}${to ? ` (to ${snippet(to, 80)})` : ""}, a Cloudflare block`,
    );
  }
  const text = await readCapped(res);
  if (isChallenge(res, text)) {
    return blocked(`answered ${res.status} with a Cloudflare challenge`);
  }
  const v = jsonOrUndefined(text);
  const body = v && typeof v === "object" && !Array.isArray(v)
    ? v as Record<string, unknown>
    : undefined;
  const raw = body?.error;
  const error: ClaudeErrorObject = raw && typeof raw === "object"
    ? raw as ClaudeErrorObject
    : { message: typeof raw === "string" ? raw : (snippet(text) || res.statusText) };
  if (!error.message && typeof body?.detail === "string") error.message = body.detail;
  return claudeError(res.status, error, { model, headers: res.headers });
}
