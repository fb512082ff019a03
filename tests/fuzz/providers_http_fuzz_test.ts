/**
 * The HTTP surface fuzzed through every keyed provider with a fake on 127.0.0.1 (Gemini, Cohere,
 * you.com's API, Coze's API, an OpenAI-compatible `custom-llm`): random and mutated bodies of
 * every client API routed to each of them get honest answers in the route's API shape (never a
 * 500, never a non-JSON error), and the server keeps serving. Provider-specific input (data URLs
 * with broken escapes, lone surrogates, odd tool names) reaches each provider's request builder.
 */
import { assertEquals } from "../assert.ts";
import { startFakeCohere } from "../fakes/cohere.ts";
import { startFakeCozeApi } from "../fakes/coze_api.ts";
import { startFakeGemini } from "../fakes/gemini.ts";
import { startFakeOpenAi } from "../fakes/openai.ts";
import { startFakeYouApi } from "../fakes/you_api.ts";
import {
  chatBody,
  embeddingsBody,
  messagesBody,
  mutated,
  responsesBody,
  validChat,
  validEmbeddings,
  validMessages,
  validResponses,
} from "./bodies.ts";
import { check, fc, timed } from "./fuzz.ts";
import { assertHonest, LOCAL_ONLY, startFuzzGateway, startRefuser } from "./gateway.ts";
import { isObject } from "../../src/util/json.ts";

const GEMINI_KEY = "AIzaSyFakeKey0000000000000000000000001";
const COHERE_KEY = "co-fake-key-000000000001";
const YOU_KEY = "ydc-sk-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const PAT = "pat_A0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRS";
const BOT = "7350000000000000001";

const CHAT_MODELS = [
  "gemini-2.0-flash",
  "gemini-2.5-flash",
  "command-a-03-2025",
  "command-r-08-2024",
  "you/express",
  "coze",
  "fake/gpt-4o-mini",
];
const EMBED_MODELS = ["text-embedding-004", "embed-v4.0", "fake/text-embedding-3-small"];

/** `body` with its model set to one of `models` (most of the time; else as generated). */
function routed(body: fc.Arbitrary<unknown>, models: string[]): fc.Arbitrary<unknown> {
  return fc.tuple(body, fc.constantFrom(...models), fc.nat(9)).map(([b, model, keep]) =>
    isObject(b) && keep > 0 ? { ...b, model } : b
  );
}

function bodies(valid: fc.Arbitrary<unknown>, any: fc.Arbitrary<unknown>, models: string[]) {
  return routed(fc.oneof(valid, mutated(any)), models);
}

const ROUTES: Record<string, fc.Arbitrary<unknown>> = {
  "/v1/chat/completions": bodies(validChat, chatBody, CHAT_MODELS),
  "/v1/messages": bodies(validMessages, messagesBody, CHAT_MODELS),
  "/v1/messages/count_tokens": bodies(validMessages, messagesBody, CHAT_MODELS),
  "/v1/responses": bodies(validResponses, responsesBody, CHAT_MODELS),
  "/v1/embeddings": bodies(validEmbeddings, embeddingsBody, EMBED_MODELS),
};

const request = fc.constantFrom(...Object.keys(ROUTES)).chain((path) =>
  fc.record({
    path: fc.constant(path),
    body: ROUTES[path],
    auth: fc.oneof(
      { weight: 8, arbitrary: fc.constant("Bearer gw-pass") },
      { weight: 1, arbitrary: fc.constantFrom("Bearer nope", "") },
    ),
  })
);

Deno.test({
  name: "fuzz http providers: bodies routed to every keyed provider get honest answers",
  permissions: LOCAL_ONLY,
  async fn() {
    const gemini = await startFakeGemini();
    const cohere = await startFakeCohere();
    const you = await startFakeYouApi({ keys: [{ key: YOU_KEY }] });
    const coze = await startFakeCozeApi({
      tokens: [{ token: PAT, workspaces: ["ws1"] }],
      bots: [{ id: BOT, workspace: "ws1" }],
    });
    const openai = await startFakeOpenAi({ keys: ["sk-fake"], record: false });
    const refuser = await startRefuser();
    const gw = await startFuzzGateway(openai.baseUrl, refuser.origin, {
      server: { flags: true, password: ["gw-pass"], "keep-alive": 5 },
      gemini: { "base-url": gemini.origin, keys: [GEMINI_KEY] },
      cohere: { "base-url": cohere.origin, keys: [COHERE_KEY] },
      you: { ...you.config, "api-key": [YOU_KEY] },
      coze: { ...coze.config, tokens: [PAT], bot: BOT },
    });
    const statuses = new Map<number, number>();
    try {
      await check(
        fc.asyncProperty(
          request,
          timed(async (r) => {
            const res = await fetch(gw.origin + r.path, {
              method: "POST",
              headers: { "content-type": "application/json", authorization: r.auth },
              body: JSON.stringify(r.body),
              signal: AbortSignal.timeout(20_000),
            });
            const text = await res.text();
            statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
            if (Deno.env.get("FUZZ_DEBUG")) {
              console.log(
                res.status,
                r.path,
                (r.body as { model?: string })?.model,
                text.slice(0, 160),
              );
            }
            assertHonest(r.path, "POST", {
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
        250,
      );
    } finally {
      console.log(
        `statuses: ${
          [...statuses].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${s}x${n}`).join(" ")
        }`,
      );
      await gw.close();
      for (const f of [gemini, cohere, you, coze, openai, refuser]) await f.close();
    }
  },
});
