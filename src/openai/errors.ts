/**
 * Errors in OpenAI's shape: `{"error":{"message","type","param","code"}}`, each with an honest
 * HTTP status. Providers throw `GatewayError`s; the server turns any error into this shape.
 *
 * @module
 */
import type { z } from "npm:zod@^4.6.7";
import { keyPath } from "../util/key_path.ts";
import { redact } from "../util/mask.ts";

/** The JSON body of an error response. */
export interface ErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

/** An error with the status and OpenAI error fields the client should see. */
export class GatewayError extends Error {
  override name = "GatewayError";
  /** Seconds the client should wait before retrying (429, 503). */
  retryAfter?: number;
  /** The upstream's own HTTP status, when the error comes from an upstream's answer. */
  upstreamStatus?: number;
  /**
   * True when the refusal concerns the request (a bot the key may not use, a busy conversation),
   * not the account: a pool tries the next account without resting this one.
   */
  notAccount?: boolean;

  constructor(
    readonly status: number,
    message: string,
    readonly type: string = typeForStatus(status),
    readonly code: string | null = null,
    readonly param: string | null = null,
    options?: { cause?: unknown; retryAfter?: number },
  ) {
    super(message, options?.cause ? { cause: options.cause } : undefined);
    this.retryAfter = options?.retryAfter;
  }

  /** The JSON body, with secrets masked. */
  toBody(): ErrorBody {
    return {
      error: {
        message: redact(this.message),
        type: this.type,
        param: this.param,
        code: this.code,
      },
    };
  }
}

/** The OpenAI error type that goes with an HTTP status. */
export function typeForStatus(status: number): string {
  if (status === 401) return "authentication_error";
  if (status === 403) return "permission_error";
  if (status === 404) return "not_found_error";
  if (status === 429) return "rate_limit_error";
  if (status === 504) return "timeout_error";
  if (status >= 500) return "upstream_error";
  return "invalid_request_error";
}

/** 400: the request is malformed. */
export function invalidRequest(message: string, param: string | null = null, code?: string) {
  return new GatewayError(400, message, "invalid_request_error", code ?? null, param);
}

/** 404: no provider serves this model. */
export function unknownModel(model: string): GatewayError {
  return new GatewayError(
    404,
    `The model '${model}' does not exist or is not configured on this server; see GET /v1/models`,
    "invalid_request_error",
    "model_not_found",
    "model",
  );
}

/** 502: the upstream failed; `detail` is its status and message. */
export function upstreamFailed(provider: string, detail: string, cause?: unknown): GatewayError {
  return new GatewayError(
    502,
    `${provider} upstream failed: ${detail}`,
    "upstream_error",
    null,
    null,
    {
      cause,
    },
  );
}

/** 504: the upstream did not answer in time. */
export function upstreamTimeout(provider: string, what: string): GatewayError {
  return new GatewayError(
    504,
    `${provider} upstream timed out: ${what}`,
    "timeout_error",
    "timeout",
  );
}

/** Turns a zod error into a 400 naming the first offending field. */
export function fromZodError(err: z.ZodError): GatewayError {
  const issue = err.issues[0];
  const param = keyPath(issue.path);
  const message = issue.code === "invalid_union" ? describeUnion(issue, param) : issue.message;
  return invalidRequest(`Invalid value for '${param || "body"}': ${message}`, param || null);
}

/** A union's message: the issue of the branch that got furthest into the value. */
function describeUnion(issue: z.core.$ZodIssueInvalidUnion, param: string): string {
  const deepest = issue.errors
    .map((e) => e[0])
    .filter(Boolean)
    .sort((a, b) => b.path.length - a.path.length)[0];
  return deepest ? `${keyPath(deepest.path) || param}: ${deepest.message}` : issue.message;
}

/**
 * Any thrown value as a `GatewayError` (unknown errors become 500 with their message). A
 * `URIError` only comes from decoding or encoding text a client sent (broken percent-escapes, lone
 * surrogates) that a handler did not check itself: the client's fault, a 400.
 */
export function toGatewayError(err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  if (err instanceof URIError) {
    return invalidRequest(
      `The request holds malformed text: ${err.message} (a broken %-escape or a lone UTF-16 surrogate)`,
      null,
      "malformed_text",
    );
  }
  if (err instanceof DOMException && err.name === "TimeoutError") {
    return new GatewayError(504, "upstream timed out", "timeout_error", "timeout");
  }
  // The message of an unexpected error may hold server paths or other internals: the client
  // gets its kind only, the log the whole (`logDetail`).
  const kind = err instanceof Error ? err.name : typeof err;
  return new GatewayError(
    500,
    `internal error (${kind}); the server's log has the details`,
    "server_error",
    null,
    null,
    { cause: err ?? "undefined" },
  );
}

/** What the log says about `e`: its message, and for an internal error the original's. */
export function logDetail(e: GatewayError): string {
  if (e.type !== "server_error" || e.cause === undefined) return e.message;
  const c = e.cause;
  return `${e.message}: ${c instanceof Error ? c.stack ?? c.message : String(c)}`;
}
