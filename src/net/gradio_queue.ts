/**
 * Gradio's HTTP queue: `POST <root><prefix>/queue/join` with `{data, event_data, fn_index,
 * trigger_id, session_hash}` answers `{"event_id"}` (503 when the queue is full or stopped, 422
 * for validator errors, 400 "Session hash not found." without a hash); `GET
 * <root><prefix>/queue/data?session_hash=` streams the messages of every event of that session.
 *
 * The prefix is `/gradio_api` on Gradio 5 and 6, empty on Gradio 4 (and on apps such as lmarena
 * whose client knows its paths); `gradio.ts` reads it from the app's `/config`.
 *
 * Each step carries cookies (`CookieJar`) so that sticky load balancers keep a session on one
 * backend.
 *
 * @module
 */
import { upstreamFailed } from "../openai/errors.ts";
import { randomAlnum } from "../util/id.ts";
import type { CookieJar } from "./cookie_jar.ts";
import { expectType, readJson, snippet, type Upstream } from "./http.ts";
import {
  type GradioMessage,
  type GradioUpdate,
  lastOutput,
  readQueueStream,
  trackOutputs,
} from "./gradio_stream.ts";

/** A random session hash as gradio's own clients make them (10 letters and digits). */
export function sessionHash(): string {
  return randomAlnum(10).toLowerCase();
}

/** Options of one queue call. */
export interface QueueCall {
  /** The app's root URL (`https://host` or `https://host/path`; `ws(s)` for gradio 3). */
  root: string;
  /** The API prefix of the app (`/gradio_api` on Gradio 5+, "" or undefined before). */
  prefix?: string;
  fnIndex: number;
  /** The trigger id (the component whose event runs `fnIndex`). */
  triggerId?: number;
  data: unknown[];
  /** One hash shared by every step of a conversation. */
  sessionHash: string;
  jar?: CookieJar;
  /** Extra headers on every request (user agent, origin, referer, authorization...). */
  headers?: Record<string, string>;
  /** Event data of the triggering event (null for plain clicks). */
  eventData?: unknown;
}

/** The headers of one step: the call's, `extra`, and the jar's cookies. */
export function requestHeaders(
  call: Pick<QueueCall, "headers" | "jar">,
  extra: Record<string, string>,
): Record<string, string> {
  const h: Record<string, string> = { ...call.headers, ...extra };
  const cookie = call.jar?.header();
  if (cookie) h.cookie = cookie;
  return h;
}

/** The URL of an API path of the call's app (`/queue/join` → `<root><prefix>/queue/join`). */
function apiUrl(call: Pick<QueueCall, "root" | "prefix">, path: string): string {
  return `${call.root}${call.prefix ?? ""}${path}`;
}

/** `POST <prefix>/queue/join`: queues the call and returns its event id. */
export async function joinQueue(http: Upstream, call: QueueCall): Promise<string> {
  const body: Record<string, unknown> = {
    data: call.data,
    event_data: call.eventData ?? null,
    fn_index: call.fnIndex,
    session_hash: call.sessionHash,
  };
  if (call.triggerId !== undefined) body.trigger_id = call.triggerId;
  const res = await http.ok(apiUrl(call, "/queue/join"), {
    method: "POST",
    headers: requestHeaders(call, {
      "content-type": "application/json",
      accept: "application/json",
    }),
    body: JSON.stringify(body),
  });
  call.jar?.absorb(res);
  const json = await readJson<{ event_id?: unknown }>(http.provider, res);
  if (typeof json?.event_id !== "string" || json.event_id === "") {
    throw upstreamFailed(
      http.provider,
      `queue/join answered without an event id: ${snippet(JSON.stringify(json))}`,
    );
  }
  return json.event_id;
}

/**
 * `GET <prefix>/queue/data`: the messages of the session's event stream that belong to `eventId`
 * (and those of no event: heartbeats). Ends after `close_stream` or the end of the body.
 */
export async function* queueMessages(
  http: Upstream,
  call: QueueCall,
  eventId?: string,
): AsyncGenerator<GradioMessage> {
  const url = apiUrl(call, `/queue/data?session_hash=${encodeURIComponent(call.sessionHash)}`);
  const res = await http.ok(url, {
    headers: requestHeaders(call, { accept: "text/event-stream", "cache-control": "no-cache" }),
  });
  call.jar?.absorb(res);
  await expectType(http.provider, res, ["text/event-stream"]);
  yield* readQueueStream(http.provider, res.body!, eventId);
}

/** Joins the HTTP queue and streams the event's updates until it completes. */
export async function* runQueue(http: Upstream, call: QueueCall): AsyncGenerator<GradioUpdate> {
  const eventId = await joinQueue(http, call);
  yield* trackOutputs(http.provider, queueMessages(http, call, eventId));
}

/** Joins the HTTP queue and returns the event's final output values. */
export async function queueResult(http: Upstream, call: QueueCall): Promise<unknown[]> {
  return await lastOutput(http.provider, runQueue(http, call));
}
