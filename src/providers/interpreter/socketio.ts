/**
 * The subset of the socket.io server protocol the open-interpreter client uses, on
 * `Deno.serve`'s `Request`/`Response` (the `socket.io` npm server needs Node's http server, which
 * this gateway's routes do not run on):
 *
 * - engine.io v4 (`EIO=4`): HTTP long-polling (packets joined by `\x1e`), WebSocket, and the
 *   polling-to-WebSocket upgrade (`2probe`/`3probe`/`5`); server pings (`2`) every
 *   `pingInterval`, a missing pong (`3`) within `pingTimeout` closes the session.
 * - socket.io v5 on the main namespace `/`: CONNECT (`0`, answered with the socket id), EVENT
 *   (`2`, with an optional ack id), ACK (`3`), DISCONNECT (`1`). Text packets only; binary
 *   attachments and other namespaces are refused.
 *
 * @module
 */
import { randomAlnum } from "../../util/id.ts";

/** Engine.io packet types. */
const OPEN = "0", CLOSE = "1", PING = "2", PONG = "3", MESSAGE = "4", UPGRADE = "5", NOOP = "6";
const SEPARATOR = "\x1e";

/** Options of the server. */
export interface SocketIoOptions {
  pingInterval?: number;
  pingTimeout?: number;
  maxPayload?: number;
}

/** A handler of one event; `ack` is set when the client asked for an acknowledgement. */
export type EventHandler = (args: unknown[], ack?: (...args: unknown[]) => void) => void;

/** One connected socket.io client. */
export class Socket {
  readonly id = randomAlnum(20);
  #handlers = new Map<string, EventHandler[]>();
  #closeHandlers: ((reason: string) => void)[] = [];
  connected = true;

  constructor(readonly session: Session) {}

  /** The request path the client connected on. */
  get path(): string {
    return this.session.path;
  }

  /** Registers a handler for an event from the client. */
  on(event: string, handler: EventHandler): void {
    const list = this.#handlers.get(event) ?? [];
    list.push(handler);
    this.#handlers.set(event, list);
  }

  /** Registers a handler for the end of the connection. */
  onClose(handler: (reason: string) => void): void {
    this.#closeHandlers.push(handler);
  }

  /** Sends an event to the client. */
  emit(event: string, ...args: unknown[]): void {
    if (!this.connected) return;
    this.session.send(MESSAGE + "2" + JSON.stringify([event, ...args]));
  }

  /** Ends the connection. */
  disconnect(): void {
    if (!this.connected) return;
    this.session.send(MESSAGE + "1");
    this.closed("server disconnect");
    // The client closes its transport on this packet (a polling client still has a request to
    // make); the session is ended here only if it does not.
    this.session.closeSoon(5000);
  }

  /** @internal Delivers an event. */
  dispatch(event: string, args: unknown[], ackId?: number): void {
    const ack = ackId === undefined
      ? undefined
      : (...a: unknown[]) => this.session.send(MESSAGE + "3" + ackId + JSON.stringify(a));
    for (const h of this.#handlers.get(event) ?? []) h(args, ack);
  }

  /** @internal Marks the socket closed. */
  closed(reason: string): void {
    if (!this.connected) return;
    this.connected = false;
    for (const h of this.#closeHandlers) h(reason);
  }
}

/** A socket.io packet's parts. */
export interface SocketPacket {
  type: number;
  nsp: string;
  id?: number;
  data?: unknown;
}

/** Parses a socket.io text packet (`<type>[/nsp,][id][json]`). */
export function parseSocketPacket(s: string): SocketPacket {
  const type = Number(s[0]);
  if (!(type >= 0 && type <= 6)) throw new Error(`unknown socket.io packet type '${s[0]}'`);
  let i = 1;
  if (type === 5 || type === 6) {
    const dash = s.indexOf("-", i);
    if (dash < 0) throw new Error("malformed binary packet");
    i = dash + 1;
  }
  let nsp = "/";
  if (s[i] === "/") {
    const comma = s.indexOf(",", i);
    nsp = comma < 0 ? s.slice(i) : s.slice(i, comma);
    i = comma < 0 ? s.length : comma + 1;
  }
  const m = /^\d+/.exec(s.slice(i));
  let id: number | undefined;
  if (m) {
    id = Number(m[0]);
    i += m[0].length;
  }
  const data = i < s.length ? JSON.parse(s.slice(i)) : undefined;
  return { type, nsp, id, data };
}

/** One engine.io session (a polling client, a WebSocket, or one being upgraded). */
export class Session {
  readonly sid = randomAlnum(20);
  socket?: Socket;
  #queue: string[] = [];
  #poll?: (packets: string[]) => void;
  #ws?: WebSocket;
  #pingTimer?: ReturnType<typeof setInterval>;
  #pongTimer?: ReturnType<typeof setTimeout>;
  #closed = false;
  #upgrading = false;
  #closeTimer?: ReturnType<typeof setTimeout>;

  constructor(readonly server: SocketIoServer, readonly path: string) {}

  get isClosed(): boolean {
    return this.#closed;
  }

  /** The handshake packet's payload. */
  handshake(upgrades: string[]): string {
    const o = this.server.options;
    return JSON.stringify({
      sid: this.sid,
      upgrades,
      pingInterval: o.pingInterval,
      pingTimeout: o.pingTimeout,
      maxPayload: o.maxPayload,
    });
  }

  /** Starts the heartbeat. */
  start(): void {
    this.#pingTimer = setInterval(() => {
      this.send(PING);
      clearTimeout(this.#pongTimer);
      this.#pongTimer = setTimeout(
        () => this.close("ping timeout"),
        this.server.options.pingTimeout,
      );
    }, this.server.options.pingInterval);
  }

