/**
 * Run by `guard_test.ts` with `--v8-flags=--expose-gc`: an upstream stream through `Upstream`,
 * garbage collections after its first chunk, then the request's abort. Prints what the reader
 * got and whether the upstream server saw its client leave.
 */
import { defaultConfig } from "../../src/config/mod.ts";
import { HttpClients, Upstream } from "../../src/net/http.ts";

let upstreamSawAbort = false;
let sawAbort!: () => void;
const seen = new Promise<void>((r) => sawAbort = r);
const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
  req.signal.addEventListener("abort", () => {
    upstreamSawAbort = true;
    sawAbort();
  });
  // One chunk, then silence: only the client leaving ends this stream.
  return new Response(
    new ReadableStream({
      start(c) {
        c.enqueue(new TextEncoder().encode("first"));
      },
    }),
    { headers: { "content-type": "text/plain" } },
  );
});

const abort = new AbortController();
/** The body's reader; the response object is dropped when this returns. */
async function open(): Promise<ReadableStreamDefaultReader<Uint8Array>> {
  const http = new Upstream({
    provider: "test",
    config: defaultConfig(),
    signal: abort.signal,
    clients: new HttpClients(),
  });
  const res = await http.fetch(`http://127.0.0.1:${server.addr.port}/`);
  return res.body!.getReader();
}
const reader = await open();
const first = new TextDecoder().decode((await reader.read()).value);
const pending = reader.read().then(
  (r) => `read done=${r.done}`,
  (e: Error) => `${e.name}: ${e.message}`,
);
const gc = (globalThis as unknown as { gc: () => void }).gc;
for (let i = 0; i < 5; i++) {
  gc();
  await new Promise((r) => setTimeout(r, 20));
}
abort.abort(new DOMException("client disconnected", "AbortError"));
const timeout = (what: string, ms: number) =>
  new Promise<string>((r) => setTimeout(() => r(`${what} timed out`), ms));
const read = await Promise.race([pending, timeout("read", 5000)]);
await Promise.race([seen, timeout("upstream", 10_000)]);
console.log(JSON.stringify({ first, read, upstreamSawAbort }));
Deno.exit(0);
