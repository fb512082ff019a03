/**
 * The `you` provider: you.com's chat through its web API, models `you/<mode>`.
 *
 * you.com sits behind Cloudflare's challenge, so API calls reuse a clearance a real Chromium earned
 * (`ClearanceService` of `src/browser/`): the site is opened with the account's cookies,
 * `cf_clearance` and the user agent are kept until Cloudflare challenges a call, then the
 * challenge is passed again and the call retried once. One clearance per site and proxy (it is
 * bound to the user agent and the address, not the account, and concurrent requests of different
 * accounts share one run): requests arriving meanwhile wait for it. A challenge never sets an
 * account aside; you.com's own 403 does.
 *
 * Accounts come from the `you.cookies` pool (one request per account at a time unless
 * `you.concurrency` says more). Before each answer the account's quota is checked
 * (`getYouProState`); an exhausted account rests `you.quota-cooldown` seconds and the next one is
 * tried, as after a 403 of you.com itself.
 *
 * you.com has no tool calling and no roles: tools are emulated in the prompt by the server, and
 * the conversation is flattened (see `prompt.ts`).
 *
 * @module
 */
import { type Clearance, ClearanceService, type SiteIdentity } from "../../browser/mod.ts";
import type { Config } from "../../config/schema.ts";
import { CHALLENGE, isChallenge, isClearanceError } from "../../net/cloudflare.ts";
import { proxyFor } from "../../net/proxy.ts";
import { GatewayError, upstreamFailed } from "../../openai/errors.ts";
import type { ChatRequest } from "../../openai/schema.ts";
import { PoolSet, withAccount } from "../../pool/mod.ts";
import { maskSecret } from "../../util/mask.ts";
import { guardAnswer } from "../answer.ts";
import { FLATTENED_TURNS } from "../combine.ts";
import type { ChatContext, ChatEvent, ModelInfo, Provider, ProviderDeps } from "../types.ts";
import { answerDeltas, QuotaExhausted, YouApi } from "./api.ts";
import { cookieHeader } from "./cookies.ts";
import { buildPrompt, describePrompt, type YouPrompt } from "./prompt.ts";

/** you.com's `selectedAiModel` values, served as `you/<value>`. */
export const YOU_MODELS = [
  "gpt_4",
  "gpt_4o",
  "gpt_4o_mini",
  "gpt_4_turbo",
  "openai_o1",
  "openai_o1_mini",
  "claude_2",
  "claude_3_haiku",
  "claude_3_sonnet",
  "claude_3_5_sonnet",
  "claude_3_opus",
  "gemini_pro",
  "gemini_1_5_pro",
  "gemini_1_5_flash",
];

/** What one you.com provider keeps across requests. */
interface YouState {
  /** Clearances of every site and proxy, shared by all requests. */
  clearance: ClearanceService;
}

/** The you.com model name of `model`, or undefined when it is not one. */
export function youModel(model: string, config: Config): string | undefined {
  if (!model.startsWith("you/")) return undefined;
  const name = model.slice(4);
  return YOU_MODELS.includes(name) || config.you.models.includes(name) ? name : undefined;
}

function promptOf(req: ChatRequest, ctx: ChatContext): YouPrompt {
  return buildPrompt(req.messages, {
    fileTokens: ctx.config.you["file-tokens"],
    notice: ctx.config.you.notice,
    charSequences: ctx.flags.charSequences,
  });
}

/** Creates the `you` provider. */
export function createYouProvider(deps: ProviderDeps): Provider {
  const pools = new PoolSet(deps.log);
  const state: YouState = { clearance: new ClearanceService(deps.browsers, deps.log) };
  return {
    id: "you",
    turnMarkers: FLATTENED_TURNS,
    pools: () => pools.state(),

    models(config): ModelInfo[] {
      if (config.you.cookies.length === 0) return [];
      const names = [...new Set([...YOU_MODELS, ...config.you.models])];
      return names.map((m) => ({ id: `you/${m}`, owned_by: "you" }));
    },

    resolve(model, config) {
      const name = youModel(model, config);
      return name === undefined ? undefined : { upstreamModel: name, toolMode: "emulated" };
    },

    renderPrompt(req, ctx) {
      return describePrompt(promptOf(req, ctx));
    },

    chat(req, ctx) {
      const cfg = ctx.config.you;
      const model = ctx.route.upstreamModel;
      const prompt = promptOf(req, ctx);
      const pool = pools.get("you", cfg.cookies, {
        concurrency: cfg.concurrency ?? 1,
        cooldown: cfg.cooldown,
      });
      return (async function* () {
        // The clearance comes before an account is taken: a busy account is not held while the
        // browser works, and requests queued on the pool do not time out behind the challenge.
        const opener = ctx.token ?? cfg.cookies[0];
        if (cfg.clearance && opener) {
          await state.clearance.get(identity(ctx, opener, model), ctx.config, ctx.signal);
        }
        yield* withAccount(
          pool,
          { token: ctx.token, signal: ctx.signal },
          (secret) => answer(ctx, state, model, prompt, secret),
        );
      })();
    },
  };
}

