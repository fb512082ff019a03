/**
 * Splicing two TCP connections, for the fakes that stand between a client and a server (the
 * CONNECT proxy, the TLS front door): bytes both ways until each side ends, then both closed.
 *
 * @module
 */

/** Copies `from` into `to` until `from` ends, then half-closes `to`. */
async function pipe(from: Deno.Conn, to: Deno.Conn): Promise<void> {
  const buf = new Uint8Array(32 * 1024);
  try {
    while (true) {
      const n = await from.read(buf);
      if (n === null) break;
      let off = 0;
      while (off < n) off += await to.write(buf.subarray(off, n));
    }
  } catch {
    // One side went away; the other is closed by `closeAll`.
  }
  try {
    await to.closeWrite();
  } catch {
    // Already closed.
  }
}

/** Relays bytes between `a` and `b`, both ways, until both directions have ended. */
export async function splice(a: Deno.Conn, b: Deno.Conn): Promise<void> {
  await Promise.all([pipe(a, b), pipe(b, a)]);
}

/** Closes every connection given (skipping undefined), forgetting each in `open`. */
export function closeAll(open: Set<Deno.Conn>, ...conns: (Deno.Conn | undefined)[]): void {
  for (const c of conns) {
    if (!c) continue;
    open.delete(c);
    try {
      c.close();
    } catch {
      // Already closed.
    }
  }
}
