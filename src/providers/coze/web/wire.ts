/**
 * What every call of Coze's web route shares: the browser it pretends to be, the origins, the
 * random ids of the web client and the reading of a chat response (a stream, or a refusal).
 *
 * @module
 */
import { httpErrorOf, jsonOrUndefined, readCapped, snippet } from "../../../net/http.ts";
import { upstreamFailed } from "../../../openai/errors.ts";
import { errorOfBody } from "./errors.ts";

/** The browser Coze's web API expects. */
export const USER_AGENT =
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.0.0 Safari/537.36 Edg/123.0.0.0";

const ID_CHARS = "1234567890abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_";

/** A random id like the web client's `local_message_id` (21 characters). */
export function localMessageId(n = 21): string {
  const bytes = crypto.getRandomValues(new Uint8Array(n));
  let out = "";
  for (const b of bytes) out += ID_CHARS[b % ID_CHARS.length];
  return out;
}

/** A random numeric device id, as the web client sends. */
export function deviceId(): string {
  const r = crypto.getRandomValues(new Uint32Array(1))[0] % 999_999_999;
  return String(r + Math.floor(Date.now() / 1000));
}

/** The origins Coze checks (fixed: a mirror in `base-url` still talks to coze.com's pages). */
export const WEB_ORIGIN = "https://www.coze.com";
export const SDK_ORIGIN = "https://api.coze.com";

/**
 * The body of a chat response that is a 200 event stream. A JSON answer (Coze refuses with
 * `{"code":...,"msg":...}` and status 200) becomes its error; other statuses map as usual.
 */
export async function streamOrError(
  res: Response,
  what: string,
): Promise<ReadableStream<Uint8Array>> {
  const type = (res.headers.get("content-type") ?? "").toLowerCase();
  if (res.status === 200 && type.includes("text/event-stream") && res.body) return res.body;
  // As much as `httpError` reads of an error body: a block page cannot fill the memory.
  const text = await readCapped(res);
  const err = errorOfBody(what, jsonOrUndefined(text));
  if (err) throw err;
  if (res.status < 200 || res.status >= 300) throw httpErrorOf("coze", res, text);
  throw upstreamFailed(
    "coze",
    `${what} answered ${res.status} ${
      type || "without a content type"
    } instead of an event stream: ${snippet(text)}`,
  );
}