/**
 * Whose clearance a call uses: one per site and proxy (`account` left empty: a clearance is bound
 * to the user agent and the address), opened with the account's cookies.
 */
function identity(ctx: ChatContext, secret: string, model: string): SiteIdentity {
  const cfg = ctx.config.you;
  const base = cfg["base-url"];
  return {
    provider: "you",
    site: `${base}/`,
    account: "",
    proxy: proxyFor(new URL(base), ctx.config, cfg.proxies),
    cookies: cookieHeader(secret, model),
  };
}

/** One attempt with one account: clearance, quota, upload, then the answer stream. */
async function* answer(
  ctx: ChatContext,
  state: YouState,
  model: string,
  prompt: YouPrompt,
  secret: string,
): AsyncGenerator<ChatEvent> {
  const cfg = ctx.config.you;
  const base = cfg["base-url"];
  const http = ctx.upstream("you", cfg.proxies);
  const call = async (clearance: Clearance | undefined): Promise<Response> => {
    const api = new YouApi(http, base, secret, model, clearance, ctx.config.browser.lang);
    const quota = await api.quota();
    if (quota.remaining <= 0) {
      throw new QuotaExhausted(
        `${quota.used ?? "?"} of ${quota.max ?? "?"} calls used`,
        cfg["quota-cooldown"],
      );
    }
    const files = prompt.file !== undefined ? await api.upload(prompt.file) : undefined;
    return await api.stream(prompt.query, prompt.chat, files);
  };

  let res: Response;
  try {
    res = cfg.clearance
      ? await state.clearance.run(identity(ctx, secret, model), ctx.config, ctx.signal, call, {
        eager: true,
      })
      : await call(undefined);
  } catch (err) {
    if (isChallenge(err) && !cfg.clearance) {
      throw new GatewayError(
        403,
        `Cloudflare's challenge stopped the call to ${
          new URL(base).host
        } (you.clearance is off; turn it on to pass it with Chromium): ${(err as Error).message}`,
        "permission_error",
        CHALLENGE,
      );
    }
    if (err instanceof GatewayError && err.status === 403 && !isClearanceError(err)) {
      throw new GatewayError(
        403,
        `you.com refused account ${maskSecret(secret)}: ${err.message}`,
        "permission_error",
        "upstream_forbidden",
      );
    }
    throw err;
  }

  const deltas = answerDeltas(
    res.body!,
    (notice) => ctx.log.warn(`you: quota notice in the answer (${notice.slice(0, 60)}…)`),
  );
  yield* guardAnswer(fromYouStream(deltas, ctx), {
    provider: "you",
    promptTokens: prompt.tokens,
    empty: "the answer was empty",
  });
}

/** The text of an answer stream; its end without 'done' is noted in the log. */
async function* fromYouStream(
  deltas: AsyncGenerator<string, boolean, boolean>,
  ctx: ChatContext,
): AsyncGenerator<ChatEvent> {
  let done = false;
  let any = false;
  try {
    while (true) {
      const r = await deltas.next();
      if (r.done) {
        done = r.value;
        break;
      }
      any = true;
      yield { type: "text", text: r.value };
    }
  } finally {
    await deltas.return(false);
  }
  if (!any && !done) throw upstreamFailed("you", "the answer stream ended before any text");
  if (!done) ctx.log.warn("you: the answer stream ended without its 'done' event");
  yield { type: "finish", reason: "stop" };
}
