/**
 * Gradio 3's queue over a websocket (`<root>/queue/join`): the server asks `send_hash` and
 * `send_data`, the client answers with its session hash and then the data; the same status and
 * process messages as the HTTP queue follow, each of them whole. Gradio's current clients no
 * longer speak it; a few old spaces still do.
 *
 * @module
 */
import type { Config } from "../config/schema.ts";
import { upstreamFailed, upstreamTimeout } from "../openai/errors.ts";
import { abortReason } from "../util/signal.ts";
import { type QueueCall, requestHeaders } from "./gradio_queue.ts";
import {
  type GradioMessage,
  type GradioUpdate,
  lastOutput,
  parseMessage,
  trackOutputs,
} from "./gradio_stream.ts";
import { type HttpClients, proxyFor } from "./proxy.ts";

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
