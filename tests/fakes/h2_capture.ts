/**
 * The first request of a decrypted connection as it was framed: for HTTP/2 (RFC 9113) the client's
 * SETTINGS in order, its connection WINDOW_UPDATE, PRIORITY frames, the first HEADERS frame's
 * priority and its header list in wire order (HPACK-decoded with `hpack.js`); for HTTP/1.1 the
 * header lines in order. The connection is then answered with one small response so the client's
 * request completes.
 *
 * @module
 */
import hpack from "hpack.js";

/** What a client sent before and with its first request. */
export interface HttpCapture {
  /** `h2` or `http/1.1`. */
  protocol: string;
  /** SETTINGS parameters in order as [id, value]. */
  settings: [number, number][];
  /** Connection-level WINDOW_UPDATE increment (HTTP/2). */
  windowUpdate?: number;
  /** PRIORITY frames before the first HEADERS (stream, depends on, weight, exclusive). */
  priorityFrames: { stream: number; dependsOn: number; weight: number; exclusive: boolean }[];
  /** The first HEADERS frame's priority block, if it had one. */
  headersPriority?: { dependsOn: number; weight: number; exclusive: boolean };
  /** Frame types in the order they arrived, up to the first HEADERS. */
  frames: string[];
  /** The request's header list in wire order (pseudo-headers included for HTTP/2). */
  headers: [string, string][];
}

const PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
const FRAME_NAMES = [
  "DATA",
  "HEADERS",
  "PRIORITY",
  "RST_STREAM",
  "SETTINGS",
  "PUSH_PROMISE",
  "PING",
  "GOAWAY",
  "WINDOW_UPDATE",
  "CONTINUATION",
];

/** Setting names by id (RFC 9113 section 6.5.2, RFC 8441, RFC 9218). */
export const SETTING_NAMES: Record<number, string> = {
  1: "HEADER_TABLE_SIZE",
  2: "ENABLE_PUSH",
  3: "MAX_CONCURRENT_STREAMS",
  4: "INITIAL_WINDOW_SIZE",
  5: "MAX_FRAME_SIZE",
  6: "MAX_HEADER_LIST_SIZE",
  8: "ENABLE_CONNECT_PROTOCOL",
  9: "NO_RFC7540_PRIORITIES",
};

