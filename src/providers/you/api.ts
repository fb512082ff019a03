/**
 * The call of you.com's Agents API: `POST <you.base-url>/v1/agents/runs`. The docs ask for
 * `Authorization: Bearer <key>` while the official SDKs send `X-API-Key: <key>`: both go, so the
 * key works whichever the service reads.
 *
 * @module
 */
import { readCapped, snippet, type Upstream } from "../../net/http.ts";
import { readSse, type SseEvent } from "../../net/sse.ts";
import { upstreamFailed } from "../../openai/errors.ts";
import { VERSION } from "../../version.ts";
import { youApiError } from "./errors.ts";
import type { YouRunBody } from "./request.ts";

/** The headers of a run with `key`. */
export function youHeaders(key: string): Record<string, string> {
  return {
    authorization: `Bearer ${key}`,
    "x-api-key": key,
    "content-type": "application/json",
    accept: "text/event-stream",
    "user-agent": `chatgpt-adapter/${VERSION}`,
  };
}

/**
 * Starts a streamed run; resolves with its events once you.com answered with an event stream.
 * Refusals are thrown as `youApiError`s (`quotaCooldown`: how long a key out of credits rests).
 */
export async function openRun(
  http: Upstream,
  base: string,
  key: string,
  body: YouRunBody,
  quotaCooldown: number,
): Promise<AsyncGenerator<SseEvent>> {
  const res = await http.fetch(`${base}/v1/agents/runs`, {
    method: "POST",
    headers: youHeaders(key),
    body: JSON.stringify(body),
  });
  const type = (res.headers.get("content-type") ?? "").toLowerCase();
  if (res.status === 200 && type.includes("text/event-stream") && res.body) {
    return readSse(res.body);
  }
  // As much as an error body is read: a block page cannot fill the memory.
  const text = await readCapped(res);
  if (res.status < 200 || res.status >= 300) {
    throw youApiError(res.status, text, res.headers, quotaCooldown);
  }
  throw upstreamFailed(
    "you",
    `/v1/agents/runs answered ${res.status} ${type || "without a content type"} instead of an ` +
      `event stream: ${snippet(text)}`,
  );
}
