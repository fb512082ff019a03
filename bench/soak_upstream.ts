/**
 * The soak's upstream: an OpenAI-compatible `/v1/chat/completions` on 127.0.0.1 written on raw
 * TCP, so that it can fail the way real upstreams do and count its connections. Each answer is
 * chosen at random (weights below): a streamed or whole answer whose text the client can check
 * (`ack <nonce>` and a fixed filler, the nonce read from the request), slow streams, 429 and 500
 * errors, hangs (no headers until the gateway gives up), garbage in the stream, a dropped
 * connection mid-body, and a stream that stops mid-way. Connections are kept alive between
 * requests.
 *
 * `deno run --allow-net=127.0.0.1 bench/soak_upstream.ts` prints its port; `GET /_stats` answers
 * `{open, busy, served, faults}`: connections open, connections in the middle of a response (a
 * hang or stream the gateway never closed is one), requests served, faults injected by kind.
 *
 * @module
 */

/** The answer's filler, after `ack <nonce> `: 24 pieces. */
export const FILLER = Array.from({ length: 24 }, (_, i) => `piece${i} `);

/** The text the client must get for `nonce`. */
export function expectedText(nonce: string): string {
  return `ack ${nonce} ` + FILLER.join("");
}

const WEIGHTS: [string, number][] = [
  ["ok", 70],
  ["slow", 8],
  ["429", 5],
  ["500", 4],
  ["hang", 2],
  ["garbage", 4],
  ["drop", 5],
  ["stall", 2],
];
const TOTAL = WEIGHTS.reduce((n, [, w]) => n + w, 0);