/** Buffered reads from a connection. */
class Input {
  #buf = new Uint8Array(0);
  constructor(readonly conn: Deno.Conn) {}
  async need(n: number): Promise<Uint8Array> {
    const chunk = new Uint8Array(16 * 1024);
    while (this.#buf.length < n) {
      const got = await this.conn.read(chunk);
      if (got === null) throw new Error("connection closed mid-request");
      const joined = new Uint8Array(this.#buf.length + got);
      joined.set(this.#buf);
      joined.set(chunk.subarray(0, got), this.#buf.length);
      this.#buf = joined;
    }
    const out = this.#buf.slice(0, n);
    this.#buf = this.#buf.slice(n);
    return out;
  }
  async line(): Promise<string> {
    let text = "";
    while (!text.endsWith("\r\n")) text += String.fromCharCode((await this.need(1))[0]);
    return text.slice(0, -2);
  }
}

function frame(type: number, flags: number, stream: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(9 + payload.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, payload.length << 8);
  out[3] = type;
  out[4] = flags;
  v.setUint32(5, stream & 0x7fffffff);
  out.set(payload, 9);
  return out;
}

function decodeHeaders(decoder: ReturnType<typeof hpack.decompressor.create>, block: Uint8Array) {
  decoder.write(block);
  decoder.execute();
  const out: [string, string][] = [];
  let h;
  while ((h = decoder.read())) out.push([h.name, h.value]);
  return out;
}

/**
 * Reads the first request of a TLS connection whose ALPN result was `protocol`, records how it was
 * framed, and answers it with `status` and `body` (HTML). The connection is closed afterwards.
 */
export async function captureHttp(
  conn: Deno.Conn,
  protocol: string | null,
  answer: { status: number; body: string; headers?: Record<string, string> } = {
    status: 200,
    body: "captured",
  },
): Promise<HttpCapture> {
  const input = new Input(conn);
  const capture: HttpCapture = {
    protocol: protocol ?? "http/1.1",
    settings: [],
    priorityFrames: [],
    frames: [],
    headers: [],
  };
  const resHeaders = { "content-type": "text/html; charset=utf-8", ...answer.headers };
  if (protocol !== "h2") {
    const [_requestLine] = [await input.line()];
    for (let line = await input.line(); line !== ""; line = await input.line()) {
      const colon = line.indexOf(":");
      capture.headers.push([line.slice(0, colon), line.slice(colon + 1).trim()]);
    }
    const body = new TextEncoder().encode(answer.body);
    const head = `HTTP/1.1 ${answer.status} X\r\n${
      Object.entries(resHeaders).map(([k, v]) => `${k}: ${v}\r\n`).join("")
    }content-length: ${body.length}\r\nconnection: close\r\n\r\n`;
    await conn.write(new TextEncoder().encode(head));
    await conn.write(body);
    return capture;
  }
  const preface = new TextDecoder().decode(await input.need(PREFACE.length));
  if (preface !== PREFACE) throw new Error("no HTTP/2 preface");
  const decoder = hpack.decompressor.create({ table: { size: 4096 } });
  let block: Uint8Array | undefined;
  let stream = 0;
  while (true) {
    const head = await input.need(9);
    const len = (head[0] << 16) | (head[1] << 8) | head[2];
    const type = head[3];
    const flags = head[4];
    const id = new DataView(head.buffer).getUint32(5) & 0x7fffffff;
    const payload = await input.need(len);
    const p = new DataView(payload.buffer);
    capture.frames.push(FRAME_NAMES[type] ?? `0x${type.toString(16)}`);
    if (type === 4 && !(flags & 1)) {
      for (let i = 0; i + 6 <= len; i += 6) {
        capture.settings.push([p.getUint16(i), p.getUint32(i + 2)]);
      }
    } else if (type === 8 && id === 0) {
      capture.windowUpdate = p.getUint32(0) & 0x7fffffff;
    } else if (type === 2) {
      const dep = p.getUint32(0);
      capture.priorityFrames.push({
        stream: id,
        dependsOn: dep & 0x7fffffff,
        exclusive: (dep >>> 31) === 1,
        weight: payload[4] + 1,
      });
    } else if (type === 1) {
      let off = 0;
      let end = len;
      if (flags & 0x8) {
        off = 1;
        end -= payload[0];
      }
      if (flags & 0x20) {
        const dep = p.getUint32(off);
        capture.headersPriority = {
          dependsOn: dep & 0x7fffffff,
          exclusive: (dep >>> 31) === 1,
          weight: payload[off + 4] + 1,
        };
        off += 5;
      }
      stream = id;
      block = payload.slice(off, end);
      if (flags & 0x4) break;
    } else if (type === 9 && block) {
      const joined = new Uint8Array(block.length + len);
      joined.set(block);
      joined.set(payload, block.length);
      block = joined;
      if (flags & 0x4) break;
    }
  }
  capture.headers = decodeHeaders(decoder, block!);
  const encoder = hpack.compressor.create({ table: { size: 4096 } });
  encoder.write([
    { name: ":status", value: String(answer.status) },
    ...Object.entries(resHeaders).map(([name, value]) => ({ name, value })),
  ]);
  const body = new TextEncoder().encode(answer.body);
  await conn.write(frame(4, 0, 0, new Uint8Array()));
  await conn.write(frame(4, 1, 0, new Uint8Array()));
  await conn.write(frame(1, 0x4, stream, new Uint8Array(encoder.read())));
  await conn.write(frame(0, 0x1, stream, body));
  // Let the client read the answer before the connection goes (a GOAWAY would race it).
  await new Promise((r) => setTimeout(r, 50));
  return capture;
}
