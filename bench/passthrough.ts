/**
 * The comparison points of the benchmark: minimal `fetch` pass-through proxies with no parsing,
 * no validation and no re-encoding. `deno run -A bench/passthrough.ts <port> <upstream origin>
 * [piped|chunks]`:
 * - `piped` (default) hands the upstream body to the response, so Deno moves the bytes without
 *   running JavaScript per chunk;
 * - `chunks` reads every chunk in JavaScript and writes it on, as any proxy that looks at the
 *   stream (every gateway that translates a protocol) must.
 *
 * @module
 */
const [port, upstream, mode = "piped"] = Deno.args;
Deno.serve({ port: Number(port), hostname: "127.0.0.1", onListen() {} }, async (req) => {
  let res: Response;
  try {
    res = await fetch(upstream + new URL(req.url).pathname, {
      method: req.method,
      headers: { "content-type": "application/json" },
      body: req.body,
      signal: req.signal,
    });
  } catch {
    // wrk closing its connections at the end of a run: nobody is left to answer.
    return new Response(null, { status: 499 });
  }
  if (mode === "piped" || !res.body) {
    return new Response(res.body, { status: res.status, headers: res.headers });
  }
  const reader = res.body.getReader();
  const body = new ReadableStream<Uint8Array>({
    async pull(c) {
      const { done, value } = await reader.read();
      if (done) c.close();
      else c.enqueue(value);
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  }, { highWaterMark: 0 });
  return new Response(body, { status: res.status, headers: res.headers });
});
