/**
 * The `gemini` provider: Google's Gemini API with an AI Studio key (the client's, or one of the
 * `gemini.keys` pool, sent as `x-goog-api-key`, never in a URL). Streams come from
 * `:streamGenerateContent?alt=sse`, whole answers from `:generateContent`, embeddings from
 * `:batchEmbedContents`. Tools are native unless `gemini.tc` asks for the prompt emulator.
 * Shut-down model ids resolve to their successors, with a warning the first time each is asked
 * for; models are discovered from the API (`catalog.ts`).
 *
 * @module
 */
import { expectType, readJson } from "../../net/http.ts";
import { readSse } from "../../net/sse.ts";
import type { ChatRequest, EmbeddingRequest } from "../../openai/schema.ts";
import { keyPoolOptions, type Pool, PoolSet, useAccount, withAccount } from "../../pool/mod.ts";
import { clientCredential, type CredentialRule, poolNaming, poolReadiness } from "../readiness.ts";
import type { ChatContext, ChatEvent, EmbeddingResult, Provider, ProviderDeps } from "../types.ts";
import { GeminiCatalog } from "./catalog.ts";
import { embedInputs, geminiEmbed } from "./embed.ts";
import { geminiHttpError } from "./errors.ts";
import { withTopK } from "./generation.ts";
import {
  apiModel,
  defaultTopK,
  GEMINI_CHAT_MODELS,
  GEMINI_EMBEDDING_MODEL,
  isGeminiModel,
  maxCandidates,
  successorOf,
} from "./models.ts";
import { type GeminiRequest, toGeminiRequest } from "./request.ts";
import { SignatureCache } from "./signatures.ts";
import { fromGeminiStream, GeminiMapper, type GeminiResponse } from "./stream.ts";

/** Gemini API keys: AI Studio's `AIza…` (Google API keys), in `gemini.keys`. */
export const GEMINI_KEYS: CredentialRule = {
  key: "gemini.keys",
  noun: "key",
  shape: "AIza…",
  matches: (token) => /^AIza[0-9A-Za-z_-]{30,}$/.test(token.trim()),
};

function keyPool(pools: PoolSet, ctx: ChatContext): Pool {
  const g = ctx.config.gemini;
  return pools.get("gemini", g.keys, { ...keyPoolOptions(g), ...poolNaming(GEMINI_KEYS) });
}

/** The client's key (an `AIza…` one, or any when no key is configured) or the pool's. */
function withKey(pools: PoolSet, ctx: ChatContext) {
  const pool = keyPool(pools, ctx);
  const token = clientCredential(GEMINI_KEYS, ctx.token, pool.size);
  return { pool, options: { token, signal: ctx.signal } };
}

/** What the provider keeps for all its requests. */
interface State {
  signatures: SignatureCache;
  catalog: GeminiCatalog;
}

async function* attempt(
  built: GeminiRequest,
  stream: boolean,
  key: string,
  ctx: ChatContext,
  state: State,
): AsyncGenerator<ChatEvent> {
  const g = ctx.config.gemini;
  const model = ctx.route.upstreamModel;
  const http = ctx.upstream("gemini", g.proxies);
  let body = built.body;
  if (built.topK !== undefined) {
    const limit = await state.catalog.topK(ctx.config, model, key, http) ?? defaultTopK(model);
    body = withTopK(body, built.topK, limit);
  }
  const method = stream ? "streamGenerateContent?alt=sse" : "generateContent";
  const url = `${g["base-url"]}/v1beta/models/${encodeURIComponent(model)}:${method}`;
  const res = await http.fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", "x-goog-api-key": key },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw await geminiHttpError(res);
  const mapper = new GeminiMapper(built.names, state.signatures, built.parallel);
  if (!stream) {
    yield* mapper.map(await readJson<GeminiResponse>("gemini", res));
    yield* mapper.end();
    return;
  }
  await expectType("gemini", res, ["text/event-stream"]);
  yield* fromGeminiStream(readSse(res.body!), mapper);
}

/** Creates the `gemini` provider. */
export function createGeminiProvider(deps: ProviderDeps): Provider {
  const pools = new PoolSet(deps.log);
  /** Thought signatures by tool call id, for clients that drop them. */
  const state: State = { signatures: new SignatureCache(), catalog: new GeminiCatalog() };
  /** Shut-down ids already warned about (once each per instance). */
  const warned = new Set<string>();

  function build(req: ChatRequest, ctx: ChatContext, fetchImages: boolean) {
    return toGeminiRequest(req, {
      config: ctx.config,
      model: ctx.route.upstreamModel,
      signatures: state.signatures,
      upstream: fetchImages ? ctx.upstream : undefined,
      signal: ctx.signal,
      log: ctx.log,
    });
  }

  return {
    id: "gemini",
    nativeChoices: true,

    pools: () => pools.state(),

    readiness: (config, ctx) => poolReadiness(config, GEMINI_KEYS, config.gemini.keys.length, ctx),

    async models(config, ctx = {}) {
      const found = await state.catalog.models(config, ctx);
      const ids = [
        ...found ?? [...GEMINI_CHAT_MODELS, GEMINI_EMBEDDING_MODEL],
        ...config.gemini.models,
      ];
      return [...new Set(ids)].map((id) => ({ id, owned_by: "gemini" }));
    },

    resolve(model, config) {
      if (!isGeminiModel(model, config) && !state.catalog.known(config)?.includes(model)) {
        return undefined;
      }
      const next = successorOf(model);
      if (next && !warned.has(model)) {
        warned.add(model);
        deps.log.warn(
          `gemini: '${model}' is shut down at Google; requests for it go to '${next.model}'`,
        );
      }
      const upstreamModel = next?.model ?? apiModel(model);
      return {
        upstreamModel,
        toolMode: config.gemini.tc ? "emulated" : "native",
        // Gemini 3 answers one candidate per call: the pipeline asks `n` times.
        nativeChoices: maxCandidates(upstreamModel) > 1,
        data: next?.dimensions ? { dimensions: next.dimensions } : undefined,
      };
    },

    async *chat(req: ChatRequest, ctx: ChatContext): AsyncGenerator<ChatEvent> {
      const built = await build(req, ctx, true);
      const stream = req.stream === true;
      const { pool, options } = withKey(pools, ctx);
      yield* withAccount(pool, options, (key) => attempt(built, stream, key, ctx, state));
    },

    async renderPrompt(req: ChatRequest, ctx: ChatContext): Promise<string> {
      return JSON.stringify((await build(req, ctx, false)).body, null, 2);
    },

    async embed(req: EmbeddingRequest, ctx: ChatContext): Promise<EmbeddingResult> {
      const inputs = embedInputs(req);
      const g = ctx.config.gemini;
      const http = ctx.upstream("gemini", g.proxies);
      const dimensions = (ctx.route.data as { dimensions?: number } | undefined)?.dimensions;
      const { pool, options } = withKey(pools, ctx);
      return await useAccount(
        pool,
        options,
        (key) =>
          geminiEmbed(req, inputs, {
            model: ctx.route.upstreamModel,
            base: g["base-url"],
            key,
            http,
            dimensions,
          }),
      );
    },
  };
}
