/**
 * The comparison point of the benchmark: a minimal `fetch` pass-through proxy with no parsing,
 * no validation and no re-encoding. `deno run -A bench/passthrough.ts <port> <upstream origin>`.
 *
 * @module
 */
const [port, upstream] = Deno.args;
Deno.serve({ port: Number(port), hostname: "127.0.0.1", onListen() {} }, async (req) => {
  const url = new URL(req.url);
  const res = await fetch(
    upstream + url.pathname.replace(/^\/v1\/chat\/completions/, "/v1/chat/completions"),
    {
      method: req.method,
      headers: { "content-type": "application/json" },
      body: req.body,
      signal: req.signal,
    },
  );
  return new Response(res.body, { status: res.status, headers: res.headers });
});