  /** Sends an engine.io packet over the current transport. */
  send(packet: string): void {
    if (this.#closed) return;
    if (this.#ws && this.#ws.readyState === WebSocket.OPEN) {
      this.#ws.send(packet);
      return;
    }
    this.#queue.push(packet);
    this.#flush();
  }

  #flush(): void {
    if (!this.#poll || this.#queue.length === 0) return;
    const resolve = this.#poll;
    this.#poll = undefined;
    const packets = this.#queue;
    this.#queue = [];
    resolve(packets);
  }

  /** Answers a long-polling GET once packets are there. */
  poll(signal: AbortSignal): Promise<string[]> {
    if (this.#poll) {
      // Two polls at once is a protocol error: engine.io closes the session.
      this.close("overlapping polls");
      return Promise.resolve([CLOSE]);
    }
    if (this.#closed) return Promise.resolve([CLOSE]);
    if (this.#upgrading) return Promise.resolve([NOOP]);
    return new Promise((resolve) => {
      this.#poll = resolve;
      signal.addEventListener("abort", () => {
        if (this.#poll === resolve) this.#poll = undefined;
        resolve([]);
      }, { once: true });
      this.#flush();
    });
  }

  #endPoll(packets: string[]): void {
    if (!this.#poll) return;
    const resolve = this.#poll;
    this.#poll = undefined;
    resolve(packets);
  }

  /** Handles the packets of a polling POST body. */
  receivePayload(payload: string): void {
    for (const p of payload.split(SEPARATOR)) if (p !== "") this.receive(p);
  }

  /** Handles one engine.io packet from the client. */
  receive(packet: string): void {
    switch (packet[0]) {
      case PONG:
        clearTimeout(this.#pongTimer);
        break;
      case PING:
        this.send(PONG + packet.slice(1));
        break;
      case CLOSE:
        this.close("client close");
        break;
      case MESSAGE:
        this.#message(packet.slice(1));
        break;
      default:
        break;
    }
  }

  #message(text: string): void {
    let p: SocketPacket;
    try {
      p = parseSocketPacket(text);
    } catch {
      this.close("parse error");
      return;
    }
    if (p.nsp !== "/") {
      this.send(`${MESSAGE}4${p.nsp},${JSON.stringify({ message: "Invalid namespace" })}`);
      return;
    }
    if (p.type === 0) {
      if (this.socket) return;
      this.socket = new Socket(this);
      this.send(`${MESSAGE}0${JSON.stringify({ sid: this.socket.id })}`);
      this.server.connected(this.socket, p.data);
      return;
    }
    if (!this.socket) return;
    if (p.type === 1) {
      this.close("client namespace disconnect");
    } else if (p.type === 2 && Array.isArray(p.data) && typeof p.data[0] === "string") {
      this.socket.dispatch(p.data[0], p.data.slice(1), p.id);
    }
  }

  /** Takes over a WebSocket (a new session, or an upgrade of a polling one). */
  attach(ws: WebSocket, upgrade: boolean): void {
    let upgraded = !upgrade;
    if (!upgrade) this.#ws = ws;
    ws.onmessage = (e) => {
      const data = typeof e.data === "string" ? e.data : "";
      if (!upgraded) {
        if (data === PING + "probe") {
          ws.send(PONG + "probe");
          // The client pauses polling before it upgrades: its pending poll must return now.
          this.#upgrading = true;
          this.#endPoll([NOOP]);
        } else if (data === UPGRADE) {
          upgraded = true;
          this.#upgrading = false;
          this.#ws = ws;
          // The pending poll ends with a no-op; queued packets go over the socket.
          const queued = this.#queue;
          this.#queue = [];
          this.#endPoll([NOOP]);
          for (const p of queued) ws.send(p);
        }
        return;
      }
      this.receive(data);
    };
    ws.onclose = () => {
      if (this.#ws === ws) this.close("transport close");
    };
    ws.onerror = () => {};
  }

  /** Ends the session after `ms` unless the client ends it first. */
  closeSoon(ms: number): void {
    clearTimeout(this.#closeTimer);
    this.#closeTimer = setTimeout(() => this.close("close timeout"), ms);
  }

  /** Ends the session. */
  close(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#closeTimer);
    clearInterval(this.#pingTimer);
    clearTimeout(this.#pongTimer);
    this.#endPoll([CLOSE]);
    if (this.#ws && this.#ws.readyState <= WebSocket.OPEN) {
      try {
        this.#ws.close();
      } catch {
        // Already closing.
      }
    }
    this.server.forget(this);
    this.socket?.closed(reason);
  }
}

function engineError(code: number, message: string, status = 400): Response {
  return new Response(JSON.stringify({ code, message }), {
    status,
    headers: { "content-type": "application/json" },
  });
}

/** A socket.io server answering `Request`s. */
export class SocketIoServer {
  readonly options: Required<SocketIoOptions>;
  #sessions = new Map<string, Session>();
  #onConnection?: (socket: Socket, auth: unknown) => void;

  constructor(options: SocketIoOptions = {}) {
    this.options = {
      pingInterval: options.pingInterval ?? 25_000,
      pingTimeout: options.pingTimeout ?? 20_000,
      maxPayload: options.maxPayload ?? 1_000_000,
    };
  }

  /** Sets the handler of new sockets. */
  onConnection(handler: (socket: Socket, auth: unknown) => void): void {
    this.#onConnection = handler;
  }

  /** @internal */
  connected(socket: Socket, auth: unknown): void {
    this.#onConnection?.(socket, auth);
  }

  /** @internal */
  forget(session: Session): void {
    this.#sessions.delete(session.sid);
  }

  /** Closes every session. */
  closeAll(): void {
    for (const s of [...this.#sessions.values()]) s.close("server shutting down");
  }

  /** The number of open sessions. */
  get size(): number {
    return this.#sessions.size;
  }

  /** Answers one engine.io request (polling GET/POST or a WebSocket upgrade). */
  async handle(req: Request): Promise<Response> {
    const url = new URL(req.url);
    const q = url.searchParams;
    if (q.get("EIO") !== "4") return engineError(5, "Unsupported protocol version");
    const transport = q.get("transport");
    const sid = q.get("sid");
    if (transport === "websocket") {
      if ((req.headers.get("upgrade") ?? "").toLowerCase() !== "websocket") {
        return engineError(3, "Bad request");
      }
      const existing = sid ? this.#sessions.get(sid) : undefined;
      if (sid && !existing) return engineError(1, "Session ID unknown");
      const { socket: ws, response } = Deno.upgradeWebSocket(req);
      if (existing) {
        existing.attach(ws, true);
      } else {
        const session = new Session(this, url.pathname);
        this.#sessions.set(session.sid, session);
        ws.onopen = () => {
          ws.send(OPEN + session.handshake([]));
          session.start();
        };
        session.attach(ws, false);
      }
      return response;
    }
    if (transport !== "polling") return engineError(0, "Transport unknown");
    if (!sid) {
      if (req.method !== "GET") return engineError(2, "Bad handshake method");
      const session = new Session(this, url.pathname);
      this.#sessions.set(session.sid, session);
      session.start();
      return text(OPEN + session.handshake(["websocket"]));
    }
    const session = this.#sessions.get(sid);
    if (!session) return engineError(1, "Session ID unknown");
    if (req.method === "POST") {
      const body = await req.text();
      if (body.length > this.options.maxPayload) {
        session.close("payload too large");
        return engineError(3, "Bad request", 413);
      }
      session.receivePayload(body);
      return new Response("ok", { headers: { "content-type": "text/html" } });
    }
    if (req.method !== "GET") return engineError(2, "Bad request method");
    const packets = await session.poll(req.signal);
    return text(packets.join(SEPARATOR));
  }
}

function text(body: string): Response {
  return new Response(body, { headers: { "content-type": "text/plain; charset=UTF-8" } });
}
