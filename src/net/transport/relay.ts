/**
 * A loopback relay between the impersonating library and the network, one per request, so that
 * ending a request really closes its upstream connection.
 *
 * The native library (wreq-js 2.3.1) neither resets an HTTP/2 stream nor closes its connection
 * when the caller aborts or cancels a streamed body: the upstream would keep sending to nobody.
 * So each chrome request connects through a relay of its own on 127.0.0.1, and closing the relay
 * closes every socket the request opened, whatever the library does.
 *
 * - Without an outbound proxy the relay is a minimal HTTP CONNECT proxy (RFC 9110 section 9.3.6)
 *   that the library is pointed at; it accepts only CONNECT with the relay's one-time
 *   credentials, so no other local process can borrow it.
 * - With an `http://`, `socks5://` or `socks5h://` proxy the relay is a plain TCP pipe to that
 *   proxy, and the library speaks the proxy's protocol (and its credentials) through it.
 * - An `https://` proxy cannot be relayed (the library checks the proxy's certificate against
 *   the address it dials), so it is used directly; see docs/transport.md.
 *
 * The TLS handshake and every HTTP/2 frame pass through unchanged: the relay sees only bytes.
 *
 * @module
 */

/** A running relay. */
export interface Relay {
  /** The proxy URL to give the library. */
  readonly proxyUrl: string;
  /** Closes the listener and every connection made through it. Idempotent. */
  close(): void;
}

/** The largest CONNECT request head accepted. */
const MAX_HEAD = 8 * 1024;

function closeQuietly(c: { close(): void }): void {
  try {
    c.close();
  } catch {
    // Already closed.
  }
}

async function pipe(from: Deno.Conn, to: Deno.Conn): Promise<void> {
  const buf = new Uint8Array(32 * 1024);
  try {
    while (true) {
      const n = await from.read(buf);
      if (n === null) break;
      let off = 0;
      while (off < n) off += await to.write(buf.subarray(off, n));
    }
    await to.closeWrite();
  } catch {
    // A side went away; the caller closes both.
  }
}

/** Reads a request head (up to the blank line); returns it and the bytes after it. */
async function readHead(conn: Deno.Conn): Promise<{ head: string; rest: Uint8Array }> {
  let buf = new Uint8Array(0);
  const chunk = new Uint8Array(4096);
  while (true) {
    const n = await conn.read(chunk);
    if (n === null) throw new Error("closed before the CONNECT request ended");
    const joined = new Uint8Array(buf.length + n);
    joined.set(buf);
    joined.set(chunk.subarray(0, n), buf.length);
    buf = joined;
    const text = new TextDecoder("latin1").decode(buf);
    const end = text.indexOf("\r\n\r\n");
    if (end >= 0) return { head: text.slice(0, end), rest: buf.slice(end + 4) };
    if (buf.length > MAX_HEAD) throw new Error("CONNECT request head too large");
  }
}

/** `host:port` of a CONNECT target, brackets of IPv6 literals removed. */
function parseAuthority(authority: string): { hostname: string; port: number } | undefined {
  const m = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(authority);
  if (!m) return undefined;
  const port = Number(m[2]);
  return port > 0 && port < 65536 ? { hostname: m[1], port } : undefined;
}

function randomToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(18));
  return btoa(String.fromCharCode(...bytes)).replace(/[+/=]/g, "x");
}

/**
 * Opens a relay for one request. `proxy` is the outbound proxy (undefined for none). Returns
 * undefined when the proxy cannot be relayed (`https://`): then use the proxy directly.
 */
export function openRelay(proxy: string | undefined): Relay | undefined {
  const upstream = proxy ? new URL(proxy) : undefined;
  if (upstream && upstream.protocol === "https:") return undefined;
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const open = new Set<Deno.Conn>();
  let closed = false;
  const token = randomToken();
  const expectedAuth = `Basic ${btoa(`relay:${token}`)}`;

  const track = (c: Deno.Conn) => {
    if (closed) closeQuietly(c);
    else open.add(c);
    return c;
  };
  const handle = async (conn: Deno.Conn) => {
    let out: Deno.Conn | undefined;
    try {
      if (upstream) {
        out = track(
          await Deno.connect({
            hostname: upstream.hostname.replace(/^\[|\]$/g, ""),
            port: Number(upstream.port || 1080),
          }),
        );
        await Promise.all([pipe(conn, out), pipe(out, conn)]);
        return;
      }
      const { head, rest } = await readHead(conn);
      const [requestLine, ...lines] = head.split("\r\n");
      const [method, authority] = requestLine.split(" ");
      const auth = lines.find((l) => /^proxy-authorization:/i.test(l))?.replace(/^[^:]*:\s*/, "");
      const target = parseAuthority(authority ?? "");
      const refuse = async (status: string) => {
        await conn.write(
          new TextEncoder().encode(`HTTP/1.1 ${status}\r\ncontent-length: 0\r\n\r\n`),
        );
      };
      if (auth !== expectedAuth) return await refuse("407 Proxy Authentication Required");
      if (method !== "CONNECT" || !target) return await refuse("405 Method Not Allowed");
      try {
        out = track(await Deno.connect(target));
      } catch {
        return await refuse("502 Bad Gateway");
      }
      await conn.write(new TextEncoder().encode("HTTP/1.1 200 Connection Established\r\n\r\n"));
      if (rest.length) await out.write(rest);
      await Promise.all([pipe(conn, out), pipe(out, conn)]);
    } catch {
      // The library or the network went away.
    } finally {
      closeQuietly(conn);
      open.delete(conn);
      if (out) {
        closeQuietly(out);
        open.delete(out);
      }
    }
  };
  (async () => {
    try {
      for await (const conn of listener) handle(track(conn));
    } catch {
      // The listener was closed.
    }
  })();

  let proxyUrl: string;
  if (upstream) {
    const u = new URL(upstream.href);
    u.hostname = "127.0.0.1";
    u.port = String(port);
    proxyUrl = u.href.replace(/\/$/, "");
  } else {
    proxyUrl = `http://relay:${token}@127.0.0.1:${port}`;
  }
  return {
    proxyUrl,
    close() {
      if (closed) return;
      closed = true;
      closeQuietly(listener);
      for (const c of open) closeQuietly(c);
      open.clear();
    },
  };
}
