/**
 * The upstream client's error mapping: messages from every usual error body shape, statuses,
 * Retry-After in both forms.
 */
import { assertEquals } from "../assert.ts";
import { errorMessageOf, httpError, mapStatus, parseRetryAfter } from "../../src/net/http.ts";

Deno.test("error messages are found in the usual body shapes", () => {
  assertEquals(errorMessageOf('{"error":{"message":"Invalid key","type":"x"}}'), "Invalid key");
  assertEquals(
    errorMessageOf('[{"error":{"code":400,"message":"API key not valid"}}]'),
    "API key not valid",
  );
  assertEquals(
    errorMessageOf('{"error":"Forbidden","message":"account suspended"}'),
    "Forbidden: account suspended",
  );
  assertEquals(errorMessageOf('{"error":"Forbidden"}'), "Forbidden");
  assertEquals(errorMessageOf('{"message":"invalid api token"}'), "invalid api token");
  assertEquals(errorMessageOf('{"detail":"Not Found"}'), "Not Found");
  assertEquals(errorMessageOf("<html>oops</html>"), undefined);
});

Deno.test("statuses: client errors kept, timeouts 504, the rest 502", () => {
  assertEquals([400, 401, 403, 404, 413, 429].map(mapStatus), [400, 401, 403, 404, 413, 429]);
  assertEquals([422, 408, 504, 524, 500, 503, 418].map(mapStatus), [
    400,
    504,
    504,
    504,
    502,
    502,
    502,
  ]);
});

Deno.test("Retry-After as seconds or as a date", () => {
  assertEquals(parseRetryAfter("30"), 30);
  assertEquals(parseRetryAfter(null), undefined);
  assertEquals(parseRetryAfter("soon"), undefined);
  const inAMinute = new Date(Date.now() + 60_000).toUTCString();
  const s = parseRetryAfter(inAMinute)!;
  if (s < 58 || s > 61) throw new Error(`got ${s}`);
});

Deno.test("httpError keeps the upstream's status, message and Retry-After", async () => {
  const err = await httpError(
    "gemini",
    new Response('{"error":{"code":429,"message":"Resource has been exhausted"}}', {
      status: 429,
      headers: { "retry-after": "12", "content-type": "application/json" },
    }),
  );
  assertEquals([err.status, err.code, err.retryAfter], [429, "rate_limit_exceeded", 12]);
  assertEquals(err.message, "gemini upstream answered 429: Resource has been exhausted");
  const html = await httpError(
    "claude",
    new Response("<html><body>Bad gateway</body></html>", { status: 502 }),
  );
  assertEquals([html.status, html.message], [
    502,
    "claude upstream answered 502: <html><body>Bad gateway</body></html>",
  ]);
});

Deno.test("an NDJSON stream with a line that is not JSON is the upstream's failure (502)", async () => {
  const { serveFake } = await import("../fakes/serve.ts");
  const { HttpClients, Upstream } = await import("../../src/net/http.ts");
  const { defaultConfig } = await import("../../src/config/mod.ts");
  const { GatewayError } = await import("../../src/openai/errors.ts");
  const fake = await serveFake(() =>
    new Response('{"event_type":"stream-start"}\n<html>oops</html>\n', {
      headers: { "content-type": "application/stream+json" },
    })
  );
  try {
    const http = new Upstream({
      provider: "cohere",
      config: defaultConfig(),
      signal: new AbortController().signal,
      clients: new HttpClients(),
    });
    const events = await http.ndjson(`${fake.origin}/v1/chat`, { method: "POST", body: "{}" });
    const seen: unknown[] = [];
    let err: unknown;
    try {
      for await (const e of events) seen.push(e);
    } catch (e) {
      err = e;
    }
    assertEquals(seen, [{ event_type: "stream-start" }]);
    assertEquals(err instanceof GatewayError && [err.status, err.message], [
      502,
      "cohere upstream failed: not a JSON line: <html>oops</html>",
    ]);
  } finally {
    await fake.close();
  }
});
