/**
 * Gemini's error bodies (`{"error":{"code","message","status","details"}}`) as `GatewayError`s:
 * an invalid key (400 with the `API_KEY_INVALID` reason) is an auth failure (401), a 429's
 * `RetryInfo.retryDelay` becomes the retry-after the pool rests the key for, and errors that
 * arrive inside a stream get the same treatment.
 *
 * @module
 */
import {
  httpErrorOf,
  jsonOrUndefined,
  mapStatus,
  parseRetryAfter,
  readCapped,
} from "../../net/http.ts";
import { GatewayError } from "../../openai/errors.ts";
import { isObject } from "../../util/json.ts";

/** Google's error object. */
export interface GoogleError {
  code?: number;
  message?: string;
  status?: string;
  details?: { "@type"?: string; reason?: string; retryDelay?: string }[];
}

/** Seconds of a protobuf Duration string such as `"37s"` or `"1.5s"`. */
export function durationSeconds(value: unknown): number | undefined {
  if (typeof value !== "string") return undefined;
  const m = value.match(/^(\d+(?:\.\d+)?)s$/);
  return m ? Math.ceil(Number(m[1])) : undefined;
}

function retryDelayOf(e: GoogleError): number | undefined {
  for (const d of e.details ?? []) {
    if (d["@type"]?.endsWith("google.rpc.RetryInfo")) return durationSeconds(d.retryDelay);
  }
  return undefined;
}

function keyInvalid(e: GoogleError): boolean {
  return (e.details ?? []).some((d) => d.reason === "API_KEY_INVALID") ||
    /API key not valid|API key expired/i.test(e.message ?? "");
}

/**
 * The error object of a parsed body, if it is Google's error shape, with only the fields of their
 * documented types kept (an upstream's odd `details` must not break the error's own reporting).
 */
export function googleErrorOf(body: unknown): GoogleError | undefined {
  if (!body || typeof body !== "object") return undefined;
  const b = Array.isArray(body) ? body[0] : body;
  const e = (b as { error?: unknown })?.error;
  if (!isObject(e)) return undefined;
  const str = (v: unknown) => typeof v === "string" ? v : undefined;
  return {
    code: typeof e.code === "number" ? e.code : undefined,
    message: str(e.message),
    status: str(e.status),
    details: Array.isArray(e.details)
      ? e.details.filter(isObject).map((d) => ({
        "@type": str(d["@type"]),
        reason: str(d.reason),
        retryDelay: str(d.retryDelay),
      }))
      : undefined,
  };
}

/** A `GatewayError` for Google's error object with the HTTP status it came with. */
export function fromGoogleError(e: GoogleError, httpStatus?: number): GatewayError {
  const upstream = httpStatus ?? e.code ?? 500;
  const label = e.status ? `${upstream} ${e.status}` : `${upstream}`;
  const message = `gemini upstream answered ${label}: ${e.message ?? "no message"}`;
  if (keyInvalid(e)) {
    return new GatewayError(401, message, "authentication_error", "invalid_api_key");
  }
  const status = mapStatus(upstream);
  return new GatewayError(
    status,
    message,
    undefined,
    status === 429 ? "rate_limit_exceeded" : null,
    null,
    { retryAfter: status === 429 ? retryDelayOf(e) : undefined },
  );
}

/** Turns an error response into a `GatewayError`. */
export async function geminiHttpError(res: Response): Promise<GatewayError> {
  const text = await readCapped(res);
  const e = googleErrorOf(jsonOrUndefined(text));
  if (!e) return httpErrorOf("gemini", res, text);
  const err = fromGoogleError(e, res.status);
  const header = parseRetryAfter(res.headers.get("retry-after"));
  if (header !== undefined && err.status === 429) err.retryAfter = header;
  return err;
}
