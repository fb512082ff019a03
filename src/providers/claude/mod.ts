/**
 * The `claude` provider: claude.ai's web chat through session-key cookies (`claude.cookies`, or
 * the client's own `Authorization`). Models `claude`, `claude-3` (the account's default model)
 * and any `claude-*` id (sent as it is). Each request gets a new conversation whose only message
 * is the whole conversation as a `paste.txt` attachment; the conversation is deleted afterwards,
 * also when the client left.
 *
 * @module
 */
import type { Config } from "../../config/schema.ts";
import { upstreamFailed } from "../../openai/errors.ts";
import type { ChatRequest } from "../../openai/schema.ts";
import { PoolSet, withAccount } from "../../pool/mod.ts";
import { Background } from "../../util/background.ts";
import { countTokens } from "../../util/tokens.ts";
import { guardAnswer } from "../answer.ts";
import { FLATTENED_TURNS } from "../combine.ts";
import type { ChatContext, ChatEvent, ModelInfo, Provider, ProviderDeps } from "../types.ts";
import { type AccountInfo, ClaudeWeb, completionBody } from "./api.ts";
import { claudeConversation } from "./prompt.ts";
import { ClaudeStreamMapper } from "./stream.ts";
import type { SseEvent } from "../../net/sse.ts";

/** Models listed by `/v1/models` (`claude` and `claude-3` mean the account's default model). */
export const CLAUDE_MODELS = [
  "claude",
  "claude-3",
  "claude-3-haiku-20240307",
  "claude-3-sonnet-20240229",
  "claude-3-5-sonnet-20240620",
  "claude-3-opus-20240229",
];

/** Seconds an account rests after a 429 that does not say when the limit resets. */
export const CLAUDE_COOLDOWN = 3600;

/** The model to send upstream, or undefined for the account's default. */
export function upstreamModel(model: string): string | undefined {
  return model === "claude" || model === "claude-3" ? undefined : model;
}

/** True for a credential shaped like a claude.ai session key (or a cookie string with one). */
export function looksLikeSessionKey(token: string): boolean {
  return /^sk-ant-/.test(token.trim()) || token.includes("sessionKey=");
}

/**
 * The client's credential when it should be used: always when no cookies are configured,
 * otherwise only when it looks like a session key (clients often send a placeholder key).
 */
function clientCookie(ctx: ChatContext): string | undefined {
  const token = ctx.token;
  if (!token) return undefined;
  if (ctx.config.claude.cookies.length === 0 || looksLikeSessionKey(token)) return token;
  return undefined;
}

function renderConversation(req: ChatRequest, ctx: ChatContext): string {
  return claudeConversation(req.messages, ctx.flags, ctx.config.claude.pad);
}

/** What one claude provider keeps across requests. */
interface ClaudeState {
  accounts: Map<string, AccountInfo>;
  background: Background;
}

/** One attempt with one session key. */
async function* attempt(
  ctx: ChatContext,
  secret: string,
  conversation: string,
  state: ClaudeState,
): AsyncGenerator<ChatEvent> {
  const cfg = ctx.config.claude;
  const http = ctx.upstream("claude", cfg.proxies);
  const api = new ClaudeWeb(http, cfg["base-url"], secret, state.accounts);
  const org = await api.organization();
  const explicit = upstreamModel(ctx.route.model);
  // statsig is needed for the default model; for a named one it only tells Pro accounts apart.
  const defaults = explicit
    ? await api.defaults().catch(() => ({ model: undefined, pro: false }))
    : await api.defaults();
  const model = explicit ?? defaults.model;
  if (!model) {
    throw upstreamFailed("claude", "statsig did not name the account's default model");
  }
  const conv = await api.createConversation(org, defaults.pro ? model : undefined);
  try {
    const events = await api.completion(org, conv, completionBody(model, conversation));
    const mapper = new ClaudeStreamMapper(model);
    yield* guardAnswer(fromClaudeStream(events, mapper), {
      provider: "claude",
      promptTokens: countTokens(conversation),
    });
  } finally {
    // The request's own signal may be aborted (client gone): delete with a detached client.
    state.background.track(api.deleteConversation(http.detached(), org, conv), (err) => {
      ctx.log.warn(`claude: deleting conversation ${conv} failed: ${(err as Error).message}`);
    });
  }
}

/** The events of a completion stream, up to its end. */
async function* fromClaudeStream(
  events: AsyncIterable<SseEvent>,
  mapper: ClaudeStreamMapper,
): AsyncGenerator<ChatEvent> {
  for await (const ev of events) {
    yield* mapper.map(ev);
    if (mapper.done) break;
  }
  yield { type: "finish", reason: mapper.finish ?? "stop" };
}

/** Creates the `claude` provider. */
export function createClaudeProvider(deps: ProviderDeps): Provider {
  const pools = new PoolSet(deps.log);
  const state: ClaudeState = { accounts: new Map(), background: new Background() };
  return {
    id: "claude",
    turnMarkers: FLATTENED_TURNS,
    pools: () => pools.state(),
    settled: () => state.background.settled(),
    close: () => state.background.settled(),

    models(config: Config): ModelInfo[] {
      // Without cookies, only a client sending its own session key can use it (no password).
      const usable = config.claude.cookies.length > 0 || config.server.password.length === 0;
      return usable ? CLAUDE_MODELS.map((id) => ({ id, owned_by: "claude" })) : [];
    },

    resolve(model) {
      if (model !== "claude" && !model.startsWith("claude-")) return undefined;
      return { upstreamModel: model, toolMode: "emulated" };
    },

    renderPrompt(req: ChatRequest, ctx: ChatContext): string {
      return renderConversation(req, ctx);
    },

    chat(req: ChatRequest, ctx: ChatContext): AsyncIterable<ChatEvent> {
      const cfg = ctx.config.claude;
      const conversation = renderConversation(req, ctx);
      const pool = pools.get("claude", cfg.cookies, {
        concurrency: cfg.concurrency ?? 1,
        cooldown: cfg.cooldown ?? CLAUDE_COOLDOWN,
      });
      return withAccount(
        pool,
        { token: clientCookie(ctx), signal: ctx.signal },
        (secret) => attempt(ctx, secret, conversation, state),
      );
    },
  };
}
