/**
 * Reading a request body within bounds of time: `Deno.serve` bounds neither how long a client
 * takes to send its headers nor its body (a connection sending a byte a second is held for
 * minutes; see docs/security.md), so the body read is bounded here. A body that takes longer
 * than `server.limits.body-timeout`, or arrives slower on average than `server.limits.body-rate`
 * (checked from the fifth second on), is a 408 and the rest is not read.
 *
 * @module
 */
import type { Config } from "../config/schema.ts";
import { GatewayError } from "../openai/errors.ts";

/** Seconds a body may take before its average rate is held against it. */
export const RATE_GRACE_SECONDS = 5;

function tooSlow(what: string, key: string): GatewayError {
  return new GatewayError(
    408,
    `The request body ${what} (server.limits.${key}); send it at once`,
    "invalid_request_error",
    "request_timeout",
  );
}

/** The body of `req` as text, read within the time and rate limits of `config`. */
export async function readBodyText(req: Request, config: Config): Promise<string> {
  if (!req.body) return "";
  const { "body-timeout": timeout, "body-rate": rate } = config.server.limits;
  const reader = req.body.getReader();
  const started = performance.now();
  const chunks: Uint8Array[] = [];
  let received = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const slow = new Promise<never>((_, reject) => {
    const check = () => {
      const s = (performance.now() - started) / 1000;
      if (s >= timeout) return reject(tooSlow(`took longer than ${timeout}s`, "body-timeout"));
      if (s >= RATE_GRACE_SECONDS && received / s < rate) {
        return reject(tooSlow(`arrived slower than ${rate} bytes/s`, "body-rate"));
      }
      timer = setTimeout(check, Math.min(1000, (timeout - s) * 1000 + 1));
    };
    timer = setTimeout(check, Math.min(1000, timeout * 1000));
  });
  slow.catch(() => {});
  try {
    while (true) {
      const r = await Promise.race([reader.read(), slow]);
      if (r.done) break;
      received += r.value.length;
      chunks.push(r.value);
    }
  } catch (err) {
    reader.cancel(err).catch(() => {});
    throw err;
  } finally {
    clearTimeout(timer);
  }
  const all = new Uint8Array(received);
  let off = 0;
  for (const c of chunks) {
    all.set(c, off);
    off += c.length;
  }
  return new TextDecoder().decode(all);
}
