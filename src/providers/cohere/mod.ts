/**
 * The `cohere` provider: Cohere's v1 API with an API key (the client's, or one of the
 * `cohere.keys` pool, sent as `Authorization: Bearer`). Chats go to `/v1/chat` as an NDJSON
 * stream with native tools (unless `cohere.tc` asks for the prompt emulator); `<notebook />` uses
 * `/v1/generate` with a flattened prompt, as the original did.
 *
 * @module
 */
import type { ChatRequest } from "../../openai/schema.ts";
import { keyPoolOptions, type Pool, PoolSet, withAccount } from "../../pool/mod.ts";
import { COHERE_NAMES, ToolNames } from "../gemini/names.ts";
import type { ChatContext, ChatEvent, Provider, ProviderDeps } from "../types.ts";
import { cohereModels, isCohereModel } from "./models.ts";
import { buildChat, buildGenerate, notebookPrompt } from "./request.ts";
import { type CohereEvent, CohereMapper } from "./stream.ts";

function keyPool(pools: PoolSet, ctx: ChatContext): Pool {
  const c = ctx.config.cohere;
  return pools.get("cohere", c.keys, keyPoolOptions(c));
}

async function* attempt(
  path: "/v1/chat" | "/v1/generate",
  body: Record<string, unknown>,
  names: ToolNames,
  key: string,
  ctx: ChatContext,
): AsyncGenerator<ChatEvent> {
  const c = ctx.config.cohere;
  const http = ctx.upstream("cohere", c.proxies);
  // `ndjson` takes Cohere's `application/stream+json` (the original's issue #44 refused it).
  const events = await http.ndjson(`${c["base-url"]}${path}`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/stream+json",
      authorization: `Bearer ${key}`,
    },
    body: JSON.stringify(body),
  });
  const mapper = new CohereMapper(names);
  for await (const ev of events) yield* mapper.map(ev as CohereEvent);
}

/** Creates the `cohere` provider. */
export function createCohereProvider(deps: ProviderDeps): Provider {
  const pools = new PoolSet(deps.log);
  return {
    id: "cohere",

    pools: () => pools.state(),

    models(config) {
      return cohereModels(config);
    },

    resolve(model, config) {
      if (!isCohereModel(model, config)) return undefined;
      return { upstreamModel: model, toolMode: config.cohere.tc ? "emulated" : "native" };
    },

    chat(req: ChatRequest, ctx: ChatContext): AsyncIterable<ChatEvent> {
      const notebook = ctx.flags.notebook;
      const model = ctx.route.upstreamModel;
      const built = notebook
        ? { body: buildGenerate(req, ctx.flags, model), names: new ToolNames(COHERE_NAMES) }
        : buildChat(req, ctx.config, model);
      const path = notebook ? "/v1/generate" : "/v1/chat";
      return withAccount(
        keyPool(pools, ctx),
        { token: ctx.token, signal: ctx.signal },
        (key) => attempt(path, built.body, built.names, key, ctx),
      );
    },

    renderPrompt(req: ChatRequest, ctx: ChatContext): string {
      if (ctx.flags.notebook) return notebookPrompt(req, ctx.flags);
      return JSON.stringify(buildChat(req, ctx.config, ctx.route.upstreamModel).body, null, 2);
    },
  };
}
