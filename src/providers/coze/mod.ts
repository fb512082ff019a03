/**
 * The `coze` provider: Coze bots as models.
 *
 * By default through Coze's official API (`coze.mode: api`): `POST /v3/chat` with a personal
 * access token (the client's `pat_...` key, or the `coze.tokens` pool), the conversation as
 * `additional_messages`, the answer streamed back (text, reasoning, usage). The legacy web route
 * (cookies, request signing, the web SDK; `web/`) runs only with `coze.mode: web`.
 *
 * Coze bots call their own plugins; the client's `tools` go through the server's prompt
 * emulator. The provider doubles as the `coze` image backend (`paint`).
 *
 * @module
 */
import type { Config } from "../../config/schema.ts";
import type { ChatRequest } from "../../openai/schema.ts";
import { withAccount } from "../../pool/mod.ts";
import type { Logger } from "../../util/log.ts";
import { countTokens } from "../../util/tokens.ts";
import type {
  ChatContext,
  ChatEvent,
  ListContext,
  ModelInfo,
  Provider,
  ProviderDeps,
  RequestContext,
} from "../types.ts";
import { clientToken, tokenPool } from "./account.ts";
import { listBots, openChat } from "./api.ts";
import { checkImageUrls, uploadDataImages } from "./files.ts";
import { configuredModels, type CozeTarget, defaultBot, resolveTarget } from "./models.ts";
import { apiPaint } from "./paint.ts";
import { cozeReadiness } from "./readiness.ts";
import { cozeTurns, toCozeRequest } from "./request.ts";
import { type CozeState, createCozeState } from "./state.ts";
import { fromCozeStream } from "./stream.ts";
import { webChat, webPaint, webRenderPrompt, webResolve } from "./web/mod.ts";

/** How long a workspace's bot list is kept, and a failed listing remembered. */
const LIST_TTL_MS = 5 * 60_000;
const LIST_FAILED_TTL_MS = 60_000;

/** The bot of this request: the route's, else the default bot for the prompt's length. */
function botOf(req: ChatRequest, ctx: ChatContext): string {
  const target = ctx.route.data as CozeTarget | undefined;
  if (target?.botId) return target.botId;
  const text = cozeTurns(req).map((t) => t.text).join("\n");
  return defaultBot(ctx.config, countTokens(text));
}

/** One chat through the API with the client's token or the pool's. */
async function* apiChat(
  state: CozeState,
  req: ChatRequest,
  ctx: ChatContext,
): AsyncGenerator<ChatEvent> {
  const cfg = ctx.config.coze;
  const turns = cozeTurns(req);
  checkImageUrls(turns);
  const botId = botOf(req, ctx);
  const http = ctx.upstream("coze", cfg.proxies);
  const pool = tokenPool(state, ctx.config);
  yield* withAccount(
    pool,
    { token: clientToken(ctx.token, pool.size), signal: ctx.signal },
    async function* (token) {
      // Files belong to the token's account: uploaded with the token that chats.
      const files = await uploadDataImages(turns, http, cfg["base-url"], token);
      const body = toCozeRequest(req, { botId, userId: cfg["user-id"], files });
      const chat = await openChat(http, cfg["base-url"], token, body);
      yield* fromCozeStream(chat.events, { logid: chat.logid });
    },
  );
}

/** The bots of `coze.workspace-id` published to the API channel (kept a while; [] on failure). */
async function discovered(
  state: CozeState,
  config: Config,
  ctx: ListContext,
  log: Logger,
): Promise<string[]> {
  const c = config.coze;
  const workspace = c["workspace-id"];
  const token = c.tokens[0];
  if (!workspace || !token || !ctx.upstream) return [];
  const key = `${c["base-url"]}\n${workspace}`;
  const hit = state.discovered.get(key);
  if (hit && hit.until > Date.now()) return hit.ids;
  let ids: string[] = [];
  let ttl = LIST_TTL_MS;
  try {
    ids = await listBots(ctx.upstream("coze", c.proxies), c["base-url"], token, workspace);
  } catch (err) {
    log.warn(`coze: listing the bots of workspace ${workspace} failed: ${(err as Error).message}`);
    ttl = LIST_FAILED_TTL_MS;
  }
  state.discovered.set(key, { until: Date.now() + ttl, ids });
  return ids;
}

/** Creates the `coze` provider (which also paints, for the `coze` image backend). */
export function createCozeProvider(deps: ProviderDeps): Provider {
  const state = createCozeState(deps.log);
  return {
    id: "coze",
    pools: () => state.pools.state(),
    readiness: cozeReadiness,
    settled: () => state.background.settled(),
    close: () => state.background.settled(),

    async models(config, ctx = {}): Promise<ModelInfo[]> {
      if (config.coze.mode === "web") {
        return config.coze["8k"] ? [{ id: "coze", owned_by: "coze" }] : [];
      }
      const ids = configuredModels(config);
      for (const id of await discovered(state, config, ctx, deps.log)) ids.push(`coze/${id}`);
      return [...new Set(ids)].map((id) => ({ id, owned_by: "coze" }));
    },

    resolve(model, config) {
      if (config.coze.mode === "web") return webResolve(model);
      const target = resolveTarget(model, config);
      if (!target) return undefined;
      return { upstreamModel: target.botId ?? "coze", toolMode: "emulated", data: target };
    },

    renderPrompt(req, ctx) {
      if (ctx.config.coze.mode === "web") return webRenderPrompt(req, ctx);
      const cfg = ctx.config.coze;
      const body = toCozeRequest(req, { botId: botOf(req, ctx), userId: cfg["user-id"] });
      return JSON.stringify(body, null, 2);
    },

    chat(req, ctx) {
      return ctx.config.coze.mode === "web" ? webChat(state, req, ctx) : apiChat(state, req, ctx);
    },

    paint(prompt: string, ctx: RequestContext, credential?: string) {
      return ctx.config.coze.mode === "web"
        ? webPaint(state, prompt, ctx, credential)
        : apiPaint(state, prompt, ctx, credential);
    },
  };
}
