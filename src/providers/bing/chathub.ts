/**
 * One `chat` invocation on Bing's ChatHub websocket (SignalR JSON protocol): open the socket with
 * the conversation's cookie and signature, handshake, ping every 5 s, send the invocation, and
 * yield the hub's messages until the caller stops. Timeouts follow `server.timeouts` (connect,
 * first message after the invocation, silence between messages); the request's abort signal
 * closes the socket at once.
 *
 * @module
 */
import {
  formatRecord,
  HANDSHAKE_REQUEST,
  MessageType,
  type SignalRMessage,
  SignalRParseError,
  SignalRReader,
} from "../../net/signalr.ts";
import { GatewayError, upstreamFailed, upstreamTimeout } from "../../openai/errors.ts";
import type { Background } from "../../util/background.ts";

/** How to reach the hub. */
export interface HubConnection {
  /** `wss://.../sydney/ChatHub?sec_access_token=...` */
  url: string;
  headers: Record<string, string>;
  /** A proxy client (`Deno.createHttpClient`), when a proxy applies. */
  client?: Deno.HttpClient;
  signal: AbortSignal;
  /** Seconds; 0 turns one off. */
  timeouts: { connect: number; firstByte: number; idle: number };
  /** Where the polite close of the socket is tracked after the request. */
  background: Background;
}

const PING_MS = 5000;

/** A websocket's frames as a queue read with timeouts. */
class Frames {
  #queue: (string | ArrayBuffer)[] = [];
  #wake?: () => void;
  closed?: { code: number; reason: string };
  error?: string;

  constructor(readonly ws: WebSocket) {
    ws.binaryType = "arraybuffer";
    ws.onopen = () => this.#notify();
    ws.onmessage = (e) => {
      this.#queue.push(e.data);
      this.#notify();
    };
    ws.onerror = (e) => {
      this.error = (e as ErrorEvent).message || "websocket error";
      this.#notify();
    };
    ws.onclose = (e) => {
      this.closed = { code: e.code, reason: e.reason };
      this.#notify();
    };
  }

  #notify(): void {
    const w = this.#wake;
    this.#wake = undefined;
    w?.();
  }

  /** Waits for something to happen (a frame, open, close, error), at most `ms` (0 = no limit). */
  wait(ms: number, signal: AbortSignal): Promise<"event" | "timeout" | "abort"> {
    if (signal.aborted) return Promise.resolve("abort");
    return new Promise((resolve) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const done = (r: "event" | "timeout" | "abort") => {
        clearTimeout(timer);
        signal.removeEventListener("abort", onAbort);
        if (this.#wake === onEvent) this.#wake = undefined;
        resolve(r);
      };
      const onEvent = () => done("event");
      const onAbort = () => done("abort");
      this.#wake = onEvent;
      signal.addEventListener("abort", onAbort, { once: true });
      if (ms > 0) timer = setTimeout(() => done("timeout"), ms);
    });
  }

  /** The next frame, or undefined when the socket closed. */
  async next(ms: number, signal: AbortSignal, what: () => GatewayError): Promise<
    string | ArrayBuffer | undefined
  > {
    while (this.#queue.length === 0) {
      if (this.closed || this.error) return undefined;
      const r = await this.wait(ms, signal);
      if (r === "abort") throw abortReason(signal);
      if (r === "timeout") throw what();
    }
    return this.#queue.shift();
  }
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new DOMException("aborted", "AbortError");
}

/** The error for a socket that failed to open (Deno names the handshake's HTTP status). */
function openError(message: string | undefined): GatewayError {
  const status = Number(/status code:?\s*(\d{3})/i.exec(message ?? "")?.[1] ?? 0);
  const text = `bing ChatHub refused the connection${status ? ` (${status})` : ""}: ${
    message ?? "closed"
  }`;
  if (status === 401) return new GatewayError(401, text, "authentication_error");
  if (status === 403) return new GatewayError(403, text, "permission_error");
  if (status === 429) return new GatewayError(429, text, "rate_limit_error", "rate_limit_exceeded");
  return upstreamFailed("bing", text.replace(/^bing /, ""));
}

