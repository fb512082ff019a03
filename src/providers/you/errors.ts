/**
 * you.com's API refusals as `GatewayError`s (you.com's error code reference; SDK error models).
 * Bodies are `{detail: "..."}`, `{detail: [{loc, msg}]}` (422), `{error: "..."}` or
 * `{status, code, title, detail}` (400):
 *
 * | you.com                         | the client gets                                            |
 * | ------------------------------- | ---------------------------------------------------------- |
 * | 401 missing or invalid key      | 401 `invalid_api_key`                                      |
 * | 402 out of credits              | 429 `insufficient_quota` (OpenAI's shape for it)           |
 * | 403 key lacks scope or plan     | 403                                                        |
 * | 404 agent not found             | 404 `model_not_found`                                      |
 * | 400, 422 invalid request        | 400                                                        |
 * | 429 rate limited                | 429 with its `Retry-After`                                 |
 * | 5xx                             | 502                                                        |
 *
 * @module
 */
import { parseRetryAfter } from "../../net/http.ts";
import { GatewayError } from "../../openai/errors.ts";

/** The message of a you.com error body, or undefined. */
export function youErrorMessage(body: unknown): string | undefined {
  if (!body || typeof body !== "object") return undefined;
  const b = body as Record<string, unknown>;
  const d = b.detail;
  if (typeof d === "string" && d !== "") return d;
  if (Array.isArray(d)) {
    const msgs = d.map((e) => {
      const item = e as { loc?: unknown; msg?: unknown };
      const loc = Array.isArray(item.loc) ? item.loc.join(".") : "";
      return `${loc ? `${loc}: ` : ""}${String(item.msg ?? JSON.stringify(e))}`;
    });
    if (msgs.length > 0) return msgs.join("; ");
  }
  for (const k of ["error", "message", "title"]) {
    if (typeof b[k] === "string" && b[k] !== "") return b[k] as string;
  }
  return undefined;
}

/**
 * The error of a refused run: `status` and the body's text. `quotaCooldown` is how long a key out
 * of credits rests (also the client's `Retry-After`).
 */
export function youApiError(
  status: number,
  text: string,
  headers: Headers,
  quotaCooldown: number,
): GatewayError {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  const said = youErrorMessage(body) ??
    (text.replace(/\s+/g, " ").trim().slice(0, 200) || "no body");
  const detail = `you.com answered ${status}: ${said}`;
  let err: GatewayError;
  switch (status) {
    case 401:
      err = new GatewayError(
        401,
        `${detail} (check the API key)`,
        "authentication_error",
        "invalid_api_key",
      );
      break;
    case 402:
      err = new GatewayError(
        429,
        `${detail}: the you.com account is out of credits; add credits at https://you.com/platform`,
        "insufficient_quota",
        "insufficient_quota",
        null,
        { retryAfter: quotaCooldown },
      );
      break;
    case 403:
      err = new GatewayError(
        403,
        `${detail} (the key's plan or scopes do not cover this agent)`,
        "permission_error",
      );
      break;
    case 404:
      err = new GatewayError(
        404,
        `${detail} (no such agent)`,
        "invalid_request_error",
        "model_not_found",
        "model",
      );
      break;
    case 400:
    case 422:
      err = new GatewayError(400, detail, "invalid_request_error");
      break;
    case 429:
      err = new GatewayError(429, detail, "rate_limit_error", "rate_limit_exceeded", null, {
        retryAfter: parseRetryAfter(headers.get("retry-after")),
      });
      break;
    default:
      err = new GatewayError(status === 504 ? 504 : 502, `you upstream failed: ${detail}`);
  }
  err.upstreamStatus = status;
  return err;
}
