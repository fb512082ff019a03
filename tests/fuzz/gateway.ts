/**
 * The running gateway for the HTTP fuzz tests: a config whose only upstreams are fakes on
 * 127.0.0.1 (the `fake/` custom-llm entry, image backends pointed at a fake that refuses
 * everything, no image spaces), the checks every response must pass (the API's error shape with
 * an honest status, SSE whose events are JSON), and a scripted upstream that writes any bytes
 * and can drop its connection anywhere.
 *
 * @module
 */
import { assert } from "../assert.ts";
import { serveFake } from "../fakes/serve.ts";
import { startGateway, type TestGateway } from "../helpers.ts";
import { isErrorShape, sseEvents } from "./answers.ts";

export { sseEvents } from "./answers.ts";

/** Test permissions: the network only on 127.0.0.1 (a request elsewhere fails the test). */
export const LOCAL_ONLY: Deno.PermissionOptionsObject = {
  net: ["127.0.0.1"],
  read: true,
  write: true,
  env: true,
  sys: true,
  ffi: true,
  run: false,
  import: true,
};

/** A fake that answers every request 503 (image backends, anything that should not be asked). */
export function startRefuser() {
  return serveFake(() =>
    new Response(JSON.stringify({ error: "nothing here" }), {
      status: 503,
      headers: { "content-type": "application/json" },
    })
  );
}

/** Starts the gateway with the fuzz config: `fake/<model>` goes to `upstream` (an API root). */
export async function startFuzzGateway(
  upstream: string,
  refuser: string,
  extra: Record<string, unknown> = {},
): Promise<TestGateway> {
  return await startGateway({
    server: { flags: true, "keep-alive": 5 },
    "custom-llm": [{
      prefix: "fake",
      "base-url": upstream,
      "api-key": ["sk-fake"],
      models: ["gpt-4o-mini", "text-embedding-3-small"],
    }],
    images: {
      spaces: [],
      pollinations: { "base-url": refuser, "legacy-url": false },
      "bigjpg-url": refuser,
    },
    ...extra,
  }, { level: "error" });
}

/** The API a path belongs to (its error shape). */
export function apiOf(path: string): "anthropic" | "openai" {
  return path.startsWith("/anthropic/") || path === "/v1/messages" ||
      path.startsWith("/v1/messages/")
    ? "anthropic"
    : "openai";
}

/** Fails unless `body` is an error in `api`'s shape. */
export function assertErrorShape(api: "anthropic" | "openai", body: unknown, what: string): void {
  assert(
    isErrorShape(api, body),
    `${what}: not ${api}'s error shape: ${JSON.stringify(body)?.slice(0, 400)}`,
  );
}

/** What one request got: status, content type, body text. */
export interface Got {
  status: number;
  type: string;
  text: string;
}

/**
 * Fails unless a response is honest: never a 500, an error status carries the API's error shape
 * in JSON, a JSON body parses, an event stream's data are JSON (or `[DONE]`) and an error event
 * in it has the API's shape.
 */
export function assertHonest(path: string, method: string, got: Got): void {
  const what = `${method} ${path} -> ${got.status}`;
  assert(got.status !== 500, `${what}: an internal error: ${got.text.slice(0, 400)}`);
  assert(got.status < 500 || got.status >= 502, `${what}: ${got.text.slice(0, 200)}`);
  if (method === "HEAD" || got.status === 204 || got.status === 304) return;
  const api = apiOf(path);
  if (got.status >= 400) {
    let body: unknown;
    try {
      body = JSON.parse(got.text);
    } catch {
      throw new Error(`${what}: an error that is not JSON: ${got.text.slice(0, 300)}`);
    }
    assertErrorShape(api, body, what);
    return;
  }
  if (got.type.includes("application/json")) JSON.parse(got.text);
  if (got.type.includes("text/event-stream")) {
    for (const ev of sseEvents(got.text)) {
      if (ev.data === "[DONE]") continue;
      const data = JSON.parse(ev.data);
      if (ev.event === "error" && api === "anthropic") assertErrorShape(api, data, what);
      if (ev.event === undefined && data?.error !== undefined) assertErrorShape(api, data, what);
    }
  }
}

/** How a scripted upstream ends a response. */
export type Ending = "clean" | "drop";

