/**
 * The `open-interpreter-ws` connection: an open-interpreter process connects to this server as a
 * socket.io client at `/socket.io/open-i/` (the original's path). One interpreter at a time, one
 * request at a time. A request sends `settings` (history and system) and `reply` (the user's
 * text); the interpreter answers with `message` events carrying the same JSON strings as its
 * HTTP stream, then `[DONE]`; each is acknowledged with a `message` event `"ok"`. `ping` gets
 * `pong`; a request that ends early sends `cancel`.
 *
 * @module
 */
import type { Config } from "../../config/schema.ts";
import { GatewayError, upstreamTimeout } from "../../openai/errors.ts";
import type { Logger } from "../../util/log.ts";
import { pause } from "../../util/signal.ts";
import type { InterpreterInput } from "./messages.ts";
import { type Socket, SocketIoServer } from "./socketio.ts";

/** The path the interpreter connects on (with or without the trailing slash). */
export const INTERPRETER_PATH = /^\/socket\.io\/open-i\/?$/;

/** How long a request waits for another one to finish with the interpreter. */
const LOCK_WAIT_MS = 30_000;

/**
 * After a `cancel`, the silence that ends the cancelled run when the interpreter sends no
 * `[DONE]`. Until then its late messages are dropped: the protocol has no request id, so they
 * would otherwise be taken as the next request's answer.
 */
const DRAIN_QUIET_MS = 1_000;

/** The connected interpreter and the request it serves. */
export class InterpreterBridge {
  readonly io: SocketIoServer;
  #socket?: Socket;
  #listener?: (message: string | Error) => void;
  #busy = false;
  #waiters: (() => void)[] = [];
  log?: Logger;

  constructor(options?: ConstructorParameters<typeof SocketIoServer>[0]) {
    this.io = new SocketIoServer(options);
    this.io.onConnection((s) => this.#accept(s));
  }

  /** True while an interpreter is connected. */
  get connected(): boolean {
    return !!this.#socket?.connected;
  }

  #accept(s: Socket): void {
    if (this.connected) {
      // The original took a single interpreter; a second one is turned away.
      this.log?.warn("interpreter: a second interpreter tried to connect; refused");
      s.disconnect();
      return;
    }
    this.#socket = s;
    this.log?.info(`interpreter: connected over socket.io (${s.id})`);
    s.on("ping", () => s.emit("pong", "ok"));
    s.on("message", (args, ack) => {
      const m = args[0];
      ack?.("ok");
      s.emit("message", "ok");
      this.#listener?.(typeof m === "string" ? m : JSON.stringify(m));
    });
    s.onClose((reason) => {
      if (this.#socket !== s) return;
      this.#socket = undefined;
      this.log?.info(`interpreter: disconnected (${reason})`);
      this.#listener?.(
        new GatewayError(
          502,
          "interpreter upstream failed: the interpreter disconnected",
          "upstream_error",
        ),
      );
    });
  }

  async #lock(signal: AbortSignal): Promise<void> {
    const deadline = Date.now() + LOCK_WAIT_MS;
    while (this.#busy) {
      if (Date.now() >= deadline || signal.aborted) {
        throw new GatewayError(
          429,
          "the connected interpreter is busy with another request; try again shortly",
          "rate_limit_error",
          "interpreter_busy",
          null,
          { retryAfter: 5 },
        );
      }
      // A waiter leaves the queue however it wakes (its turn, its deadline, its client gone), so
      // `#unlock` never hands the turn to one that is no longer waiting.
      await pause(Math.max(1, deadline - Date.now()), signal, this.#waiters);
    }
    this.#busy = true;
  }

  #unlock(): void {
    this.#busy = false;
    this.#waiters[0]?.();
  }

  /**
   * Sends one request to the interpreter and yields its messages (raw strings) until `[DONE]`.
   * A silence of `timeoutSec` sends `cancel` and fails with 504.
   */
  async *run(
    input: InterpreterInput,
    signal: AbortSignal,
    timeoutSec: number,
  ): AsyncGenerator<string> {
    if (!this.connected) {
      throw new GatewayError(
        503,
        "no open-interpreter is connected over socket.io (it connects to /socket.io/open-i/ when interpreter.ws is on)",
        "upstream_error",
        "interpreter_not_connected",
      );
    }
    await this.#lock(signal);
    const socket = this.#socket!;
    const queue: (string | Error)[] = [];
    let wake: (() => void) | undefined;
    this.#listener = (m) => {
      queue.push(m);
      wake?.();
    };
    const onAbort = () => wake?.();
    signal.addEventListener("abort", onAbort);
    let done = false;
    try {
      socket.emit("settings", input.settings);
      socket.emit("reply", input.message);
      while (true) {
        if (queue.length === 0) {
          let timer: ReturnType<typeof setTimeout> | undefined;
          let timedOut = false;
          await new Promise<void>((resolve) => {
            wake = resolve;
            if (timeoutSec > 0) {
              timer = setTimeout(() => {
                timedOut = true;
                resolve();
              }, timeoutSec * 1000);
            }
          });
          clearTimeout(timer);
          wake = undefined;
          if (signal.aborted) return;
          if (timedOut && queue.length === 0) {
            throw upstreamTimeout(
              "interpreter",
              `no message from the interpreter for ${timeoutSec}s`,
            );
          }
          continue;
        }
        const m = queue.shift()!;
        if (m instanceof Error) {
          done = true;
          throw m;
        }
        if (m.trim() === "[DONE]") {
          done = true;
          return;
        }
        yield m;
      }
    } finally {
      signal.removeEventListener("abort", onAbort);
      this.#listener = undefined;
      if (!done && socket.connected) {
        // A request that ends before the interpreter finished tells it to stop, and keeps the
        // interpreter until that run is over.
        socket.emit("cancel");
        this.#drain();
      } else this.#unlock();
    }
  }

  /** Drops the cancelled run's remaining messages, then frees the interpreter. */
  #drain(): void {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const finish = () => {
      clearTimeout(timer);
      if (this.#listener === listen) this.#listener = undefined;
      this.#unlock();
    };
    const quiet = () => {
      clearTimeout(timer);
      timer = setTimeout(finish, DRAIN_QUIET_MS);
    };
    const listen = (m: string | Error) => {
      if (m instanceof Error || m.trim() === "[DONE]") finish();
      else quiet();
    };
    this.#listener = listen;
    quiet();
  }
}

/** The `/socket.io/*` route: the interpreter's socket.io connection, when `interpreter.ws` is on. */
export function handleSocketIo(
  req: Request,
  config: Config,
  bridge: InterpreterBridge,
  log: Logger,
): Promise<Response> | Response {
  const path = new URL(req.url).pathname;
  if (!config.interpreter.ws || !INTERPRETER_PATH.test(path)) {
    return new Response(
      JSON.stringify({
        error: {
          message: `Unknown route: ${req.method} ${path}${
            config.interpreter.ws ? "" : " (interpreter.ws is off)"
          }`,
          type: "invalid_request_error",
          param: null,
          code: "unknown_url",
        },
      }),
      { status: 404, headers: { "content-type": "application/json" } },
    );
  }
  bridge.log ??= log;
  return bridge.io.handle(req);
}
