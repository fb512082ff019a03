/**
 * open-interpreter 0.4's websocket at `/` (oi-main `async_core.py` `websocket_endpoint`,
 * `docs/server/usage.mdx`):
 *
 * 1. The first text frame is `{"auth": "<key>"}`; the server answers `{"auth": true}`, or
 *    `{"auth": false}` to that and every later frame until one authenticates (with
 *    `INTERPRETER_REQUIRE_AUTH=False` it answers nothing and takes the frames as input). The
 *    message frames are sent right behind the auth frame: the server reads them in order.
 * 2. The user message: LMC chunks between `{"role":"user","start":true}` and
 *    `{"role":"user","end":true}` (`request.ts`).
 * 3. The answer: LMC chunks, then `{"role":"server","type":"status","content":"complete"}`;
 *    `{"role":"server","type":"error","content":<traceback>}` reports a failure. With
 *    `INTERPRETER_REQUIRE_ACKNOWLEDGE` each chunk has an `id` the client acknowledges with
 *    `{"ack": id}`; acknowledging when it is off does no harm (such a frame is no input).
 *
 * A socket that closes before `complete` is an error. When the client leaves, the run is stopped
 * (`stop` command) and its remaining output read and dropped before the socket closes, so that
 * it cannot reach the next request (the interpreter has one output queue for every connection).
 *
 * @module
 */
import { GatewayError, upstreamFailed, upstreamTimeout } from "../../openai/errors.ts";
import { isObject } from "../../util/json.ts";
import { abortReason } from "../../util/signal.ts";
import { STOP_COMMAND } from "./request.ts";
import type { LmcChunk } from "./stream.ts";

/** A frame of the socket, an error, or its close (null). */
type Item = Record<string, unknown> | Error | null;

/** One websocket to the interpreter, read as a queue of parsed frames. */
export class InterpreterSocket {
  readonly ws: WebSocket;
  #queue: Item[] = [];
  #wake?: () => void;
  #opened = false;
  readonly closed: Promise<void>;

  constructor(url: string, headers: Record<string, string>, client?: Deno.HttpClient) {
    this.ws = new WebSocket(url, { headers, client } as WebSocketOptions);
    const host = new URL(url).host;
    this.ws.onopen = () => this.#opened = true;
    this.ws.onmessage = (e) => {
      if (typeof e.data !== "string") return; // Binary outputs (audio, images) stay out.
      try {
        const v = JSON.parse(e.data);
        this.#push(
          isObject(v) ? v : upstreamFailed(
            "interpreter",
            `a websocket frame that is not an object: ${e.data.slice(0, 200)}`,
          ),
        );
      } catch {
        this.#push(
          upstreamFailed(
            "interpreter",
            `a websocket frame that is not JSON: ${e.data.slice(0, 200)}`,
          ),
        );
      }
    };
    this.ws.onerror = (e) => {
      const why = (e as ErrorEvent).message || "websocket error";
      this.#push(upstreamFailed(
        "interpreter",
        this.#opened ? `the websocket failed: ${why}` : `cannot open ${host}: ${why}`,
      ));
    };
    let onClosed!: () => void;
    this.closed = new Promise<void>((r) => onClosed = r);
    this.ws.onclose = () => {
      this.#push(null);
      onClosed();
    };
  }

  #push(item: Item): void {
    this.#queue.push(item);
    this.#wake?.();
  }

  /** Sends frames once the socket is open (nothing when it closes or `signal` aborts first). */
  async send(frames: readonly unknown[], signal?: AbortSignal): Promise<void> {
    if (this.ws.readyState === WebSocket.CONNECTING) {
      await new Promise<void>((resolve) => {
        const done = () => {
          this.ws.removeEventListener("open", done);
          this.ws.removeEventListener("close", done);
          signal?.removeEventListener("abort", done);
          resolve();
        };
        this.ws.addEventListener("open", done);
        this.ws.addEventListener("close", done);
        signal?.addEventListener("abort", done);
      });
    }
    if (this.ws.readyState !== WebSocket.OPEN) return;
    for (const f of frames) this.ws.send(JSON.stringify(f));
  }

  /**
   * The next item: a frame, an error, null once closed, or undefined after `ms` of silence or
   * when `signal` aborts.
   */
  async next(ms: number, signal?: AbortSignal): Promise<Item | undefined> {
    if (this.#queue.length > 0) return this.#queue.shift();
    if (signal?.aborted) return undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const onAbort = () => this.#wake?.();
    signal?.addEventListener("abort", onAbort, { once: true });
    await new Promise<void>((resolve) => {
      this.#wake = resolve;
      if (ms > 0) timer = setTimeout(resolve, ms);
    });
    clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
    this.#wake = undefined;
    return this.#queue.shift();
  }

  /** Closes the socket and waits (briefly) until it is closed. */
  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    if (this.ws.readyState !== WebSocket.CLOSING) this.ws.close();
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([this.closed, new Promise<void>((r) => timer = setTimeout(r, 2000))]);
    clearTimeout(timer);
  }
}

