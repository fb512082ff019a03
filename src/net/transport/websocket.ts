/**
 * The `chrome` transport's WebSocket: the upgrade leaves with Chrome's WebSocket handshake (see
 * `chromeWebSocketEmulation`), through the same loopback relay as the transport's requests, so
 * that closing the socket really closes its connection, and with `server.ca-file` trusted.
 *
 * @module
 */
import { abortReason } from "../../util/signal.ts";
import { loadWreq, transportUnavailable } from "./native.ts";
import { chromeWebSocketEmulation } from "./profile.ts";
import { openRelay, type Relay } from "./relay.ts";

/** What the gateway uses of the library's WebSocket. */
export interface ChromeSocket {
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

/**
 * The socket's events. They are handed to the library with the upgrade (its per-socket callbacks,
 * called as each native event arrives): handlers set on the returned object afterwards could miss
 * the messages the library dispatches a few microtasks after the upgrade.
 */
export interface ChromeSocketHandlers {
  /** A message: a string (text frame) or bytes (binary frame). */
  onMessage(data: string | Uint8Array): void;
  onClose(event: { code: number; reason: string }): void;
  onError(message: string): void;
}

/** Options of `chromeWebSocket`. */
export interface ChromeSocketOptions {
  /** Headers of the upgrade beyond Chrome's own (`origin`, `cookie`, ...). */
  headers: Record<string, string>;
  /** `Accept-Language` of the upgrade. */
  acceptLanguage: string;
  /** Aborts the upgrade (and closes the socket later). */
  signal: AbortSignal;
  proxy?: string;
  caFile?: string;
  handlers: ChromeSocketHandlers;
}

/** An open socket and the function that closes it and everything it opened. */
export interface OpenChromeSocket {
  socket: ChromeSocket;
  release(): void;
}

/**
 * Opens `url` (`wss://`) with Chrome's WebSocket handshake. Rejects with the library's error when
 * the upgrade fails (its message names the HTTP status, e.g. `unexpected status code: 403`), with
 * the abort reason when `signal` aborts first, or with a 502 when the native part is unavailable.
 */
export async function chromeWebSocket(
  url: URL,
  options: ChromeSocketOptions,
): Promise<OpenChromeSocket> {
  const { signal } = options;
  if (signal.aborted) throw abortReason(signal);
  const wreq = await loadWreq();
  let relay: Relay | undefined;
  let session: Awaited<ReturnType<typeof wreq.createSession>> | undefined;
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    signal.removeEventListener("abort", release);
    relay?.close();
    session?.close().catch(() => {});
  };
  signal.addEventListener("abort", release, { once: true });
  try {
    relay = openRelay(options.proxy);
    const before = Deno.env.get("SSL_CERT_FILE");
    let creating: ReturnType<typeof wreq.createSession>;
    if (options.caFile) Deno.env.set("SSL_CERT_FILE", options.caFile);
    try {
      // The native transport is built (and reads the variable) before the first `await` inside.
      creating = wreq.createSession({
        proxy: relay?.proxyUrl ?? options.proxy,
        emulation: chromeWebSocketEmulation(options.acceptLanguage),
      });
    } finally {
      if (options.caFile) {
        if (before === undefined) Deno.env.delete("SSL_CERT_FILE");
        else Deno.env.set("SSL_CERT_FILE", before);
      }
    }
    try {
      session = await creating;
    } catch (err) {
      throw transportUnavailable(`the library refused its settings: ${(err as Error).message}`);
    }
    if (signal.aborted) throw abortReason(signal);
    const { handlers } = options;
    // The object form is the one whose type names the per-socket callbacks.
    const socket: ChromeSocket = await session.websocket({
      url: url.href,
      headers: options.headers,
      onMessage: (data) => handlers.onMessage(data),
      onClose: (e) => handlers.onClose({ code: e.code, reason: e.reason }),
      onError: (message) => handlers.onError(String(message)),
    });
    return {
      socket,
      release() {
        try {
          socket.close();
        } catch {
          // Already closed.
        }
        release();
      },
    };
  } catch (err) {
    release();
    if (signal.aborted) throw abortReason(signal);
    throw err;
  }
}
