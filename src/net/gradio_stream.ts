/**
 * Reading a gradio event's messages into updates with whole output values.
 *
 * Queue stream (`<prefix>/queue/data?session_hash=`, SSE `data: {"msg": ...}` for every event of
 * the session): `estimation`, `process_starts`, `progress`, `log`, `heartbeat`,
 * `process_generating` (whole values first, then diffs, see `gradio_diff.ts`),
 * `process_completed` (whole values, or `success: false` with `output.error`),
 * `unexpected_error`, `close_stream`.
 *
 * Simple REST stream (`<prefix>/call/<api_name>/<event_id>`): `event: generating | complete |
 * error | heartbeat` with `data:` the whole output list, the error output (`{"error", "title",
 * ...}`), a message string, or `null`.
 *
 * Either stream that ends before its event completed is an error. An app error that says the
 * ZeroGPU quota is spent is a 429 (with the retry delay when the text has one), others 502.
 *
 * @module
 */
import { GatewayError, upstreamFailed } from "../openai/errors.ts";
import { isObject } from "../util/json.ts";
import { OutputTracker } from "./gradio_diff.ts";
import { snippet } from "./http.ts";
import { readSse, type SseEvent } from "./sse.ts";

/** One message of a gradio queue (SSE `data:` payload or websocket text frame). */
export interface GradioMessage {
  msg: string;
  event_id?: string | null;
  success?: boolean;
  /** `unexpected_error` text. */
  message?: string;
  output?: {
    data?: unknown[];
    is_generating?: boolean;
    error?: string | null;
    duration?: number;
    average_duration?: number;
    [key: string]: unknown;
  };
  rank?: number;
  queue_size?: number;
  rank_eta?: number | null;
  [key: string]: unknown;
}

/** What a run reports. `data` is always the whole output list (diffs applied). */
export type GradioUpdate =
  | { type: "status"; message: GradioMessage }
  | { type: "generating"; data: unknown[]; message: GradioMessage }
  | { type: "completed"; data: unknown[]; message: GradioMessage };

/**
 * The messages of a `queue/data` body that belong to `eventId` (all when undefined); ends at
 * `close_stream` or the end of the body.
 */
export async function* readQueueStream(
  provider: string,
  body: ReadableStream<Uint8Array>,
  eventId?: string,
): AsyncGenerator<GradioMessage> {
  for await (const ev of readSse(body)) {
    const message = parseMessage(provider, ev.data);
    if (!message) continue;
    if (message.msg === "close_stream") return;
    if (eventId && message.event_id && message.event_id !== eventId) continue;
    yield message;
  }
}

/** One queue message from its JSON text (undefined for an empty one). */
export function parseMessage(provider: string, text: string): GradioMessage | undefined {
  if (text.trim() === "") return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw upstreamFailed(provider, `a queue message that is not JSON: ${snippet(text)}`);
  }
  if (!value || typeof value !== "object" || typeof (value as GradioMessage).msg !== "string") {
    throw upstreamFailed(provider, `a queue message without 'msg': ${snippet(text)}`);
  }
  return value as GradioMessage;
}

/**
 * Turns raw queue messages into updates with whole output values; throws a `GatewayError` for
 * the queue's errors and when the stream ends before the event completed.
 */
export async function* trackOutputs(
  provider: string,
  messages: AsyncIterable<GradioMessage>,
): AsyncGenerator<GradioUpdate> {
  const tracker = new OutputTracker();
  for await (const m of messages) {
    switch (m.msg) {
      case "process_generating": {
        if (m.success === false) throw processError(provider, m);
        const data = m.output?.data;
        if (!Array.isArray(data)) continue;
        let values: unknown[];
        try {
          values = tracker.generating(data);
        } catch (err) {
          throw upstreamFailed(
            provider,
            `a streamed output that cannot be applied: ${(err as Error).message}`,
          );
        }
        yield { type: "generating", data: values, message: m };
        break;
      }
      case "process_completed": {
        // `output` is the app's to fill: only an object of it can carry an error.
        const output = isObject(m.output) ? m.output : undefined;
        if (m.success === false || output?.error != null) {
          throw processError(provider, m);
        }
        const data = m.output?.data;
        yield {
          type: "completed",
          data: Array.isArray(data) ? data : tracker.values ?? [],
          message: m,
        };
        return;
      }
      case "unexpected_error":
        throw upstreamFailed(
          provider,
          `the queue reported an error: ${m.message ?? "no message"}`,
        );
      case "queue_full":
        throw queueFull(provider);
      default:
        yield { type: "status", message: m };
    }
  }
  throw upstreamFailed(provider, "the queue stream ended before the event completed");
}

