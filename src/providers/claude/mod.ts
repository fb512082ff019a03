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
import { withAccount } from "../../pool/mod.ts";
import { countTokens, TokenCounter } from "../../util/tokens.ts";
import type { ChatContext, ChatEvent, ChatProvider, ModelInfo } from "../types.ts";
import { ClaudeWeb, completionBody } from "./api.ts";
import { claudeConversation } from "./prompt.ts";
import { ClaudeStreamMapper } from "./stream.ts";

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

/** Deletions still running after their request ended (awaited at shutdown and by tests). */
const cleanups = new Set<Promise<void>>();

/** Resolves when every conversation deletion started so far has finished. */
export async function pendingCleanups(): Promise<void> {
  while (cleanups.size > 0) await Promise.allSettled([...cleanups]);
}

function renderConversation(req: ChatRequest, ctx: ChatContext): string {
  return claudeConversation(req.messages, ctx.flags, ctx.config.claude.pad);
}

/** One attempt with one session key. */
async function* attempt(
  ctx: ChatContext,
  secret: string,
  conversation: string,
): AsyncGenerator<ChatEvent> {
  const cfg = ctx.config.claude;
  const http = ctx.upstream("claude", cfg.proxies);
  const api = new ClaudeWeb(http, cfg["base-url"], secret);
  const org = await api.organization();
  const explicit = upstreamModel(ctx.model);
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
    const counter = new TokenCounter();
    for await (const ev of events) {
      for (const out of mapper.map(ev)) {
        if (out.type === "text" || out.type === "reasoning") counter.push(out.text);
        yield out;
      }
      if (mapper.done) break;
    }
    if (!mapper.produced) throw upstreamFailed("claude", "the answer was empty");
    yield {
      type: "usage",
      prompt_tokens: countTokens(conversation),
      completion_tokens: counter.total,
    };
    yield { type: "finish", reason: mapper.finish ?? "stop" };
  } finally {
    // The request's own signal may be aborted (client gone): delete with a detached client.
    const done = api.deleteConversation(http.detached(), org, conv).catch((err) => {
      ctx.log.warn(`claude: deleting conversation ${conv} failed: ${(err as Error).message}`);
    });
    cleanups.add(done);
    done.finally(() => cleanups.delete(done));
  }
}

/** The `claude` provider. */
export const claudeProvider: ChatProvider = {
  id: "claude",
  flattens: true,
  close: pendingCleanups,

  models(config: Config): ModelInfo[] {
    // Without cookies, only a client sending its own session key can use it (no password).
    const usable = config.claude.cookies.length > 0 || config.server.password.length === 0;
    return usable ? CLAUDE_MODELS.map((id) => ({ id, owned_by: "claude" })) : [];
  },

  matches(model: string): boolean {
    return model === "claude" || model.startsWith("claude-");
  },

  toolMode() {
    return "emulated";
  },

  renderPrompt(req: ChatRequest, ctx: ChatContext): string {
    return renderConversation(req, ctx);
  },

  chat(req: ChatRequest, ctx: ChatContext): AsyncIterable<ChatEvent> {
    const cfg = ctx.config.claude;
    const conversation = renderConversation(req, ctx);
    const pool = ctx.pools.get("claude", cfg.cookies, {
      concurrency: cfg.concurrency ?? 1,
      cooldown: cfg.cooldown ?? CLAUDE_COOLDOWN,
    });
    return withAccount(
      pool,
      { token: clientCookie(ctx), signal: ctx.signal },
      (secret) => attempt(ctx, secret, conversation),
    );
  },
};
