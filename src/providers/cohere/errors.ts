/**
 * Cohere's error bodies (`{"message": ..., "id": ...}`) as `GatewayError`s with honest statuses:
 * 400/422 a refused request (400), 401 and 498 (an invalid token) an auth failure (401), 403,
 * 404 and 429 as they are, 499 and 5xx the upstream's failure (502), 504 a timeout. The message
 * keeps Cohere's words and its request id (for Cohere's support).
 *
 * @module
 */
import { httpErrorOf, jsonOrUndefined, readCapped } from "../../net/http.ts";
import { GatewayError } from "../../openai/errors.ts";

/** The `GatewayError` of an error response that was already read as `text`. */
export function cohereErrorOf(res: Response, text: string): GatewayError {
  const err = httpErrorOf("cohere", res, text);
  const id = (jsonOrUndefined(text) as { id?: unknown } | undefined)?.id;
  const message = typeof id === "string" && id ? `${err.message} (request id ${id})` : err.message;
  const out = new GatewayError(err.status, message, err.type, err.code, err.param, {
    retryAfter: err.retryAfter,
  });
  out.upstreamStatus = res.status;
  return out;
}

/** Reads an error response into a `GatewayError`. */
export async function cohereHttpError(res: Response): Promise<GatewayError> {
  return cohereErrorOf(res, await readCapped(res));
}
