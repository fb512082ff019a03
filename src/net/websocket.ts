/**
 * Upstream websockets with the same rules as upstream HTTP calls (`http.ts`): the provider's
 * transport (Chrome's WebSocket handshake for `chrome`, Deno's `WebSocket` for `fetch` and plain
 * `ws://`), its proxy, `server.ca-file`, the connect and idle timeouts, the request's abort signal.
 *
 * A socket is read one message at a time (`next`), each read bounded by a timeout; a refused
 * upgrade is a `GatewayError` with the upgrade's HTTP status when the stack tells it.
 *
 * @module
 */
import type { Config, Timeouts } from "../config/schema.ts";
import { GatewayError, upstreamFailed, upstreamTimeout } from "../openai/errors.ts";
import { redact } from "../util/mask.ts";
import { abortReason, linkedController } from "../util/signal.ts";
import { mapStatus } from "./status.ts";
import { type HttpClients, proxyFor } from "./proxy.ts";
import { chromeWebSocket, type TransportKind, transportOf } from "./transport/mod.ts";

/** What opening a socket needs (the same as an `Upstream`'s options). */
export interface SocketContext {
  provider: string;
  config: Config;
  signal: AbortSignal;
  proxy?: string | false;
  clients: HttpClients;
  transport?: TransportKind;
}

/** Options of one socket. */
export interface SocketInit {
  /** Upgrade headers (`origin`, `cookie`, `user-agent`, ...). */
  headers: Record<string, string>;
  /** Timeouts in seconds for this socket; missing ones come from `server.timeouts`. */
  timeouts?: Partial<Timeouts>;
  /** `Accept-Language` of the chrome transport's upgrade (default `browser.lang`). */
  acceptLanguage?: string;
}

/** How a socket ended. */
export interface SocketEnd {
  code: number;
  reason: string;
  /** The transport's error text, when it failed rather than closed. */
  error?: string;
}

/** The minimal socket both stacks offer. */
interface RawSocket {
  send(data: string): void;
  close(): void;
}

/** An open upstream websocket. */
export class UpstreamSocket {
  #queue: string[] = [];
  #wake?: () => void;
  #end?: SocketEnd;
  #closed = false;
  #decoder = new TextDecoder();

  constructor(
    readonly provider: string,
    readonly host: string,
    private readonly raw: RawSocket,
    private readonly release: () => void,
    private readonly signal: AbortSignal,
    private readonly idleSeconds: number,
  ) {
    signal.addEventListener("abort", () => this.close(), { once: true });
  }

  /** Called by the stack for each message. */
  message(data: unknown): void {
    if (typeof data === "string") this.#queue.push(data);
    else if (data instanceof ArrayBuffer) this.#queue.push(this.#decoder.decode(data));
    else if (ArrayBuffer.isView(data)) {
      this.#queue.push(
        this.#decoder.decode(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)),
      );
    }
    this.#notify();
  }

  /** Called by the stack when the socket ends. */
  ended(end: SocketEnd): void {
    this.#end ??= end;
    this.#notify();
    this.release();
  }

  /** How the socket ended, once it has. */
  get end(): SocketEnd | undefined {
    return this.#end;
  }

  /** Sends a text message; a closed socket is a 502. */
  send(text: string): void {
    if (this.#end || this.#closed) {
      throw upstreamFailed(this.provider, `the websocket to ${this.host} closed: ${this.#how()}`);
    }
    this.raw.send(text);
  }

  /**
   * The next message; undefined once the socket has ended (see `end`). Waits at most `seconds`
   * (default the idle timeout; 0 waits for ever): then a 504 naming `what`.
   */
  async next(seconds = this.idleSeconds, what = "the next message"): Promise<string | undefined> {
    while (this.#queue.length === 0) {
      if (this.signal.aborted) throw abortReason(this.signal);
      if (this.#end) return undefined;
      const woke = await new Promise<"event" | "timeout">((resolve) => {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const done = (r: "event" | "timeout") => {
          clearTimeout(timer);
          this.signal.removeEventListener("abort", onEvent);
          if (this.#wake === onEvent) this.#wake = undefined;
          resolve(r);
        };
        const onEvent = () => done("event");
        this.#wake = onEvent;
        this.signal.addEventListener("abort", onEvent, { once: true });
        if (seconds > 0) timer = setTimeout(() => done("timeout"), seconds * 1000);
      });
      if (woke === "timeout") {
        this.close();
        throw upstreamTimeout(this.provider, `${this.host} sent nothing for ${seconds}s (${what})`);
      }
    }
    return this.#queue.shift();
  }

  /** Closes the socket and its connection. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.raw.close();
    } catch {
      // Already closing.
    }
    this.release();
    this.#end ??= { code: 1000, reason: "closed by the gateway" };
    this.#notify();
  }

  #how(): string {
    const e = this.#end;
    if (!e) return "closed";
    return e.error ?? `code ${e.code}${e.reason ? `, ${e.reason}` : ""}`;
  }

  #notify(): void {
    const w = this.#wake;
    this.#wake = undefined;
    w?.();
  }
}

/**
 * The headers of a chrome upgrade without `user-agent` and `accept-language`: the emulation sends
 * Chrome's own (the transport's user agent, which a clearance was earned with), in Chrome's place.
 */
function withoutIdentity(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers).filter(([k]) => !/^(user-agent|accept-language)$/i.test(k)),
  );
}

