/**
 * A minimal SOCKS5 proxy (no authentication, CONNECT only) for tests: it records the host and port
 * of every tunnel it opens, which proves from the proxy's side that traffic went through it.
 *
 * @module
 */

/** A running proxy. */
export interface Socks5Proxy {
  url: string;
  /** `host:port` of every tunnel, in order. */
  tunnels: string[];
  close(): Promise<void>;
}

async function readExactly(conn: Deno.Conn, n: number, carry: number[]): Promise<Uint8Array> {
  while (carry.length < n) {
    const buf = new Uint8Array(512);
    const got = await conn.read(buf);
    if (got === null) throw new Error("closed");
    carry.push(...buf.subarray(0, got));
  }
  return new Uint8Array(carry.splice(0, n));
}

/** Starts the proxy on 127.0.0.1 with a random port. */
export function startSocks5(): Socks5Proxy {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const tunnels: string[] = [];
  const conns = new Set<Deno.Conn>();
  const work = new Set<Promise<void>>();

  async function serve(conn: Deno.Conn) {
    let upstream: Deno.Conn | undefined;
    try {
      const carry: number[] = [];
      const [ver, n] = await readExactly(conn, 2, carry);
      if (ver !== 5) return;
      await readExactly(conn, n, carry);
      await conn.write(new Uint8Array([5, 0]));
      const [, cmd, , atyp] = await readExactly(conn, 4, carry);
      let host: string;
      if (atyp === 1) host = (await readExactly(conn, 4, carry)).join(".");
      else if (atyp === 3) {
        const [len] = await readExactly(conn, 1, carry);
        host = new TextDecoder().decode(await readExactly(conn, len, carry));
      } else return;
      const [hi, lo] = await readExactly(conn, 2, carry);
      const port = hi * 256 + lo;
      if (cmd !== 1) return;
      tunnels.push(`${host}:${port}`);
      upstream = await Deno.connect({ hostname: host, port });
      conns.add(upstream);
      await conn.write(new Uint8Array([5, 0, 0, 1, 0, 0, 0, 0, 0, 0]));
      if (carry.length > 0) await upstream.write(new Uint8Array(carry));
      await Promise.allSettled([
        conn.readable.pipeTo(upstream.writable),
        upstream.readable.pipeTo(conn.writable),
      ]);
    } catch {
      // A tunnel broke: nothing to report.
    } finally {
      for (const c of [conn, upstream]) {
        if (!c) continue;
        conns.delete(c);
        try {
          c.close();
        } catch { /* already closed */ }
      }
    }
  }

  const accepting = (async () => {
    try {
      for await (const conn of listener) {
        conns.add(conn);
        const p = serve(conn);
        work.add(p);
        p.finally(() => work.delete(p));
      }
    } catch {
      // Closed.
    }
  })();

  return {
    url: `socks5://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    tunnels,
    async close() {
      listener.close();
      for (const c of conns) {
        try {
          c.close();
        } catch { /* already closed */ }
      }
      await accepting;
      await Promise.allSettled([...work]);
    },
  };
}