function pick(): string {
  let r = Math.random() * TOTAL;
  for (const [kind, w] of WEIGHTS) {
    if ((r -= w) < 0) return kind;
  }
  return "ok";
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Buffered reads of one connection: requests one after another on a kept-alive connection. */
class ConnReader {
  #buf = new Uint8Array(0);
  #chunk = new Uint8Array(65536);
  constructor(readonly conn: Deno.Conn) {}

  async #more(): Promise<boolean> {
    const n = await this.conn.read(this.#chunk);
    if (n === null) return false;
    const next = new Uint8Array(this.#buf.length + n);
    next.set(this.#buf);
    next.set(this.#chunk.subarray(0, n), this.#buf.length);
    this.#buf = next;
    return true;
  }

  #find(seq: string): number {
    const s = enc.encode(seq);
    outer: for (let i = 0; i <= this.#buf.length - s.length; i++) {
      for (let j = 0; j < s.length; j++) if (this.#buf[i + j] !== s[j]) continue outer;
      return i;
    }
    return -1;
  }

  #take(n: number): Uint8Array {
    const out = this.#buf.slice(0, n);
    this.#buf = this.#buf.slice(n);
    return out;
  }

  /** The next request (head and body), or undefined when the peer closed. */
  async request(): Promise<{ head: string; body: string } | undefined> {
    let end: number;
    while ((end = this.#find("\r\n\r\n")) < 0) if (!(await this.#more())) return undefined;
    const head = dec.decode(this.#take(end + 4));
    const length = Number(/content-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
    if (/transfer-encoding:\s*chunked/i.test(head)) {
      let body = "";
      while (true) {
        let nl: number;
        while ((nl = this.#find("\r\n")) < 0) if (!(await this.#more())) return undefined;
        const size = parseInt(dec.decode(this.#take(nl + 2)), 16);
        while (this.#buf.length < size + 2) if (!(await this.#more())) return undefined;
        body += dec.decode(this.#take(size + 2).subarray(0, size));
        if (size === 0) return { head, body };
      }
    }
    while (this.#buf.length < length) if (!(await this.#more())) return undefined;
    return { head, body: dec.decode(this.#take(length)) };
  }

  /** Resolves when the peer closes (used while hanging). */
  async closed(): Promise<void> {
    while (await this.#more()) { /* the gateway sends nothing more on a busy connection */ }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function chunk(delta: unknown, finish: string | null = null): string {
  return `data: ${
    JSON.stringify({
      id: "chatcmpl-soak",
      object: "chat.completion.chunk",
      created: 1,
      model: "gpt-4o-mini",
      choices: [{ index: 0, delta, finish_reason: finish }],
    })
  }\n\n`;
}

function completion(text: string): string {
  return JSON.stringify({
    id: "chatcmpl-soak",
    object: "chat.completion",
    created: 1,
    model: "gpt-4o-mini",
    choices: [{ index: 0, message: { role: "assistant", content: text }, finish_reason: "stop" }],
    usage: { prompt_tokens: 10, completion_tokens: 30, total_tokens: 40 },
  });
}

/** Writes a chunk of a chunked body; false when the peer is gone. */
async function writeChunk(conn: Deno.Conn, text: string): Promise<boolean> {
  const bytes = enc.encode(text);
  return await writeAll(conn, enc.encode(`${bytes.length.toString(16)}\r\n`)) &&
    await writeAll(conn, bytes) && await writeAll(conn, enc.encode("\r\n"));
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<boolean> {
  try {
    let off = 0;
    while (off < bytes.length) off += await conn.write(bytes.subarray(off));
    return true;
  } catch {
    return false;
  }
}

function head(status: number, type: string, extra = ""): Uint8Array {
  return enc.encode(
    `HTTP/1.1 ${status} S\r\ncontent-type: ${type}\r\ntransfer-encoding: chunked\r\n${extra}\r\n`,
  );
}

const stats = {
  open: 0,
  busy: 0,
  served: 0,
  faults: {} as Record<string, number>,
  /** Connections mid-response by the kind of answer. */
  busyKinds: {} as Record<string, number>,
};

/** Answers one request; false when the connection must close. */
async function answer(conn: Deno.Conn, reader: ConnReader, req: { head: string; body: string }) {
  const path = req.head.split(" ")[1] ?? "";
  if (path === "/_stats") {
    const body = JSON.stringify(stats);
    await writeAll(
      conn,
      enc.encode(
        `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`,
      ),
    );
    return true;
  }
  stats.served++;
  stats.busy++;
  try {
    return await answerOne(conn, reader, req.body);
  } finally {
    stats.busy--;
  }
}

/** Answers one chat request with an answer or a fault picked at random. */
async function answerOne(conn: Deno.Conn, reader: ConnReader, body: string): Promise<boolean> {
  const kind = pick();
  stats.faults[kind] = (stats.faults[kind] ?? 0) + 1;
  stats.busyKinds[kind] = (stats.busyKinds[kind] ?? 0) + 1;
  try {
    return await answerWith(conn, reader, kind, body);
  } finally {
    stats.busyKinds[kind]--;
  }
}

/** Writes the answer of `kind`; false when the connection must close. */
async function answerWith(conn: Deno.Conn, reader: ConnReader, kind: string, reqBody: string) {
  const nonce = /nonce:([a-z0-9]+)/.exec(reqBody)?.[1] ?? "none";
  const stream = /"stream"\s*:\s*true/.test(reqBody);
  const text = expectedText(nonce);
  const pieces = [`ack ${nonce} `, ...FILLER];
  switch (kind) {
    case "429":
    case "500": {
      const status = Number(kind);
      const body = JSON.stringify({
        error: { message: `soak upstream ${status}`, type: "server_error", code: null },
      });
      const extra = status === 429 ? "retry-after: 1\r\n" : "";
      return await writeAll(conn, head(status, "application/json", extra)) &&
        await writeChunk(conn, body) && await writeAll(conn, enc.encode("0\r\n\r\n"));
    }
    case "hang":
      // No headers: the gateway's timeout (or the client leaving) must close the connection.
      await reader.closed();
      return false;
  }
  if (!stream) {
    const body = completion(text);
    if (!(await writeAll(conn, head(200, "application/json")))) return false;
    if (kind === "drop" || kind === "stall") {
      await writeChunk(conn, body.slice(0, body.length >> 1));
      if (kind === "stall") await reader.closed();
      return false;
    }
    const out = kind === "garbage" ? body.slice(0, -3) + "<html>" : body;
    return await writeChunk(conn, out) && await writeAll(conn, enc.encode("0\r\n\r\n"));
  }
  if (!(await writeAll(conn, head(200, "text/event-stream")))) return false;
  if (!(await writeChunk(conn, chunk({ role: "assistant", content: "" })))) return false;
  const cutAt = 1 + Math.floor(Math.random() * (pieces.length - 1));
  for (let i = 0; i < pieces.length; i++) {
    if (i === cutAt) {
      if (kind === "drop") return false;
      if (kind === "stall") {
        await reader.closed();
        return false;
      }
      if (kind === "garbage" && !(await writeChunk(conn, "data: {not json\n\n"))) return false;
    }
    if (!(await writeChunk(conn, chunk({ content: pieces[i] })))) return false;
    if (kind === "slow") await sleep(20);
    else if (i % 8 === 7) await sleep(1);
  }
  return await writeChunk(conn, chunk({}, "stop")) &&
    await writeChunk(conn, "data: [DONE]\n\n") && await writeAll(conn, enc.encode("0\r\n\r\n"));
}

async function serve(conn: Deno.Conn): Promise<void> {
  stats.open++;
  const reader = new ConnReader(conn);
  try {
    while (true) {
      const req = await reader.request();
      if (!req) break;
      const keep = await answer(conn, reader, req);
      if (!keep) break;
    }
  } catch {
    // The peer reset the connection.
  } finally {
    stats.open--;
    try {
      conn.close();
    } catch {
      // Closed already.
    }
  }
}

if (import.meta.main) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  console.log((listener.addr as Deno.NetAddr).port);
  for await (const conn of listener) serve(conn);
}
