/**
 * Property-based tests of the HTTP surface: random and mutated bodies, content types,
 * credentials, methods and paths against the running gateway (chat, messages, count_tokens,
 * responses, embeddings, images, models, files, unknown routes) behind a fake OpenAI upstream.
 * Every answer is honest (never a 500; an error is JSON in the route's API shape with a 4xx, or
 * the upstream's 502/503/504), event streams carry JSON events, and the server keeps serving.
 * The network is limited to 127.0.0.1 for the test's duration.
 */
import { assertEquals } from "../assert.ts";
import { startFakeOpenAi } from "../fakes/openai.ts";
import {
  chatBody,
  embeddingsBody,
  imagesBody,
  messagesBody,
  mutated,
  responsesBody,
  validChat,
  validEmbeddings,
  validMessages,
  validResponses,
} from "./bodies.ts";
import { anyText, check, fc, timed } from "./fuzz.ts";
import { assertHonest, LOCAL_ONLY, startFuzzGateway, startRefuser } from "./gateway.ts";

/** Bodies that the API takes, and bodies of every plausible and mutated shape. */
function bodies(valid: fc.Arbitrary<unknown>, any: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  return fc.oneof(valid, mutated(any));
}

const ROUTES: Record<string, fc.Arbitrary<unknown>> = {
  "/v1/chat/completions": bodies(validChat, chatBody),
  "/proxies/v1/chat/completions": bodies(validChat, chatBody),
  "/v1/messages": bodies(validMessages, messagesBody),
  "/anthropic/v1/messages": bodies(validMessages, messagesBody),
  "/v1/messages/count_tokens": bodies(validMessages, messagesBody),
  "/v1/responses": bodies(validResponses, responsesBody),
  "/v1/embeddings": bodies(validEmbeddings, embeddingsBody),
  "/v1/images/generations": mutated(imagesBody),
};

const oddPath = fc.oneof(
  fc.constantFrom(
    "/",
    "/health",
    "/v1/models",
    "/proxies/v1/models",
    "/v1/pool",
    "/v1/responses/resp_nope",
    "/v1/responses/resp_nope/input_items",
    "/v1/responses/compact",
    "/file/../../etc/passwd",
    "/file/%2e%2e/%2e%2e/etc/passwd",
    "/file/nope.png",
    "//v1/models",
    "/v1/chat/completions/",
    "/v1/messages/",
    "/anthropic/",
    "/anthropic/v1/models",
    "/v1/%ZZ",
    "/v1/chat/completions?x=%ZZ",
    "/socket.io/",
  ),
  fc.webPath().map((p) => p || "/"),
);

/** A raw body: not JSON, JSON of the wrong type, empty, or large. */
const rawBody = fc.oneof(
  anyText,
  fc.constantFrom("", "null", "[]", "1", '"x"', "{", '{"model":', "{}", "\uFEFF{}"),
  fc.nat(60_000).map((n) => JSON.stringify({ model: "fake/gpt-4o-mini", messages: "x".repeat(n) })),
);

const contentType = fc.constantFrom(
  "application/json",
  "application/json; charset=utf-8",
  "text/plain",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=x",
  undefined,
);

const credential = fc.option(
  fc.oneof(
    fc.constantFrom("Bearer sk-fake", "Bearer sk-other", "Bearer ", "Basic YTpi", "sk-raw"),
    fc.string({ maxLength: 20 }).map((s) => s.replace(/[^\x20-\x7e]/g, "")),
  ),
  { nil: undefined },
);

const request = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.constantFrom(...Object.keys(ROUTES)).chain((path) =>
      fc.record({
        path: fc.constant(path),
        method: fc.oneof(
          { weight: 9, arbitrary: fc.constant("POST") },
          { weight: 1, arbitrary: fc.constantFrom("GET", "PUT", "DELETE", "OPTIONS", "HEAD") },
        ),
        body: fc.oneof(
          { weight: 5, arbitrary: ROUTES[path].map((b) => JSON.stringify(b)) },
          { weight: 1, arbitrary: rawBody },
        ),
        contentType: fc.oneof({ weight: 6, arbitrary: fc.constant("application/json") }, {
          weight: 1,
          arbitrary: contentType,
        }),
        auth: credential,
        apiKey: fc.option(fc.constantFrom("sk-fake", "", "x"), { nil: undefined }),
      })
    ),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      path: oddPath,
      method: fc.constantFrom("GET", "POST", "DELETE", "PATCH", "OPTIONS", "HEAD"),
      body: rawBody,
      contentType,
      auth: credential,
      apiKey: fc.option(fc.constantFrom("sk-fake", ""), { nil: undefined }),
    }),
  },
);

Deno.test({
  name:
    "fuzz http: random requests get honest answers in their API's shape; the server keeps serving",
  permissions: LOCAL_ONLY,
  async fn() {
    const upstream = await startFakeOpenAi({
      keys: ["sk-fake"],
      models: ["gpt-4o-mini", "text-embedding-3-small"],
      record: false,
    });
    const refuser = await startRefuser();
    const gw = await startFuzzGateway(upstream.baseUrl, refuser.origin);
    const statuses = new Map<number, number>();
    try {
      await check(
        fc.asyncProperty(
          request,
          timed(async (r) => {
            const headers: Record<string, string> = {};
            if (r.contentType !== undefined) headers["content-type"] = r.contentType;
            if (r.auth !== undefined) headers.authorization = r.auth;
            if (r.apiKey !== undefined) headers["x-api-key"] = r.apiKey;
            const withBody = r.method !== "GET" && r.method !== "HEAD";
            const res = await fetch(gw.origin + r.path, {
              method: r.method,
              headers,
              body: withBody ? r.body : undefined,
              signal: AbortSignal.timeout(20_000),
            });
            const text = await res.text();
            if (Deno.env.get("FUZZ_DEBUG")) {
              console.log(res.status, r.method, r.path, text.slice(0, 140).replace(/\n/g, " "));
            }
            statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
            assertHonest(new URL(gw.origin + r.path).pathname, r.method, {
              status: res.status,
              type: res.headers.get("content-type") ?? "",
              text,
            });
            const health = await fetch(`${gw.origin}/health`, {
              signal: AbortSignal.timeout(5_000),
            });
            assertEquals(health.status, 200);
            await health.body?.cancel();
          }, 20_000),
        ),
        300,
      );
    } finally {
      console.log(
        `statuses: ${
          [...statuses].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${s}x${n}`).join(" ")
        }`,
      );
      await gw.close();
      await upstream.close();
      await refuser.close();
    }
  },
});