/** Closes the socket politely (SignalR close record, then the websocket close handshake). */
function shut(ws: WebSocket, frames: Frames, background: Background): void {
  if (ws.readyState === WebSocket.CLOSED) return;
  const done = new Promise<void>((resolve) => {
    if (frames.closed) return resolve();
    const timer = setTimeout(resolve, 2000);
    ws.addEventListener("close", () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
  try {
    if (ws.readyState === WebSocket.OPEN) ws.send(formatRecord({ type: MessageType.Close }));
    ws.close(1000);
  } catch {
    // Already closing.
  }
  background.track(done);
}

/**
 * Opens the hub, sends `hub` as the `chat` invocation and yields the hub's messages (pings
 * excluded). The caller stops iterating when the answer is complete; the socket is then closed.
 * A socket closing before that ends the iteration with a 502.
 */
export async function* invokeChat(
  conn: HubConnection,
  hub: Record<string, unknown>,
): AsyncGenerator<SignalRMessage> {
  const { signal, timeouts } = conn;
  if (signal.aborted) throw abortReason(signal);
  const ws = new WebSocket(conn.url, { headers: conn.headers, client: conn.client });
  const frames = new Frames(ws);
  let ping: ReturnType<typeof setInterval> | undefined;
  try {
    while (ws.readyState === WebSocket.CONNECTING) {
      const r = await frames.wait(timeouts.connect * 1000, signal);
      if (r === "abort") throw abortReason(signal);
      if (r === "timeout") {
        throw upstreamTimeout("bing", `ChatHub did not open within ${timeouts.connect}s`);
      }
    }
    if (ws.readyState !== WebSocket.OPEN) throw openError(frames.error);

    const reader = new SignalRReader();
    const pending: SignalRMessage[] = [];
    const read = async (ms: number, what: string): Promise<SignalRMessage | undefined> => {
      while (pending.length === 0) {
        const frame = await frames.next(
          ms,
          signal,
          () => upstreamTimeout("bing", `ChatHub sent nothing for ${ms / 1000}s (${what})`),
        );
        if (frame === undefined) return undefined;
        try {
          pending.push(...reader.push(frame));
        } catch (err) {
          if (err instanceof SignalRParseError) throw upstreamFailed("bing", err.message, err);
          throw err;
        }
      }
      return pending.shift();
    };

    ws.send(formatRecord(HANDSHAKE_REQUEST));
    const handshake = await read(timeouts.firstByte * 1000, "handshake");
    if (!handshake) throw closedError(frames);
    if (typeof handshake.error === "string" && handshake.error) {
      throw upstreamFailed("bing", `ChatHub handshake failed: ${handshake.error}`);
    }
    ws.send(formatRecord({ type: MessageType.Ping }));
    ws.send(formatRecord({ arguments: [hub], invocationId: "0", target: "chat", type: 4 }));
    ping = setInterval(() => {
      if (ws.readyState === WebSocket.OPEN) ws.send(formatRecord({ type: MessageType.Ping }));
    }, PING_MS);

    let first = true;
    while (true) {
      const ms = (first ? timeouts.firstByte : timeouts.idle) * 1000;
      const msg = await read(ms, first ? "waiting for the answer" : "mid-answer");
      if (!msg) throw closedError(frames);
      first = false;
      if (msg.type === MessageType.Ping) continue;
      yield msg;
    }
  } finally {
    clearInterval(ping);
    shut(ws, frames, conn.background);
  }
}

function closedError(frames: Frames): GatewayError {
  const c = frames.closed;
  const how = c ? `code ${c.code}${c.reason ? `, ${c.reason}` : ""}` : frames.error ?? "closed";
  return upstreamFailed("bing", `the ChatHub connection closed before the answer ended (${how})`);
}
