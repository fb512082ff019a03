/**
 * Errors in Anthropic's shape: `{"type":"error","error":{"type","message"},"request_id"}`, with
 * the status and error type Anthropic uses for each case. Every error of the gateway is a
 * `GatewayError` (OpenAI's fields); this module only renders it the Messages API's way.
 *
 * @module
 */
import { GatewayError, toGatewayError } from "../openai/errors.ts";
import { redact } from "../util/mask.ts";

/** The JSON body of an Anthropic error. */
export interface AnthropicErrorBody {
  type: "error";
  error: { type: string; message: string; details?: { error_code: string } };
  request_id?: string;
}

/** Error codes of Anthropic's own that clients act on; given as `error.details.error_code`. */
const DETAIL_CODES: ReadonlySet<string> = new Set(["thread_not_found"]);

/**
 * 404 `thread_not_found`: this gateway keeps no message threads, so a `thread` to continue is
 * never found. Anthropic's SDK then sends the whole conversation again with a new thread.
 */
export function threadNotFound(id: string | undefined): GatewayError {
  return new GatewayError(
    404,
    `Thread ${
      id ?? "(no previous_message_id)"
    } not found: this gateway keeps no message threads; send the whole conversation`,
    "not_found_error",
    "thread_not_found",
    "thread",
  );
}

/** True when the upstream said it is overloaded (Anthropic's 529, or a 503 that says so). */
function overloaded(err: GatewayError): boolean {
  if (err.upstreamStatus === 529 || err.type === "overloaded_error") return true;
  return err.status === 503 && /overloaded/i.test(err.message);
}

/** The status and Anthropic error type of `err`. */
export function anthropicStatus(err: GatewayError): { status: number; type: string } {
  if (overloaded(err)) return { status: 529, type: "overloaded_error" };
  const s = err.status;
  if (s === 401) return { status: s, type: "authentication_error" };
  if (s === 402) return { status: s, type: "billing_error" };
  if (s === 403) return { status: s, type: "permission_error" };
  if (s === 404) return { status: s, type: "not_found_error" };
  if (s === 413) return { status: s, type: "request_too_large" };
  if (s === 429) return { status: s, type: "rate_limit_error" };
  if (s === 504) return { status: s, type: "timeout_error" };
  if (s >= 500) return { status: s, type: "api_error" };
  return { status: s, type: "invalid_request_error" };
}

/** The JSON body of `err`, secrets masked. */
export function anthropicErrorBody(err: unknown, requestId?: string): AnthropicErrorBody {
  const e = toGatewayError(err);
  const body: AnthropicErrorBody = {
    type: "error",
    error: { type: anthropicStatus(e).type, message: redact(e.message) },
  };
  if (e.code && DETAIL_CODES.has(e.code)) body.error.details = { error_code: e.code };
  if (requestId) body.request_id = requestId;
  return body;
}

/** The JSON error response for `err` in Anthropic's shape (with `retry-after` when known). */
export function anthropicErrorResponse(
  err: GatewayError,
  requestId?: string,
  headers: HeadersInit = {},
): Response {
  const h = new Headers(headers);
  h.set("content-type", "application/json");
  if (requestId) h.set("request-id", requestId);
  if (err.retryAfter !== undefined) h.set("retry-after", String(Math.ceil(err.retryAfter)));
  return new Response(JSON.stringify(anthropicErrorBody(err, requestId)), {
    status: anthropicStatus(err).status,
    headers: h,
  });
}