/** The HTTP status a refused upgrade's error text names (both stacks say it), or 0. */
export function upgradeStatus(message: string): number {
  const m = /status(?: code)?:?\s*(\d{3})\b/i.exec(message) ?? /\b([45]\d\d)\b/.exec(message);
  return m ? Number(m[1]) : 0;
}

/** The error of a refused upgrade, with the upgrade's status when known. */
function refused(provider: string, host: string, message: string): GatewayError {
  const status = upgradeStatus(message);
  const text = `${provider} upstream refused the websocket to ${host}${
    status ? ` (${status})` : ""
  }: ${redact(message)}`;
  if (!status) return upstreamFailed(provider, `cannot open the websocket to ${host}: ${message}`);
  const err = new GatewayError(
    mapStatus(status),
    text,
    undefined,
    status === 429 ? "rate_limit_exceeded" : null,
  );
  err.upstreamStatus = status;
  return err;
}

/**
 * Opens a websocket to `url` (`wss://` or `ws://`) for `ctx.provider`. Resolves once it is open;
 * a refused upgrade, a network failure (502) or the connect timeout (504) rejects.
 */
export async function openSocket(
  url: URL,
  init: SocketInit,
  ctx: SocketContext,
): Promise<UpstreamSocket> {
  const { config, provider } = ctx;
  const t = { ...config.server.timeouts, ...init.timeouts };
  const proxy = proxyFor(new URL(url.href.replace(/^ws/i, "http")), config, ctx.proxy);
  const caFile = config.server["ca-file"];
  const chrome = (ctx.transport ?? transportOf(config, provider)) === "chrome" &&
    url.protocol === "wss:";
  const connect = new AbortController();
  const signal = linkedController([ctx.signal, connect.signal]).signal;
  const timer = t.connect > 0
    ? setTimeout(() => connect.abort(new DOMException("connect", "TimeoutError")), t.connect * 1000)
    : undefined;
  const fail = (err: unknown): never => {
    if (err instanceof GatewayError) throw err;
    if (connect.signal.aborted) {
      throw upstreamTimeout(
        provider,
        `the websocket to ${url.host} did not open within ${t.connect}s`,
      );
    }
    if (ctx.signal.aborted) throw abortReason(ctx.signal);
    const via = proxy ? ` via proxy ${redact(proxy)}` : "";
    throw refused(provider, url.host + via, (err as Error)?.message ?? String(err));
  };
  try {
    if (caFile) {
      try {
        Deno.statSync(caFile);
      } catch (err) {
        throw new GatewayError(
          500,
          `server.ca-file '${caFile}' cannot be used: ${(err as Error).message}`,
          "server_error",
          "ca_file_unreadable",
        );
      }
    }
    if (chrome) {
      // Events may arrive before the socket object exists: they wait here until it does.
      const early: ((s: UpstreamSocket) => void)[] = [];
      const box: { socket?: UpstreamSocket } = {};
      const on = (f: (s: UpstreamSocket) => void) => box.socket ? f(box.socket) : early.push(f);
      let opened;
      try {
        opened = await chromeWebSocket(url, {
          headers: withoutIdentity(init.headers),
          acceptLanguage: init.acceptLanguage ?? config.browser.lang,
          signal,
          proxy,
          caFile,
          handlers: {
            onMessage: (data) => on((s) => s.message(data)),
            onClose: (e) => on((s) => s.ended({ code: e.code, reason: e.reason })),
            onError: (message) => on((s) => s.ended({ code: 1006, reason: "", error: message })),
          },
        });
      } catch (err) {
        return fail(err);
      }
      const socket = box.socket = new UpstreamSocket(
        provider,
        url.host,
        opened.socket,
        opened.release,
        ctx.signal,
        t.idle,
      );
      for (const f of early) f(socket);
      return socket;
    }
    return await denoSocket(url, init, ctx, { signal, proxy, caFile, idle: t.idle, fail });
  } finally {
    clearTimeout(timer);
  }
}

/** Deno's own `WebSocket` (the `fetch` transport, and plain `ws://`). */
function denoSocket(
  url: URL,
  init: SocketInit,
  ctx: SocketContext,
  o: {
    signal: AbortSignal;
    proxy: string | undefined;
    caFile: string | undefined;
    idle: number;
    fail: (err: unknown) => never;
  },
): Promise<UpstreamSocket> {
  if (o.signal.aborted) return Promise.reject(abortReason(o.signal));
  const client = ctx.clients.get(o.proxy, o.caFile);
  const ws = new WebSocket(url, { headers: init.headers, client });
  ws.binaryType = "arraybuffer";
  const socket = new UpstreamSocket(ctx.provider, url.host, ws, () => {}, ctx.signal, o.idle);
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      try {
        ws.close();
      } catch {
        // Not open yet.
      }
      try {
        o.fail(new Error("aborted"));
      } catch (err) {
        reject(err);
      }
    };
    o.signal.addEventListener("abort", onAbort, { once: true });
    ws.onopen = () => {
      o.signal.removeEventListener("abort", onAbort);
      ws.onmessage = (e) => socket.message(e.data);
      ws.onclose = (e) => socket.ended({ code: e.code, reason: e.reason });
      ws.onerror = (e) =>
        socket.ended({ code: 1006, reason: "", error: (e as ErrorEvent).message || "error" });
      resolve(socket);
    };
    ws.onerror = (e) => {
      o.signal.removeEventListener("abort", onAbort);
      try {
        o.fail(new Error((e as ErrorEvent).message || "websocket error"));
      } catch (err) {
        reject(err);
      }
    };
  });
}
