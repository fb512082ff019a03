/**
 * A TCP front door that reads each connection's ClientHello before any TLS server sees it, then
 * hands the connection (the bytes read replayed first) to a local TLS server picked from that
 * hello. The TLS servers behind it terminate TLS as usual; `helloOf` tells them which hello
 * arrived on a forwarded connection (by the forwarding socket's port, their remote port).
 *
 * @module
 */
import { closeAll, splice } from "./tcp.ts";
import { type ClientHello, readClientHello } from "./client_hello.ts";

/** A running front door. */
export interface TlsFront {
  /** The port clients connect to (on 127.0.0.1). */
  port: number;
  /** Every ClientHello seen, in arrival order. */
  hellos: ClientHello[];
  /** The hello of the connection a back server sees arriving from `remotePort`. */
  helloOf(remotePort: number): ClientHello | undefined;
  /** Stops accepting and closes every open connection. */
  close(): Promise<void>;
}

/**
 * Listens on 127.0.0.1 and forwards each connection to the port `pick` returns for its hello
 * (or closes it when `pick` returns undefined or the bytes are not a ClientHello).
 */
export function startTlsFront(pick: (hello: ClientHello) => number | undefined): TlsFront {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const hellos: ClientHello[] = [];
  const byPort = new Map<number, ClientHello>();
  const open = new Set<Deno.Conn>();
  const tasks = new Set<Promise<void>>();
  const handle = async (conn: Deno.Conn) => {
    open.add(conn);
    let back: Deno.Conn | undefined;
    try {
      const { hello, bytes } = await readClientHello(conn);
      hellos.push(hello);
      const port = pick(hello);
      if (port === undefined) return;
      back = await Deno.connect({ hostname: "127.0.0.1", port });
      open.add(back);
      byPort.set((back.localAddr as Deno.NetAddr).port, hello);
      await back.write(bytes);
      await splice(conn, back);
    } catch {
      // Not TLS, or a side went away.
    } finally {
      closeAll(open, conn, back);
    }
  };
  const accepting = (async () => {
    try {
      for await (const conn of listener) {
        const task = handle(conn);
        tasks.add(task);
        task.finally(() => tasks.delete(task));
      }
    } catch {
      // Closed.
    }
  })();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    hellos,
    helloOf: (remotePort) => byPort.get(remotePort),
    async close() {
      listener.close();
      await accepting;
      for (const c of open) {
        try {
          c.close();
        } catch {
          // Already closed.
        }
      }
      await Promise.all(tasks);
    },
  };
}