/** The 503 of a full queue (join refused, or gradio 3's `queue_full`). */
export function queueFull(provider: string): GatewayError {
  return new GatewayError(
    503,
    `${provider} upstream failed: the queue is full; try again later`,
    "upstream_error",
    "queue_full",
    null,
    { retryAfter: 10 },
  );
}

function processError(provider: string, m: GradioMessage): GatewayError {
  const error = m.output?.error;
  return appError(provider, typeof error === "string" ? error : undefined, m.title);
}

/**
 * The error of an app's failed event: the ZeroGPU quota message as a 429 (its HTML link
 * reduced to text, the delay of "retry in 0:09:48" as Retry-After), any other as a 502.
 */
export function appError(provider: string, text?: string, title?: unknown): GatewayError {
  const clean = (text ?? "").replace(/<[^>]*>/g, "").replace(/\s+/g, " ").trim();
  // "Error" is gradio's default title and says nothing.
  const heading = typeof title === "string" && title && title !== "Error" && !clean.includes(title)
    ? `${title}: `
    : "";
  if (/\bGPU quota\b|ZeroGPU.*quota|quota exceeded/i.test(`${title ?? ""} ${clean}`)) {
    const wait = /(\d+):(\d{2}):(\d{2})/.exec(clean);
    const retryAfter = wait ? Number(wait[1]) * 3600 + Number(wait[2]) * 60 + Number(wait[3]) : 60;
    return new GatewayError(
      429,
      `${provider} upstream refused: ${heading}${clean}`,
      "rate_limit_error",
      "insufficient_quota",
      null,
      { retryAfter },
    );
  }
  const detail = clean || "the app failed without saying why (it hides its errors)";
  return upstreamFailed(provider, `the app failed: ${heading}${detail}`);
}

/**
 * Turns the events of a simple REST stream (`/call/<api_name>/<event_id>`) into updates; its
 * outputs are whole values. Ends at `complete`; `error` and an early end throw.
 */
export async function* trackCall(
  provider: string,
  events: AsyncIterable<SseEvent>,
): AsyncGenerator<GradioUpdate> {
  for await (const ev of events) {
    const name = ev.event ?? "message";
    let data: unknown = null;
    if (ev.data.trim() !== "") {
      try {
        data = JSON.parse(ev.data);
      } catch {
        throw upstreamFailed(provider, `a call event that is not JSON: ${snippet(ev.data)}`);
      }
    }
    const message: GradioMessage = { msg: name };
    if (name === "error") {
      if (typeof data === "string") throw appError(provider, data);
      const out = data && typeof data === "object" ? data as Record<string, unknown> : {};
      throw appError(provider, typeof out.error === "string" ? out.error : undefined, out.title);
    }
    if (name === "complete" || name === "generating") {
      if (!Array.isArray(data)) {
        throw upstreamFailed(provider, `a '${name}' event without outputs: ${snippet(ev.data)}`);
      }
      if (name === "complete") {
        yield { type: "completed", data, message };
        return;
      }
      yield { type: "generating", data, message };
      continue;
    }
    yield { type: "status", message };
  }
  throw upstreamFailed(provider, "the call stream ended before the event completed");
}

/** The final output values of a run's updates. */
export async function lastOutput(
  provider: string,
  updates: AsyncIterable<GradioUpdate>,
): Promise<unknown[]> {
  for await (const u of updates) if (u.type === "completed") return u.data;
  throw upstreamFailed(provider, "the queue ended without a result");
}