/** One scripted response: status, headers, body pieces (written as chunks) and its ending. */
export interface Script {
  status: number;
  headers: Record<string, string>;
  pieces: Uint8Array[];
  ending: Ending;
}

/** A request as the scripted upstream read it. */
export interface RawRequest {
  method: string;
  path: string;
  headers: Headers;
  body: string;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

function indexOf(buf: Uint8Array, seq: number[], from = 0): number {
  outer: for (let i = from; i <= buf.length - seq.length; i++) {
    for (let j = 0; j < seq.length; j++) if (buf[i + j] !== seq[j]) continue outer;
    return i;
  }
  return -1;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

const CRLF2 = [13, 10, 13, 10];

/** Reads one HTTP/1.1 request (content-length or chunked body) from `conn`. */
async function readRequest(conn: Deno.Conn): Promise<RawRequest | undefined> {
  let buf: Uint8Array = new Uint8Array(0);
  const chunk = new Uint8Array(65536);
  const more = async () => {
    const n = await conn.read(chunk);
    if (n === null) return false;
    buf = concat(buf, chunk.subarray(0, n));
    return true;
  };
  let end = -1;
  while ((end = indexOf(buf, CRLF2)) < 0) if (!(await more())) return undefined;
  const head = dec.decode(buf.subarray(0, end)).split("\r\n");
  const [method, path] = head[0].split(" ");
  const headers = new Headers();
  for (const line of head.slice(1)) {
    const i = line.indexOf(":");
    if (i > 0) headers.append(line.slice(0, i).trim(), line.slice(i + 1).trim());
  }
  let rest = buf.subarray(end + 4);
  buf = rest;
  if (headers.get("transfer-encoding")?.includes("chunked")) {
    while (indexOf(buf, [48, 13, 10, 13, 10]) < 0) if (!(await more())) break;
    const text = dec.decode(buf);
    let body = "";
    let i = 0;
    while (i < text.length) {
      const nl = text.indexOf("\r\n", i);
      const size = parseInt(text.slice(i, nl), 16);
      if (!size) break;
      body += text.slice(nl + 2, nl + 2 + size);
      i = nl + 2 + size + 2;
    }
    return { method, path, headers, body };
  }
  const length = Number(headers.get("content-length") ?? 0);
  while (buf.length < length) if (!(await more())) break;
  rest = buf.subarray(0, length);
  return { method, path, headers, body: dec.decode(rest) };
}

/**
 * An upstream on 127.0.0.1 that answers each request with what `answer` scripts, byte for byte:
 * a chunked body whose pieces are written as they come, then either the end of the body or a
 * dropped connection. One request per connection. Counts the connections still open.
 */
export function scriptedUpstream(answer: (req: RawRequest) => Script | Promise<Script>) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns = new Set<Deno.Conn>();
  let served = 0;
  (async () => {
    for await (const conn of listener) {
      conns.add(conn);
      (async () => {
        try {
          const req = await readRequest(conn);
          if (!req) return;
          const s = await answer(req);
          served++;
          let head =
            `HTTP/1.1 ${s.status} X\r\nconnection: close\r\ntransfer-encoding: chunked\r\n`;
          for (const [k, v] of Object.entries(s.headers)) head += `${k}: ${v}\r\n`;
          await writeAll(conn, enc.encode(head + "\r\n"));
          for (const p of s.pieces) {
            if (p.length === 0) continue;
            await writeAll(conn, enc.encode(`${p.length.toString(16)}\r\n`));
            await writeAll(conn, p);
            await writeAll(conn, enc.encode("\r\n"));
          }
          if (s.ending === "clean") await writeAll(conn, enc.encode("0\r\n\r\n"));
        } catch {
          // The gateway went away first.
        } finally {
          conns.delete(conn);
          try {
            conn.close();
          } catch {
            // Already closed.
          }
        }
      })();
    }
  })().catch(() => {});
  const port = (listener.addr as Deno.NetAddr).port;
  return {
    origin: `http://127.0.0.1:${port}`,
    /** Connections not yet closed. */
    open: () => conns.size,
    served: () => served,
    close() {
      listener.close();
      for (const c of conns) {
        try {
          c.close();
        } catch {
          // Already closed.
        }
      }
    },
  };
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let off = 0;
  while (off < bytes.length) off += await conn.write(bytes.subarray(off));
}
