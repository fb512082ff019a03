/**
 * The `you` provider: you.com.
 *
 * By default through you.com's Agents API (`you.mode: api`): `POST /v1/agents/runs` with an API
 * key (the client's `ydc-sk-...` key, or the `you.api-key` pool), the conversation flattened into
 * the run's `input`, the answer streamed back with its web sources as numbered citations. Model
 * ids name agents (`models.ts`). The legacy web route (cookies, Cloudflare clearance by Chromium;
 * `web/`) runs only with `you.mode: web`.
 *
 * Agents have no tool calling of their own: the client's `tools` go through the server's prompt
 * emulator. The conversation is flattened, so the answer is cut where the agent starts writing
 * the next turn.
 *
 * @module
 */
import type { ChatRequest } from "../../openai/schema.ts";
import { keyPoolOptions, PoolSet, withAccount } from "../../pool/mod.ts";
import { countTokens } from "../../util/tokens.ts";
import { FLATTENED_TURNS } from "../combine.ts";
import type { Config } from "../../config/schema.ts";
import { clientCredential, type CredentialRule, poolNaming, poolReadiness } from "../readiness.ts";
import type {
  ChatContext,
  ChatEvent,
  ModelInfo,
  Provider,
  ProviderDeps,
  Readiness,
  ReadinessContext,
} from "../types.ts";
import { openRun } from "./api.ts";
import { agentModels, resolveAgent } from "./models.ts";
import { toYouRequest, youInput } from "./request.ts";
import { fromYouStream } from "./stream.ts";
import {
  createYouWebState,
  webChat,
  webModels,
  webRenderPrompt,
  webResolve,
  YOU_COOKIES,
} from "./web/mod.ts";

/** True when `token` looks like a you.com API key (`ydc-sk-...`). */
export function looksLikeYouKey(token: string): boolean {
  return token.startsWith("ydc-sk-");
}

/** The API mode's credentials: API keys in `you.api-key`. */
export const YOU_KEYS: CredentialRule = {
  key: "you.api-key",
  noun: "key",
  shape: "ydc-sk-…",
  matches: looksLikeYouKey,
};

/**
 * The client's key to use, or undefined for the pool: a key that does not look like a you.com
 * API key never displaces configured ones (with none configured it is tried as it is).
 */
export function clientKey(token: string | undefined, poolSize: number): string | undefined {
  return clientCredential(YOU_KEYS, token, poolSize);
}

/** Whether the mode in force can serve, and with what. */
function youReadiness(config: Config, ctx?: ReadinessContext): Readiness {
  const cfg = config.you;
  if (cfg.mode === "web") {
    const web = poolReadiness(config, YOU_COOKIES, cfg.cookies.length, ctx);
    const clearance = cfg.clearance
      ? "; Cloudflare's challenge passed by Chromium (browser.*)"
      : "";
    return { ...web, note: `web mode: ${web.note}${web.ready ? clearance : ""}` };
  }
  return poolReadiness(config, YOU_KEYS, cfg["api-key"].length, ctx);
}

/** One run through the API with the client's key or the pool's. */
async function* apiChat(
  pools: PoolSet,
  req: ChatRequest,
  ctx: ChatContext,
): AsyncGenerator<ChatEvent> {
  const cfg = ctx.config.you;
  const body = toYouRequest(req, ctx.route.upstreamModel, ctx.flags.charSequences);
  const pool = pools.get("you", cfg["api-key"], {
    ...keyPoolOptions(cfg),
    ...poolNaming(YOU_KEYS),
  });
  const http = ctx.upstream("you", cfg.proxies);
  yield* withAccount(
    pool,
    { token: clientKey(ctx.token, pool.size), signal: ctx.signal },
    async function* (key) {
      const events = await openRun(http, cfg["base-url"], key, body, cfg["quota-cooldown"]);
      for await (const ev of fromYouStream(events)) {
        // The API counts no tokens: the prompt's are the input's (the server counts the answer).
        if (ev.type === "finish") {
          yield { type: "usage", prompt_tokens: countTokens(body.input), completion_tokens: 0 };
        }
        yield ev;
      }
    },
  );
}

/** Creates the `you` provider. */
export function createYouProvider(deps: ProviderDeps): Provider {
  const pools = new PoolSet(deps.log);
  const web = createYouWebState(deps);
  return {
    id: "you",
    turnMarkers: FLATTENED_TURNS,
    pools: () => [...pools.state(), ...web.pools.state()],
    readiness: youReadiness,

    // Listed only while ready (the registry asks `readiness` first).
    models(config): ModelInfo[] {
      if (config.you.mode === "web") return webModels(config);
      return agentModels(config).map((id) => ({ id, owned_by: "you" }));
    },

    resolve(model, config) {
      if (config.you.mode === "web") return webResolve(model, config);
      const agent = resolveAgent(model, config);
      return agent === undefined ? undefined : { upstreamModel: agent, toolMode: "emulated" };
    },

    renderPrompt(req, ctx) {
      if (ctx.config.you.mode === "web") return webRenderPrompt(req, ctx);
      return youInput(req, ctx.flags.charSequences);
    },

    chat(req, ctx) {
      return ctx.config.you.mode === "web" ? webChat(web, req, ctx) : apiChat(pools, req, ctx);
    },
  };
}
