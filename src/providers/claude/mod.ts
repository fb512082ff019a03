/**
 * The `claude` provider: claude.ai's web chat through session-key cookies (`claude.cookies`, or
 * the client's own `Authorization`), as the site works today (reference section 2): bootstrap and
 * the organization that can chat, a temporary conversation per request, extended thinking on paid
 * plans, the whole conversation as a `paste.txt` attachment, and either stream rendering.
 *
 * Models: `claude` / `claude-3` (the account's default), the current ids and their `-thinking`
 * variants, and retired ids mapped to current ones (`models.ts`). Requests leave through the
 * chrome transport by default (`claude.transport`); `claude.base-url` may also be
 * `https://api.anthropic.com`, which answers the same `/api/...` paths for session keys (clewdr).
 *
 * @module
 */
import { GatewayError } from "../../openai/errors.ts";
import type { ChatRequest } from "../../openai/schema.ts";
import { PoolSet, withAccount } from "../../pool/mod.ts";
import { countTokens } from "../../util/tokens.ts";
import { guardAnswer } from "../answer.ts";
import { FLATTENED_TURNS } from "../combine.ts";
import type { ChatContext, ChatEvent, ModelInfo, Provider, ProviderDeps } from "../types.ts";
import { looksLikeSessionKey } from "./account.ts";
import { type CachedAccount, ClaudeWeb } from "./api.ts";
import { type ClaudeModel, claudeModel, listedModels } from "./models.ts";
import { claudeConversation } from "./prompt.ts";
import { toClaudeRequest } from "./request.ts";
import { fromClaudeStream } from "./stream.ts";
import { clientCredential, type CredentialRule, poolReadiness } from "../readiness.ts";

/** Seconds an account rests after a 429 that does not say when the limit resets (clewdr: 1 h). */
export const CLAUDE_COOLDOWN = 3600;

/**
 * The client's credential when it should be used: always when no cookies are configured,
 * otherwise only when it looks like a session key (clients often send a placeholder key).
 */
function clientCookie(ctx: ChatContext): string | undefined {
  return clientCredential(SESSION_KEYS, ctx.token, ctx.config.claude.cookies.length);
}

/** Where claude's credentials live, and how a client's own session key looks. */
const SESSION_KEYS: CredentialRule = {
  key: "claude.cookies",
  noun: "session key",
  shape: "sk-ant-sid0…",
  matches: looksLikeSessionKey,
};

function renderConversation(req: ChatRequest, ctx: ChatContext): string {
  return claudeConversation(req.messages, ctx.flags, ctx.config.claude.pad);
}

/** One attempt with one session key. */
async function* attempt(
  req: ChatRequest,
  ctx: ChatContext,
  secret: string,
  conversation: string,
  accounts: Map<string, CachedAccount>,
): AsyncGenerator<ChatEvent> {
  const cfg = ctx.config.claude;
  const model = ctx.route.data as ClaudeModel;
  const api = new ClaudeWeb(ctx.upstream("claude", cfg.proxies), cfg["base-url"], secret, accounts);
  const account = await api.account();
  if (account.notes.length > 0) ctx.log.debug(`claude: account flags: ${account.notes.join(", ")}`);
  if (!account.paid && model.id) {
    ctx.log.debug(`claude: free plan, the account's default model answers for ${ctx.route.model}`);
  }
  const { body, thinking } = toClaudeRequest(req, {
    conversation,
    model,
    paid: account.paid,
    prompt: cfg.prompt,
  });
  const conv = await api.createConversation(account.org);
  if (thinking) {
    try {
      await api.setThinking(account.org, conv);
    } catch (err) {
      // Thinking is a wish, not the request: answer without it unless the account is at fault.
      if (!(err instanceof GatewayError) || [401, 403, 429].includes(err.status)) throw err;
      ctx.log.warn(`claude: extended thinking could not be turned on: ${err.message}`);
    }
  }
  const events = await api.completion(account.org, conv, body, ctx.route.model);
  yield* guardAnswer(fromClaudeStream(events, ctx.route.model), {
    provider: "claude",
    promptTokens: countTokens(conversation) + countTokens(body.prompt),
  });
}

/** Creates the `claude` provider. */
export function createClaudeProvider(deps: ProviderDeps): Provider {
  const pools = new PoolSet(deps.log);
  const accounts = new Map<string, CachedAccount>();
  return {
    id: "claude",
    turnMarkers: FLATTENED_TURNS,
    pools: () => pools.state(),

    models(): ModelInfo[] {
      // Listed when ready (the registry asks `readiness` first, with the request's credential).
      return listedModels().map((id) => ({ id, owned_by: "claude" }));
    },

    readiness(config, ctx) {
      return poolReadiness(config, SESSION_KEYS, config.claude.cookies.length, ctx);
    },

    resolve(model) {
      const m = claudeModel(model);
      if (!m) return undefined;
      return { upstreamModel: m.id ?? "default", toolMode: "emulated", data: m };
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
        (secret) => attempt(req, ctx, secret, conversation, accounts),
      );
    },
  };
}
