/**
 * An HTTP proxy that only tunnels (RFC 9110 section 9.3.6 CONNECT), as corporate proxies in front
 * of HTTPS do. With credentials it refuses a CONNECT without the matching
 * `Proxy-Authorization: Basic` (407 with `Proxy-Authenticate`), like tinyproxy or squid do.
 * Records every tunnel it opened.
 *
 * @module
 */
import { closeAll, splice } from "./tcp.ts";

/** A running proxy. */
export interface ConnectProxy {
  /** `http://[user:pass@]127.0.0.1:<port>` */
  url: string;
  /** `host:port` of every tunnel opened, in order. */
  tunnels: string[];
  /** Requests refused (bad credentials, not CONNECT). */
  refused: number;
  close(): Promise<void>;
}

/** Starts the proxy; `auth` makes it require those credentials. */
export function startConnectProxy(auth?: { user: string; pass: string }): ConnectProxy {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const open = new Set<Deno.Conn>();
  const state = { tunnels: [] as string[], refused: 0 };
  const want = auth ? `Basic ${btoa(`${auth.user}:${auth.pass}`)}` : undefined;
  const handle = async (conn: Deno.Conn) => {
    open.add(conn);
    let out: Deno.Conn | undefined;
    try {
      let head = "";
      const byte = new Uint8Array(1);
      while (!head.endsWith("\r\n\r\n")) {
        if ((await conn.read(byte)) === null || head.length > 8192) return;
        head += String.fromCharCode(byte[0]);
      }
      const [line, ...fields] = head.trim().split("\r\n");
      const [method, target] = line.split(" ");
      const given = fields.find((f) => /^proxy-authorization:/i.test(f))?.replace(/^[^:]*:\s*/, "");
      const answer = (s: string) => conn.write(new TextEncoder().encode(s));
      if (want && given !== want) {
        state.refused++;
        await answer(
          'HTTP/1.1 407 Proxy Authentication Required\r\nproxy-authenticate: Basic realm="test"\r\ncontent-length: 0\r\n\r\n',
        );
        return;
      }
      const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(target ?? "");
      if (method !== "CONNECT" || !m) {
        state.refused++;
        await answer("HTTP/1.1 405 Method Not Allowed\r\ncontent-length: 0\r\n\r\n");
        return;
      }
      out = await Deno.connect({ hostname: m[1], port: Number(m[2]) });
      open.add(out);
      state.tunnels.push(target);
      await answer("HTTP/1.1 200 Connection established\r\n\r\n");
      await splice(conn, out);
    } catch {
      // A side went away.
    } finally {
      closeAll(open, conn, out);
    }
  };
  const accepting = (async () => {
    try {
      for await (const conn of listener) handle(conn);
    } catch {
      // Closed.
    }
  })();
  const cred = auth ? `${auth.user}:${auth.pass}@` : "";
  return Object.assign(state, {
    url: `http://${cred}127.0.0.1:${port}`,
    async close() {
      listener.close();
      await accepting;
      for (const c of open) {
        try {
          c.close();
        } catch {
          // Closed.
        }
      }
    },
  });
}