/** True for the terminal frame of a run. */
function isComplete(f: Record<string, unknown>): boolean {
  return f.role === "server" && f.type === "status" && f.content === "complete";
}

/** Options of one run over the socket. */
export interface SocketRun {
  socket: InterpreterSocket;
  key: string;
  frames: readonly Record<string, unknown>[];
  signal: AbortSignal;
  /** Milliseconds of silence before the run fails with 504 (0 = no limit). */
  idleMs: number;
}

/**
 * Authenticates, sends the user message and yields the answer's chunks until `complete`. Throws
 * for a refused key (403), an error frame (502), a socket that closes early (502) and silence
 * (504). Leaves the socket open when the run did not complete (see `drainAndClose`).
 */
export async function* runOverSocket(run: SocketRun): AsyncGenerator<LmcChunk, boolean> {
  const { socket } = run;
  await socket.send([{ auth: run.key }, ...run.frames], run.signal);
  while (true) {
    const item = await socket.next(run.idleMs, run.signal);
    if (run.signal.aborted) throw abortReason(run.signal);
    if (item === undefined) {
      throw upstreamTimeout(
        "interpreter",
        `no message from the interpreter for ${run.idleMs / 1000}s`,
      );
    }
    if (item === null) {
      throw upstreamFailed("interpreter", "the websocket closed before the run completed");
    }
    if (item instanceof Error) throw item;
    if (typeof item.id === "string" || typeof item.id === "number") {
      await socket.send([{ ack: item.id }]);
    }
    if ("auth" in item && Object.keys(item).length === 1) {
      if (item.auth === true) continue;
      // Nothing runs: the socket can go at once.
      await socket.close();
      throw new GatewayError(
        403,
        "interpreter upstream refused the key: set interpreter.api-key to the server's " +
          "INTERPRETER_API_KEY",
        "permission_error",
        "interpreter_auth_failed",
      );
    }
    if (isComplete(item)) return true;
    if (item.role === "server" && item.type === "error") {
      const text = String(item.content ?? "").trim();
      const tail = text.length > 600 ? `…${text.slice(-600)}` : text;
      throw upstreamFailed("interpreter", `the interpreter reported an error: ${tail}`);
    }
    yield item as LmcChunk;
  }
}

/**
 * After a run that did not complete: stops it (`stop` command), drops what it still sends until
 * `complete`, an error, a quiet `quietMs` or `maxMs` in all, then closes the socket.
 */
export async function drainAndClose(
  socket: InterpreterSocket,
  quietMs: number,
  maxMs: number,
): Promise<void> {
  try {
    await socket.send(STOP_COMMAND);
    const deadline = Date.now() + maxMs;
    while (Date.now() < deadline) {
      const item = await socket.next(Math.min(quietMs, deadline - Date.now()));
      if (item === undefined || item === null || item instanceof Error) break;
      if (typeof item.id === "string" || typeof item.id === "number") {
        await socket.send([{ ack: item.id }]);
      }
      if (isComplete(item)) break;
    }
  } finally {
    await socket.close();
  }
}
