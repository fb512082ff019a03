/**
 * A small Chrome DevTools Protocol client over Deno's own WebSocket: commands with replies, events,
 * and flattened target sessions (`sessionId` on each message). Only what the browser module uses;
 * no dependency, so nothing of Node's child_process/ws emulation sits between Deno and Chromium.
 *
 * @module
 */

/** A CDP error reply, or the connection closing under a pending command. */
export class CdpError extends Error {
  override name = "CdpError";
  constructor(message: string, readonly code?: number) {
    super(message);
  }
}

type Listener = (params: Record<string, unknown>, sessionId?: string) => void;

interface Pending {
  method: string;
  resolve: (v: Record<string, unknown>) => void;
  reject: (e: Error) => void;
}

/** One WebSocket connection to a browser's DevTools endpoint. */
export class CdpConnection {
  #ws: WebSocket;
  #next = 1;
  #pending = new Map<number, Pending>();
  #listeners = new Map<string, Set<Listener>>();
  #closed = false;
  #closedPromise: Promise<void>;

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    let onClosed!: () => void;
    this.#closedPromise = new Promise((r) => onClosed = r);
    ws.onmessage = (e) => this.#onMessage(e.data);
    ws.onclose = () => {
      this.#closed = true;
      for (const p of this.#pending.values()) {
        p.reject(new CdpError(`browser connection closed during ${p.method}`));
      }
      this.#pending.clear();
      onClosed();
    };
  }

  /** Connects to `wsUrl` (`ws://127.0.0.1:<port>/devtools/browser/<id>`). */
  static connect(wsUrl: string, timeoutMs = 10_000): Promise<CdpConnection> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(wsUrl);
      const timer = setTimeout(() => {
        ws.close();
        reject(new CdpError(`no DevTools connection within ${timeoutMs} ms`));
      }, timeoutMs);
      ws.onopen = () => {
        clearTimeout(timer);
        resolve(new CdpConnection(ws));
      };
      ws.onerror = (e) => {
        clearTimeout(timer);
        reject(new CdpError(`DevTools connection failed: ${(e as ErrorEvent).message ?? "error"}`));
      };
    });
  }

  /** True once the socket is closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Sends a command (to a target session when `sessionId` is given) and waits for its reply. */
  send<T = Record<string, unknown>>(
    method: string,
    params: Record<string, unknown> = {},
    sessionId?: string,
  ): Promise<T> {
    if (this.#closed) return Promise.reject(new CdpError(`browser connection closed (${method})`));
    const id = this.#next++;
    const message: Record<string, unknown> = { id, method, params };
    if (sessionId) message.sessionId = sessionId;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, {
        method,
        resolve: resolve as (v: Record<string, unknown>) => void,
        reject,
      });
      this.#ws.send(JSON.stringify(message));
    });
  }

  /** Calls `listener` for every `method` event; returns a function that stops it. */
  on(method: string, listener: Listener): () => void {
    let set = this.#listeners.get(method);
    if (!set) this.#listeners.set(method, set = new Set());
    set.add(listener);
    return () => set.delete(listener);
  }

  /** Closes the socket and waits until it is closed. */
  async close(): Promise<void> {
    if (!this.#closed) {
      try {
        this.#ws.close();
      } catch {
        // Already closing.
      }
    }
    await this.#closedPromise;
  }

  #onMessage(data: unknown): void {
    if (typeof data !== "string") return;
    let msg: {
      id?: number;
      method?: string;
      params?: Record<string, unknown>;
      result?: Record<string, unknown>;
      error?: { code: number; message: string; data?: string };
      sessionId?: string;
    };
    try {
      msg = JSON.parse(data);
    } catch {
      return;
    }
    if (typeof msg.id === "number") {
      const p = this.#pending.get(msg.id);
      if (!p) return;
      this.#pending.delete(msg.id);
      if (msg.error) {
        const extra = msg.error.data ? ` (${msg.error.data})` : "";
        p.reject(new CdpError(`${p.method}: ${msg.error.message}${extra}`, msg.error.code));
      } else {
        p.resolve(msg.result ?? {});
      }
      return;
    }
    if (msg.method) {
      for (const l of this.#listeners.get(msg.method) ?? []) {
        try {
          l(msg.params ?? {}, msg.sessionId);
        } catch {
          // A listener's failure is its own business.
        }
      }
    }
  }
}
