/**
 * Debian's `microsocks` SOCKS5 proxy on a free loopback port, optionally requiring a user name
 * and password (RFC 1929), with what it prints about each connection collected.
 *
 * @module
 */

/** A running microsocks. */
export interface Microsocks {
  /** `socks5://[user:pass@]127.0.0.1:<port>` */
  url: string;
  /** Lines it printed (`client[N] 127.0.0.1: connected to host:port`, auth failures). */
  lines: string[];
  stop(): Promise<void>;
}

/** The path of `cmd` on PATH, if any. */
export function which(cmd: string): string | undefined {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    try {
      if (Deno.statSync(`${dir}/${cmd}`).isFile) return `${dir}/${cmd}`;
    } catch { /* not here */ }
  }
  return undefined;
}

/** A port free right now on 127.0.0.1. */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** Starts microsocks, or returns undefined when it is not installed. */
export async function startMicrosocks(
  auth?: { user: string; pass: string },
): Promise<Microsocks | undefined> {
  const bin = which("microsocks");
  if (!bin) return undefined;
  const port = freePort();
  const child = new Deno.Command(bin, {
    args: [
      "-i",
      "127.0.0.1",
      "-p",
      String(port),
      ...(auth ? ["-u", auth.user, "-P", auth.pass] : []),
    ],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lines: string[] = [];
  const collect = async (s: ReadableStream<Uint8Array>) => {
    for await (const chunk of s.pipeThrough(new TextDecoderStream())) {
      lines.push(...chunk.split("\n").filter(Boolean));
    }
  };
  const done = Promise.all([collect(child.stdout), collect(child.stderr)]);
  // Ready when it accepts connections.
  for (let i = 0; i < 100; i++) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  const cred = auth ? `${encodeURIComponent(auth.user)}:${encodeURIComponent(auth.pass)}@` : "";
  return {
    url: `socks5://${cred}127.0.0.1:${port}`,
    lines,
    async stop() {
      child.kill("SIGTERM");
      await child.status;
      await done;
    },
  };
}
