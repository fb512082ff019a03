/**
 * The SignalR JSON hub protocol as Bing's ChatHub speaks it over a websocket: every message is a
 * JSON text ended by the record separator `\x1e`. A websocket frame may carry several records,
 * and a record may be split over several frames; `SignalRReader` handles both, scanning each frame
 * once (linear in the stream's length, never re-parsing a growing buffer).
 *
 * @module
 */

/** The record separator that ends every SignalR JSON message. */
export const RECORD_SEPARATOR = "\x1e";

/** SignalR message types. */
export const MessageType = {
  /** A call of a hub method (server -> client: `update`). */
  Invocation: 1,
  /** One item of a streamed result (Bing: the final answer). */
  StreamItem: 2,
  /** The end of an invocation, with `error` when it failed. */
  Completion: 3,
  /** A streaming call of a hub method (client -> server: `chat`). */
  StreamInvocation: 4,
  CancelInvocation: 5,
  Ping: 6,
  /** The connection is closing, with `error` when it failed. */
  Close: 7,
} as const;

/** The handshake request of the JSON protocol, version 1. */
export const HANDSHAKE_REQUEST = { protocol: "json", version: 1 };

/** A SignalR message: an object with a numeric `type` (the handshake reply has none). */
export interface SignalRMessage {
  type?: number;
  target?: string;
  invocationId?: string;
  arguments?: unknown[];
  item?: unknown;
  error?: string;
  [key: string]: unknown;
}

/** Writes one record: the JSON text of `message` and the record separator. */
export function formatRecord(message: unknown): string {
  return JSON.stringify(message) + RECORD_SEPARATOR;
}

/** A record that is not valid JSON. */
export class SignalRParseError extends Error {
  override name = "SignalRParseError";
  constructor(readonly record: string, cause: unknown) {
    super(
      `a SignalR record that is not JSON: ${
        record.length > 120 ? record.slice(0, 120) + "…" : record
      }`,
      { cause },
    );
  }
}

/**
 * Splits websocket frames into SignalR records, whatever the framing: text frames are strings,
 * binary frames are UTF-8 (a character may be split between frames).
 */
export class SignalRReader {
  #pending: string[] = [];
  #decoder = new TextDecoder();

  /** Feeds one frame and returns the record texts it completed (empty records are skipped). */
  records(frame: string | ArrayBuffer | Uint8Array): string[] {
    const text = typeof frame === "string"
      ? frame
      : this.#decoder.decode(frame instanceof Uint8Array ? frame : new Uint8Array(frame), {
        stream: true,
      });
    const out: string[] = [];
    let start = 0;
    while (true) {
      const end = text.indexOf(RECORD_SEPARATOR, start);
      if (end < 0) break;
      this.#pending.push(text.slice(start, end));
      const record = this.#pending.length === 1 ? this.#pending[0] : this.#pending.join("");
      this.#pending = [];
      if (record.trim() !== "") out.push(record);
      start = end + 1;
    }
    if (start < text.length) this.#pending.push(text.slice(start));
    return out;
  }

  /** Feeds one frame and returns the messages it completed. Throws `SignalRParseError`. */
  push(frame: string | ArrayBuffer | Uint8Array): SignalRMessage[] {
    return this.records(frame).map((record) => {
      try {
        return JSON.parse(record) as SignalRMessage;
      } catch (err) {
        throw new SignalRParseError(record, err);
      }
    });
  }

  /** True when part of a record is still waiting for its separator. */
  get partial(): boolean {
    return this.#pending.some((p) => p.trim() !== "");
  }
}
