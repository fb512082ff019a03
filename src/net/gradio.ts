/**
 * A client of gradio's queue, shared by LMSYS and the image spaces.
 *
 * Gradio 4 (HTTP): `POST <root>/queue/join` with `{data, event_data, fn_index, trigger_id,
 * session_hash}` answers `{"event_id"}`; `GET <root>/queue/data?session_hash=` streams
 * `data: {"msg": ...}` events for every event of that session: `estimation`, `process_starts`,
 * `progress`, `log`, `heartbeat`, `process_generating` (the first carries whole output values,
 * the later ones lists of diff operations per output), `process_completed` (whole values, or
 * `success: false` with `output.error`), `unexpected_error`, `close_stream`.
 *
 * Gradio 3 (websocket `<root>/queue/join`): the server asks `send_hash` and `send_data`, the
 * client answers with its session hash and then the data; the same status and process messages
 * follow, each of them whole.
 *
 * Each step carries cookies (`CookieJar`) so that sticky load balancers (lmarena's `SERVERID`)
 * keep a session on one backend.
 *
 * @module
 */
import { GatewayError, upstreamFailed, upstreamTimeout } from "../openai/errors.ts";
import { randomAlnum } from "../util/id.ts";
import type { Config } from "../config/schema.ts";
import { expectType, readJson, snippet, type Upstream } from "./http.ts";
import { abortReason } from "../util/signal.ts";
import { type HttpClients, proxyFor } from "./proxy.ts";
import { readSse } from "./sse.ts";

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

/** What a queue run reports. `data` is always the whole output list (diffs applied). */
export type GradioUpdate =
  | { type: "status"; message: GradioMessage }
  | { type: "generating"; data: unknown[]; message: GradioMessage }
  | { type: "completed"; data: unknown[]; message: GradioMessage };

/** A random session hash as gradio's own clients make them (10 letters and digits). */
export function sessionHash(): string {
  return randomAlnum(10).toLowerCase();
}

/**
 * Cookies carried from one step to the next: every `Set-Cookie` of a response replaces the cookie
 * of the same name (attributes are ignored: these requests all go to one origin).
 */
export class CookieJar {
  #cookies = new Map<string, string>();

  /** @param initial a `Cookie` header value to start with */
  constructor(initial = "") {
    this.addHeader(initial);
  }

  /** Adds the pairs of a `Cookie` header value. */
  addHeader(header: string): void {
    for (const part of header.split(";")) {
      const eq = part.indexOf("=");
      if (eq <= 0) continue;
      this.#cookies.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
    }
  }

  /** Sets one cookie. */
  set(name: string, value: string): void {
    this.#cookies.set(name, value);
  }

  /** One cookie's value. */
  get(name: string): string | undefined {
    return this.#cookies.get(name);
  }

  /** Takes the cookies a response sets. */
  absorb(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const pair = line.split(";", 1)[0];
      const eq = pair.indexOf("=");
      if (eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      // An expired or emptied cookie is removed, as a browser would.
      if (value === "" || /;\s*max-age=0\b/i.test(line)) this.#cookies.delete(name);
      else this.#cookies.set(name, value);
    }
  }

