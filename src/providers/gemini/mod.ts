/**
 * The `gemini` provider: Google's Gemini API with an AI Studio key (the client's, or one of the
 * `gemini.keys` pool, sent as `x-goog-api-key`, never in a URL). Streams come from
 * `:streamGenerateContent?alt=sse`, whole answers from `:generateContent`, embeddings from
 * `:batchEmbedContents`. Tools are native unless `gemini.tc` asks for the prompt emulator.
 *
 * @module
 */
import { expectType, readJson } from "../../net/http.ts";
import { readSse } from "../../net/sse.ts";
import { invalidRequest, upstreamFailed } from "../../openai/errors.ts";
import type { ChatRequest, EmbeddingRequest } from "../../openai/schema.ts";
import { keyPoolOptions, type Pool, PoolSet, useAccount, withAccount } from "../../pool/mod.ts";
import { countTokens } from "../../util/tokens.ts";
import type { ChatContext, ChatEvent, EmbeddingResult, Provider, ProviderDeps } from "../types.ts";
import { fromGoogleError, geminiHttpError, googleErrorOf } from "./errors.ts";
import { toBase64 } from "./images.ts";
import { apiModel, geminiModels, isGeminiModel } from "./models.ts";
import { buildRequest, type BuiltRequest } from "./request.ts";
import { SignatureCache } from "./signatures.ts";
import { GeminiMapper, type GeminiResponse } from "./stream.ts";

/** Texts per `batchEmbedContents` call (the API's limit). */
const EMBED_BATCH = 100;

function keyPool(pools: PoolSet, ctx: ChatContext): Pool {
  const g = ctx.config.gemini;
  return pools.get("gemini", g.keys, keyPoolOptions(g));
}

function headers(key: string): Record<string, string> {
  return { "content-type": "application/json", "x-goog-api-key": key };
}

async function* attempt(
  built: BuiltRequest,
  model: string,
  stream: boolean,
  key: string,
  ctx: ChatContext,
  signatures: SignatureCache,
): AsyncGenerator<ChatEvent> {
  const g = ctx.config.gemini;
  const http = ctx.upstream("gemini", g.proxies);
  const method = stream ? "streamGenerateContent?alt=sse" : "generateContent";
  const url = `${g["base-url"]}/v1beta/models/${encodeURIComponent(model)}:${method}`;
  const res = await http.fetch(url, {
    method: "POST",
    headers: headers(key),
    body: JSON.stringify(built.body),
  });
  if (!res.ok) throw await geminiHttpError(res);
  const mapper = new GeminiMapper(built.names, signatures, built.parallel);
  if (!stream) {
    const body = await readJson<GeminiResponse>("gemini", res);
    yield* mapper.map(body);
    yield* mapper.end();
    return;
  }
  await expectType("gemini", res, ["text/event-stream"]);
  for await (const ev of readSse(res.body!)) {
    if (ev.data.trim() === "") continue;
    let chunk: GeminiResponse;
    try {
      chunk = JSON.parse(ev.data);
    } catch {
      throw upstreamFailed("gemini", `stream event is not JSON: ${ev.data.slice(0, 200)}`);
    }
    yield* mapper.map(chunk);
  }
  yield* mapper.end();
}

/** Creates the `gemini` provider. */
export function createGeminiProvider(deps: ProviderDeps): Provider {
  const pools = new PoolSet(deps.log);
  /** Thought signatures by tool call id, for clients that drop them. */
  const signatures = new SignatureCache();
  return {
    id: "gemini",
    nativeChoices: true,

    pools: () => pools.state(),

    models(config) {
      return geminiModels(config);
    },

    resolve(model, config) {
      if (!isGeminiModel(model, config)) return undefined;
      return { upstreamModel: apiModel(model), toolMode: config.gemini.tc ? "emulated" : "native" };
    },

    async *chat(req: ChatRequest, ctx: ChatContext): AsyncGenerator<ChatEvent> {
      const model = ctx.route.upstreamModel;
      const built = await buildRequest(req, {
        config: ctx.config,
        model,
        signatures,
        upstream: ctx.upstream,
        signal: ctx.signal,
        log: ctx.log,
      });
      const stream = req.stream === true;
      yield* withAccount(
        keyPool(pools, ctx),
        { token: ctx.token, signal: ctx.signal },
        (key) => attempt(built, model, stream, key, ctx, signatures),
      );
    },

    async renderPrompt(req: ChatRequest, ctx: ChatContext): Promise<string> {
      const built = await buildRequest(req, {
        config: ctx.config,
        model: ctx.route.upstreamModel,
        signatures,
      });
      return JSON.stringify(built.body, null, 2);
    },

    async embed(req: EmbeddingRequest, ctx: ChatContext): Promise<EmbeddingResult> {
      const inputs = typeof req.input === "string" ? [req.input] : req.input;
      if (!inputs.every((i): i is string => typeof i === "string")) {
        throw invalidRequest("Gemini embeddings take text input, not token arrays", "input");
      }
      const model = ctx.route.upstreamModel;
      const g = ctx.config.gemini;
      const http = ctx.upstream("gemini", g.proxies);
      const url = `${g["base-url"]}/v1beta/models/${encodeURIComponent(model)}:batchEmbedContents`;
      const vectors = await useAccount(
        keyPool(pools, ctx),
        { token: ctx.token, signal: ctx.signal },
        async (key) => {
          const out: number[][] = [];
          for (let i = 0; i < inputs.length; i += EMBED_BATCH) {
            const requests = inputs.slice(i, i + EMBED_BATCH).map((text) => ({
              model: `models/${model}`,
              content: { parts: [{ text }] },
              ...(req.dimensions ? { outputDimensionality: req.dimensions } : {}),
            }));
            const res = await http.fetch(url, {
              method: "POST",
              headers: headers(key),
              body: JSON.stringify({ requests }),
            });
            if (!res.ok) throw await geminiHttpError(res);
            const body = await readJson<{ embeddings?: { values?: number[] }[] }>("gemini", res);
            const e = googleErrorOf(body);
            if (e) throw fromGoogleError(e);
            if (!Array.isArray(body.embeddings) || body.embeddings.length !== requests.length) {
              throw upstreamFailed(
                "gemini",
                "batchEmbedContents answered without one embedding per text",
              );
            }
            for (const v of body.embeddings) out.push(v.values ?? []);
          }
          return out;
        },
      );
      const tokens = inputs.reduce((n, t) => n + countTokens(t), 0);
      return {
        data: vectors.map((v, index) => ({
          index,
          embedding: req.encoding_format === "base64"
            ? toBase64(new Uint8Array(new Float32Array(v).buffer))
            : v,
        })),
        usage: { prompt_tokens: tokens, total_tokens: tokens },
      };
    },
  };
}
