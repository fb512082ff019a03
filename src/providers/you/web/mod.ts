/**
 * you.com's legacy web mode (`you.mode: web`): the chat the site's own page uses, models
 * `you/<mode>`, with account cookies.
 *
 * you.com sits behind Cloudflare's challenge, so calls reuse a clearance a real Chromium earned
 * (`ClearanceService` of `src/browser/`): the site is opened with the account's cookies,
 * `cf_clearance` and the user agent are kept until Cloudflare challenges a call, then the
 * challenge is passed again and the call repeated once. One run at a time per site and proxy:
 * requests arriving meanwhile wait for it. A challenge never sets an account aside.
 *
 * Accounts come from the `you-web` pool (`you.cookies`; one request per account at a time unless
 * `you.concurrency` says more). A client key serves instead only when it looks like a you.com
 * cookie (or no account is configured): the `sk-...` many clients insist on is no session. Before
 * each answer the account's quota is checked (`getYouProState`); an exhausted account rests
 * `you.quota-cooldown` seconds and the next one is tried, as after a 403 that a fresh clearance did
 * not cure.
 *
 * The conversation is flattened (see `prompt.ts`); tools are emulated by the server.
 *
 * @module
 */
import { type Clearance, ClearanceService, type SiteIdentity } from "../../../browser/mod.ts";
import type { Config } from "../../../config/schema.ts";
import { CHALLENGE, isChallenge, isClearanceError } from "../../../net/cloudflare.ts";
import { proxyFor } from "../../../net/proxy.ts";
import { GatewayError, upstreamFailed } from "../../../openai/errors.ts";
import type { ChatRequest } from "../../../openai/schema.ts";
import { PoolSet, withAccount } from "../../../pool/mod.ts";
import { clientCredential, type CredentialRule, poolNaming } from "../../readiness.ts";
import { maskSecret } from "../../../util/mask.ts";
import { guardAnswer } from "../../answer.ts";
import type { ChatContext, ChatEvent, ModelInfo, ModelMatch, ProviderDeps } from "../../types.ts";
import { YOU_MODELS } from "../models.ts";
import { answerDeltas, QuotaExhausted, YouApi } from "./api.ts";
import { cookieHeader } from "./cookies.ts";
import { buildPrompt, describePrompt, type YouPrompt } from "./prompt.ts";

/** What the web mode keeps across requests. */
export interface YouWebState {
  /** The `you-web` account pool. */
  pools: PoolSet;
  /** Clearances of every site and proxy, shared by all requests. */
  clearance: ClearanceService;
}

/** A fresh web-mode state. */
export function createYouWebState(deps: ProviderDeps): YouWebState {
  return {
    pools: new PoolSet(deps.log),
    clearance: new ClearanceService(deps.browsers, deps.log),
  };
}

/** Cookie names a signed-in you.com tab carries (`stytch_session`, `DS`, ...). */
const YOU_COOKIE = /(^|[;\s])(stytch_session|ydc_stytch_session|DS|DSR|uuid_guest|afUserId)=/;

/** True when `token` looks like a you.com cookie string rather than some API key. */
export function looksLikeYouCookie(token: string): boolean {
  return YOU_COOKIE.test(token.trim().replace(/^cookie:\s*/i, ""));
}

/** The web mode's credentials: account cookies in `you.cookies`. */
export const YOU_COOKIES: CredentialRule = {
  key: "you.cookies",
  noun: "cookie",
  shape: "the Cookie header of a signed-in you.com tab",
  matches: looksLikeYouCookie,
};

/**
 * The client's cookie to use, or undefined for the pool: a key that does not look like a you.com
 * cookie never displaces configured accounts (with none configured it is tried as a session).
 */
export function clientCookie(token: string | undefined, poolSize: number): string | undefined {
  return clientCredential(YOU_COOKIES, token, poolSize);
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

/** The web mode's models: the built-in modes and `you.models` (listed while it is ready). */
export function webModels(config: Config): ModelInfo[] {
  const names = [...new Set([...YOU_MODELS, ...config.you.models])];
  return names.map((m) => ({ id: `you/${m}`, owned_by: "you" }));
}

/** The web mode's match of `model`. */
export function webResolve(model: string, config: Config): ModelMatch | undefined {
  const name = youModel(model, config);
  return name === undefined ? undefined : { upstreamModel: name, toolMode: "emulated" };
}

/** What the web route would send for `req` (for `<echo />`). */
export function webRenderPrompt(req: ChatRequest, ctx: ChatContext): string {
  return describePrompt(promptOf(req, ctx));
}

/** Answers `req` through the web route. */
export function webChat(
  state: YouWebState,
  req: ChatRequest,
  ctx: ChatContext,
): AsyncIterable<ChatEvent> {
  const cfg = ctx.config.you;
  const model = ctx.route.upstreamModel;
  const prompt = promptOf(req, ctx);
  const pool = state.pools.get("you-web", cfg.cookies, {
    concurrency: cfg.concurrency ?? 1,
    cooldown: cfg.cooldown,
    ...poolNaming(YOU_COOKIES),
  });
  const own = clientCookie(ctx.token, pool.size);
  return (async function* () {
    // The clearance comes before an account is taken: a busy account is not held while the
    // browser works, and requests queued on the pool do not time out behind the challenge.
    const opener = own ?? cfg.cookies[0];
    if (cfg.clearance && opener) {
      await state.clearance.get(identity(ctx, opener, model), ctx.config, ctx.signal);
    }
    yield* withAccount(
      pool,
      { token: own, signal: ctx.signal },
      (secret) => answer(ctx, state, model, prompt, secret),
    );
  })();
}

/**
 * Whose clearance a call uses: one per site and proxy (`account` left empty: a clearance is bound
 * to the user agent and the address, and concurrent requests of different accounts share one
 * challenge run), opened with the account's cookies.
 */
function identity(ctx: ChatContext, secret: string, model: string): SiteIdentity {
  const cfg = ctx.config.you;
  const base = cfg["web-url"];
  return {
    provider: "you",
    site: `${base}/`,
    account: "",
    proxy: proxyFor(new URL(base), ctx.config, cfg.proxies),
    cookies: cookieHeader(secret, model),
  };
}

/**
 * One attempt with one account: clearance, quota, upload, then the answer stream. A Cloudflare
 * challenge re-clears and repeats the call once (the service's `run`) and never sets the account
 * aside; you.com's own 403 does.
 */
async function* answer(
  ctx: ChatContext,
  state: YouWebState,
  model: string,
  prompt: YouPrompt,
  secret: string,
): AsyncGenerator<ChatEvent> {
  const cfg = ctx.config.you;
  const base = cfg["web-url"];
  // The site is behind Cloudflare: Chrome's fingerprint unless you.transport says otherwise.
  const http = ctx.upstream("you", cfg.proxies, cfg.transport ?? "chrome");
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
  yield* guardAnswer(webAnswer(deltas), {
    provider: "you",
    promptTokens: prompt.tokens,
    empty: "the answer was empty",
  });
}

/** The text of an answer stream; its end without 'done' is an error, also after text. */
async function* webAnswer(
  deltas: AsyncGenerator<string, boolean, boolean>,
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
  if (!done) {
    throw upstreamFailed(
      "you",
      any
        ? "the answer stream ended without its 'done' event"
        : "the answer stream ended before any text",
    );
  }
  yield { type: "finish", reason: "stop" };
}