  /** The `Cookie` header value, or "" when empty. */
  header(): string {
    return [...this.#cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  }
}

/** One diff operation of a streamed output: `[action, path, value]`. */
export type DiffOp = [string, (string | number)[], unknown];

/**
 * Applies gradio's diff operations to a value and returns the new value (the input may be
 * changed in place): `replace` and `append` (string concatenation) at any path, `add` (insert
 * into a list, or set a key) and `delete` (remove from a list or an object) below the root.
 */
export function applyDiff(value: unknown, ops: readonly DiffOp[]): unknown {
  let out = value;
  for (const op of ops) {
    if (!Array.isArray(op) || op.length < 2 || !Array.isArray(op[1])) {
      throw new Error(`not a diff operation: ${snippet(JSON.stringify(op), 80)}`);
    }
    out = applyEdit(out, op[1], op[0], op[2]);
  }
  return out;
}

function applyEdit(
  target: unknown,
  path: readonly (string | number)[],
  action: string,
  value: unknown,
): unknown {
  if (path.length === 0) {
    if (action === "replace") return value;
    if (action === "append") return appendTo(target, value);
    throw new Error(`unsupported diff action at the root: ${action}`);
  }
  let current = target as Record<string | number, unknown>;
  for (let i = 0; i < path.length - 1; i++) {
    current = current?.[path[i]] as Record<string | number, unknown>;
    if (current == null || typeof current !== "object") {
      throw new Error(`diff path ${JSON.stringify(path)} does not exist`);
    }
  }
  if (current == null || typeof current !== "object") {
    throw new Error(`diff path ${JSON.stringify(path)} does not exist`);
  }
  const last = path[path.length - 1];
  switch (action) {
    case "replace":
      current[last] = value;
      break;
    case "append":
      current[last] = appendTo(current[last], value);
      break;
    case "add":
      if (Array.isArray(current)) current.splice(Number(last), 0, value);
      else current[last] = value;
      break;
    case "delete":
      if (Array.isArray(current)) current.splice(Number(last), 1);
      else delete current[last];
      break;
    default:
      throw new Error(`unknown diff action: ${action}`);
  }
  return target;
}

function appendTo(target: unknown, value: unknown): unknown {
  if (typeof target === "string" && typeof value === "string") return target + value;
  if (Array.isArray(target) && Array.isArray(value)) return [...target, ...value];
  if (target == null) return value;
  throw new Error("append to a value that is not a string or list");
}

/**
 * Keeps the whole output values of one event while it streams: the first `process_generating`
 * carries values, later ones carry one list of diff operations per output.
 */
export class OutputTracker {
  #values: unknown[] | undefined;

  /** The whole output list after a `process_generating` message's `output.data`. */
  generating(data: unknown[]): unknown[] {
    if (this.#values === undefined) {
      this.#values = structuredClone(data);
    } else {
      this.#values = this.#values.map((v, i) => {
        const ops = data[i];
        if (!Array.isArray(ops)) return v;
        return applyDiff(v, ops as DiffOp[]);
      });
      // Outputs beyond the first message's count are taken as they come.
      for (let i = this.#values.length; i < data.length; i++) this.#values.push(data[i]);
    }
    return this.#values;
  }

  /** Whole values seen so far (undefined before the first). */
  get values(): unknown[] | undefined {
    return this.#values;
  }
}

/** Options of one queue call. */
export interface QueueCall {
  /** The app's root URL (`https://host` or `https://host/prefix`; `ws(s)` for gradio 3). */
  root: string;
  fnIndex: number;
  /** Gradio 4's trigger id (the component whose event runs `fnIndex`). */
  triggerId?: number;
  data: unknown[];
  /** One hash shared by every step of a conversation. */
  sessionHash: string;
  jar?: CookieJar;
  /** Extra headers on every request (user agent, origin, referer...). */
  headers?: Record<string, string>;
  /** Event data of the triggering event (null for plain clicks). */
  eventData?: unknown;
}

function requestHeaders(call: QueueCall, extra: Record<string, string>): Record<string, string> {
  const h: Record<string, string> = { ...call.headers, ...extra };
  const cookie = call.jar?.header();
  if (cookie) h.cookie = cookie;
  return h;
}

/** `POST /queue/join`: queues the call and returns its event id. */
export async function joinQueue(http: Upstream, call: QueueCall): Promise<string> {
  const body: Record<string, unknown> = {
    data: call.data,
    event_data: call.eventData ?? null,
    fn_index: call.fnIndex,
    session_hash: call.sessionHash,
  };
  if (call.triggerId !== undefined) body.trigger_id = call.triggerId;
  const res = await http.ok(`${call.root}/queue/join`, {
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
 * `GET /queue/data`: the messages of the session's event stream that belong to `eventId` (and
 * those of no event: heartbeats). Ends after `close_stream` or the end of the body.
 */
export async function* queueMessages(
  http: Upstream,
  call: QueueCall,
  eventId?: string,
): AsyncGenerator<GradioMessage> {
  const url = `${call.root}/queue/data?session_hash=${encodeURIComponent(call.sessionHash)}`;
  const res = await http.ok(url, {
    headers: requestHeaders(call, { accept: "text/event-stream", "cache-control": "no-cache" }),
  });
  call.jar?.absorb(res);
  await expectType(http.provider, res, ["text/event-stream"]);
  yield* readQueueStream(http.provider, res.body!, eventId);
}

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

function parseMessage(provider: string, text: string): GradioMessage | undefined {
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
        if (m.success === false || (m.output && "error" in m.output && m.output.error != null)) {
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
        throw new GatewayError(
          503,
          `${provider} upstream failed: the queue is full; try again later`,
          "upstream_error",
          "queue_full",
          null,
          { retryAfter: 10 },
        );
      default:
        yield { type: "status", message: m };
    }
  }
  throw upstreamFailed(provider, "the queue stream ended before the event completed");
}

function processError(provider: string, m: GradioMessage): GatewayError {
  const detail = typeof m.output?.error === "string" && m.output.error
    ? m.output.error
    : "the app failed without saying why (it hides its errors)";
  return upstreamFailed(provider, `the app failed: ${detail}`);
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

async function lastOutput(
  provider: string,
  updates: AsyncIterable<GradioUpdate>,
): Promise<unknown[]> {
  for await (const u of updates) if (u.type === "completed") return u.data;
  throw upstreamFailed(provider, "the queue ended without a result");
}

/** What a websocket run needs besides the call. */
export interface SocketOptions {
  provider: string;
  config: Config;
  signal: AbortSignal;
  /** The provider's own proxy (`false` = none). */
  proxy?: string | false;
  /** The server's HTTP clients (for the proxy). */
  clients: HttpClients;
  /** Seconds to wait for the connection and then between two messages (default 120). */
  idleSeconds?: number;
}

/** `ws(s)://` for a root given as `http(s)://`. */
export function socketRoot(root: string): string {
  return root.replace(/^http(s?):\/\//i, "ws$1://");
}

/**
 * The gradio 3 queue over a websocket: answers `send_hash` and `send_data`, and streams the
 * updates until `process_completed`.
 */
export async function* runSocket(
  options: SocketOptions,
  call: QueueCall,
): AsyncGenerator<GradioUpdate> {
  yield* trackOutputs(options.provider, socketMessages(options, call));
}

/** The gradio 3 queue over a websocket: the final output values. */
export async function socketResult(options: SocketOptions, call: QueueCall): Promise<unknown[]> {
  return await lastOutput(options.provider, runSocket(options, call));
}

async function* socketMessages(
  options: SocketOptions,
  call: QueueCall,
): AsyncGenerator<GradioMessage> {
  const { provider } = options;
  const url = new URL(`${socketRoot(call.root)}/queue/join`);
  const proxy = proxyFor(new URL(url.href.replace(/^ws/i, "http")), options.config, options.proxy);
  const headers = requestHeaders(call, {});
  const ws = new WebSocket(url, {
    headers,
    client: options.clients.get(proxy, options.config.server["ca-file"]),
  } as WebSocketOptions);
  const queue: (GradioMessage | Error | null)[] = [];
  let wake: (() => void) | undefined;
  const push = (item: GradioMessage | Error | null) => {
    queue.push(item);
    wake?.();
  };
  let opened = false;
  ws.onopen = () => opened = true;
  ws.onmessage = (e) => {
    if (typeof e.data !== "string") return;
    try {
      const m = parseMessage(provider, e.data);
      if (m) push(m);
    } catch (err) {
      push(err as Error);
    }
  };
  ws.onerror = (e) => {
    const why = (e as ErrorEvent).message || "websocket error";
    push(
      opened
        ? upstreamFailed(provider, `the websocket failed: ${why}`)
        : upstreamFailed(provider, `cannot open ${url.host}: ${why}`),
    );
  };
  let onClosed!: () => void;
  const closed = new Promise<void>((r) => onClosed = r);
  ws.onclose = () => {
    push(null);
    onClosed();
  };
  const onAbort = () => ws.close();
  options.signal.addEventListener("abort", onAbort, { once: true });
  const idle = (options.idleSeconds ?? 120) * 1000;
  try {
    while (true) {
      if (queue.length === 0) {
        if (options.signal.aborted) throw abortReason(options.signal);
        let timer: ReturnType<typeof setTimeout> | undefined;
        const timedOut = await new Promise<boolean>((resolve) => {
          wake = () => resolve(false);
          timer = setTimeout(() => resolve(true), idle);
        });
        clearTimeout(timer);
        wake = undefined;
        if (options.signal.aborted) throw abortReason(options.signal);
        if (timedOut && queue.length === 0) {
          throw upstreamTimeout(provider, `${url.host} sent nothing for ${idle / 1000}s`);
        }
        continue;
      }
      const item = queue.shift()!;
      if (item === null) return;
      if (item instanceof Error) throw item;
      if (item.msg === "send_hash") {
        ws.send(JSON.stringify({ fn_index: call.fnIndex, session_hash: call.sessionHash }));
        continue;
      }
      if (item.msg === "send_data") {
        ws.send(JSON.stringify({
          data: call.data,
          event_data: call.eventData ?? null,
          fn_index: call.fnIndex,
          session_hash: call.sessionHash,
        }));
        continue;
      }
      yield item;
      if (item.msg === "process_completed") return;
    }
  } finally {
    options.signal.removeEventListener("abort", onAbort);
    if (ws.readyState !== WebSocket.CLOSED) {
      if (ws.readyState !== WebSocket.CLOSING) ws.close();
      // The socket is released before the caller goes on (no resource outlives the call).
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([closed, new Promise<void>((r) => timer = setTimeout(r, 2000))]);
      clearTimeout(timer);
    }
  }
}
