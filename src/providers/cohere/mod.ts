/**
 * The `cohere` provider: Cohere's v2 API with an API key (the client's, or one of the
 * `cohere.keys` pool, sent as `Authorization: Bearer`). Chats go to `/v2/chat` as an event stream
 * with native tools (unless `cohere.tc` asks for the prompt emulator); `<notebook />` sends the
 * flattened conversation as one user message to the same endpoint (`/v1/generate` is retired);
 * embeddings go to `/v2/embed`. Retired model ids resolve to their successors, with a warning the
 * first time each is asked for.
 *
 * @module
 */
import { expectType } from "../../net/http.ts";
import { readSse } from "../../net/sse.ts";
import type { ChatRequest, EmbeddingRequest } from "../../openai/schema.ts";
import { keyPoolOptions, type Pool, PoolSet, useAccount, withAccount } from "../../pool/mod.ts";
import { countTokens } from "../../util/tokens.ts";
import type {
  ChatContext,
  ChatEvent,
  EmbeddingResult,
  ModelInfo,
  Provider,
  ProviderDeps,
} from "../types.ts";
import { clientCredential, type CredentialRule, poolNaming, poolReadiness } from "../readiness.ts";
import { CohereCatalog } from "./catalog.ts";
import { cohereEmbed, toCohereEmbed } from "./embed.ts";
import { cohereHttpError } from "./errors.ts";
import {
  COHERE_CHAT_MODELS,
  COHERE_EMBED_MODELS,
  isCohereChatModel,
  isCohereEmbedModel,
  RETIRED,
} from "./models.ts";
import { type CohereRequest, notebookPrompt, toCohereRequest } from "./request.ts";
import { fromCohereStream } from "./stream.ts";

/**
 * Cohere API keys, in `cohere.keys`. Cohere documents no shape; the 40 letters and digits of the
 * keys its dashboard issues are what secret scanners match, so only those displace configured keys.
 */
export const COHERE_KEYS: CredentialRule = {
  key: "cohere.keys",
  noun: "key",
  matches: (token) => /^[A-Za-z0-9]{40}$/.test(token.trim()),
};

function keyPool(pools: PoolSet, ctx: ChatContext): Pool {
  const c = ctx.config.cohere;
  return pools.get("cohere", c.keys, { ...keyPoolOptions(c), ...poolNaming(COHERE_KEYS) });
}

/** The client's key (one of Cohere's shape, or any when no key is configured) or the pool's. */
function withKey(pools: PoolSet, ctx: ChatContext) {
  const pool = keyPool(pools, ctx);
  const token = clientCredential(COHERE_KEYS, ctx.token, pool.size);
  return { pool, options: { token, signal: ctx.signal } };
}

async function* attempt(built: CohereRequest, key: string, ctx: ChatContext) {
  const c = ctx.config.cohere;
  const http = ctx.upstream("cohere", c.proxies);
  const res = await http.fetch(`${c["base-url"]}/v2/chat`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "text/event-stream",
      authorization: `Bearer ${key}`,
    },
    body: JSON.stringify(built.body),
  });
  if (!res.ok) throw await cohereHttpError(res);
  await expectType("cohere", res, ["text/event-stream"]);
  yield* fromCohereStream(readSse(res.body!), built.names);
}

/** Creates the `cohere` provider. */
export function createCohereProvider(deps: ProviderDeps): Provider {
  const pools = new PoolSet(deps.log);
  const catalog = new CohereCatalog();
  /** Retired ids already warned about (once each per instance). */
  const warned = new Set<string>();

  function successor(model: string): string {
    const next = RETIRED[model];
    if (!next) return model;
    if (!warned.has(model)) {
      warned.add(model);
      deps.log.warn(`cohere: '${model}' is retired at Cohere; requests for it go to '${next}'`);
    }
    return next;
  }

  function build(req: ChatRequest, ctx: ChatContext): CohereRequest {
    return toCohereRequest(req, {
      config: ctx.config,
      model: ctx.route.upstreamModel,
      flags: ctx.flags,
      log: ctx.log,
    });
  }

  return {
    id: "cohere",

    pools: () => pools.state(),

    readiness: (config, ctx) => poolReadiness(config, COHERE_KEYS, config.cohere.keys.length, ctx),

    async models(config, ctx = {}) {
      const chat = await catalog.chatModels(config, ctx) ?? COHERE_CHAT_MODELS;
      const ids = [...chat, ...COHERE_EMBED_MODELS, ...config.cohere.models];
      return [...new Set(ids)].map((id): ModelInfo => ({ id, owned_by: "cohere" }));
    },

    resolve(model, config) {
      const toolMode = config.cohere.tc ? "emulated" : "native";
      if (isCohereEmbedModel(model)) return { upstreamModel: successor(model), toolMode };
      if (isCohereChatModel(model, config) || catalog.known(config)?.includes(model)) {
        return { upstreamModel: successor(model), toolMode };
      }
      return undefined;
    },

    chat(req: ChatRequest, ctx: ChatContext): AsyncIterable<ChatEvent> {
      const built = build(req, ctx);
      const { pool, options } = withKey(pools, ctx);
      return withAccount(pool, options, (key) => attempt(built, key, ctx));
    },

    renderPrompt(req: ChatRequest, ctx: ChatContext): string {
      if (ctx.flags.notebook) return notebookPrompt(req, ctx.flags);
      return JSON.stringify(build(req, ctx).body, null, 2);
    },

    async embed(req: EmbeddingRequest, ctx: ChatContext): Promise<EmbeddingResult> {
      const c = ctx.config.cohere;
      const bodies = toCohereEmbed(req, ctx.route.upstreamModel, c["embed-input-type"]);
      const http = ctx.upstream("cohere", c.proxies);
      const { pool, options } = withKey(pools, ctx);
      const result = await useAccount(
        pool,
        options,
        (key) => cohereEmbed(bodies, `${c["base-url"]}/v2/embed`, key, http),
      );
      if (result.usage.prompt_tokens === 0) {
        // Cohere did not say: count the texts as OpenAI would.
        const n = bodies.flatMap((b) => b.texts as string[]).reduce(
          (s, t) => s + countTokens(t),
          0,
        );
        result.usage = { prompt_tokens: n, total_tokens: n };
      }
      return result;
    },
  };
}
