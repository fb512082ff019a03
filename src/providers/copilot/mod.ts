/**
 * The `copilot` provider: Microsoft Copilot's consumer chat (copilot.microsoft.com), the successor
 * of Bing's Sydney ChatHub (reference section 1). Models `copilot`, `copilot-reasoning`,
 * `copilot-smart`; `bing`, `bing-online`, `bing-vision` and `bing-reason` are aliases.
 *
 * Identities: signed-in accounts (`copilot.access-tokens`, or an access token the client sends as
 * its Bearer), else anonymous sessions the gateway makes itself (`copilot.anonymous` of them, each
 * keeping its cookies). One conversation at a time per account (`concurrency`), at most
 * `copilot.rpm` a minute (`limits.ts`); a new conversation for every request, deleted afterwards.
 *
 * Each request: the REST calls (`session.ts`: `GET /`, conversation start, image uploads), then
 * one turn on the chat socket (`socket.ts`), its events turned into chat events (`stream.ts`).
 * Copilot is behind Cloudflare: calls and the socket use the chrome transport, and a challenge is
 * passed with Chromium (the clearance service of `src/browser/`, per session, site and proxy)
 * and the call retried once; the socket's own Turnstile challenge gets a token from Chromium.
 * Tools are emulated in the prompt by the server.
 *
 * @module
 */
import { ClearanceService, type SiteIdentity } from "../../browser/mod.ts";
import { proxyFor } from "../../net/proxy.ts";
import { GatewayError } from "../../openai/errors.ts";
import type { ChatRequest } from "../../openai/schema.ts";
import { PoolSet, withAccount } from "../../pool/mod.ts";
import { Background } from "../../util/background.ts";
import { guardAnswer } from "../answer.ts";
import { FLATTENED_TURNS } from "../combine.ts";
import { count, type CredentialRule, poolReadiness } from "../readiness.ts";
import type { ChatContext, ChatEvent, ModelInfo, Provider, ProviderDeps } from "../types.ts";
import { imageInputs, keepImage } from "./images.ts";
import { RateLimits } from "./limits.ts";
import { COPILOT_MODELS, type CopilotMode, copilotMode } from "./models.ts";
import { type CopilotPrompt, promptOf, toCopilotRequest } from "./request.ts";
import { CopilotSession, CopilotWeb } from "./session.ts";
import { copilotTurn } from "./socket.ts";
import { fromCopilotStream } from "./stream.ts";

export { COPILOT_ALIASES, COPILOT_MODELS, copilotMode } from "./models.ts";

/** Anonymous and client-token sessions remembered at most. */
const MAX_SESSIONS = 200;

/**
 * True when a client's key looks like an MSAL access token (a JWT, or a Microsoft account's
 * opaque `EwA…` token): clients send placeholder keys, which must not replace the pool.
 */
export function looksLikeAccessToken(token: string): boolean {
  return token.length >= 100 && /^[A-Za-z0-9._~+/=-]+$/.test(token) &&
    (/^eyJ[\w-]+\.[\w-]+\.[\w-]*$/.test(token) || token.startsWith("Ew"));
}

/** Where Copilot's access tokens live and how a client's own one looks. */
const ACCESS_TOKENS: CredentialRule = {
  key: "copilot.access-tokens",
  noun: "access token",
  shape: "a Microsoft account's bearer token",
  matches: looksLikeAccessToken,
};

/** The pool ids of the anonymous sessions. */
function anonymousIds(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `anonymous-session-${i + 1}`);
}

/** What one provider instance keeps across requests. */
interface CopilotState {
  pools: PoolSet;
  clearance: ClearanceService;
  sessions: Map<string, CopilotSession>;
  limits: RateLimits;
  background: Background;
}

/** The session of a pool id or a client's token, made on first use. */
function sessionOf(state: CopilotState, id: string, token: string | undefined): CopilotSession {
  let s = state.sessions.get(id);
  if (!s || s.token !== token) {
    if (state.sessions.size >= MAX_SESSIONS) {
      state.sessions.delete(state.sessions.keys().next().value!);
    }
    state.sessions.set(id, s = new CopilotSession(token));
  }
  return s;
}

/** Creates the `copilot` provider. */
export function createCopilotProvider(deps: ProviderDeps): Provider {
  const state: CopilotState = {
    pools: new PoolSet(deps.log),
    clearance: new ClearanceService(deps.browsers, deps.log),
    sessions: new Map(),
    limits: new RateLimits(),
    background: new Background(),
  };
  return {
    id: "copilot",
    turnMarkers: FLATTENED_TURNS,
    pools: () => state.pools.state(),
    settled: () => state.background.settled(),
    close: () => state.background.settled(),

    models(): ModelInfo[] {
      // Listed when ready (the registry asks `readiness` first, with the request's credential).
      return Object.keys(COPILOT_MODELS).map((id) => ({ id, owned_by: "copilot" }));
    },

    resolve(model) {
      const mode = copilotMode(model);
      return mode ? { upstreamModel: mode, toolMode: "emulated" } : undefined;
    },

    readiness(config, ctx) {
      const tokens = config.copilot["access-tokens"].length;
      const anonymous = config.copilot.anonymous;
      if (tokens === 0 && anonymous > 0) {
        // Anonymous sessions are nobody's account: not pooled, whatever the exposure.
        return { ready: true, pooled: false, note: `${count(anonymous, "anonymous session")}` };
      }
      return poolReadiness(config, ACCESS_TOKENS, tokens, ctx);
    },

    renderPrompt(req: ChatRequest, ctx: ChatContext): string {
      return promptOf(req, ctx).text;
    },

    chat(req: ChatRequest, ctx: ChatContext): AsyncIterable<ChatEvent> {
      const cfg = ctx.config.copilot;
      const mode = ctx.route.upstreamModel as CopilotMode;
      const prompt = promptOf(req, ctx);
      const clientToken = ctx.token && looksLikeAccessToken(ctx.token) ? ctx.token : undefined;
      const tokens = cfg["access-tokens"];
      const ids = tokens.length > 0 ? tokens : anonymousIds(cfg.anonymous);
      if (!clientToken && ids.length === 0) {
        throw new GatewayError(
          401,
          "copilot: no identity to use: copilot.anonymous is 0 and no copilot.access-tokens are configured; send an access token as 'Authorization: Bearer …' or configure one (docs/copilot.md)",
          "authentication_error",
          "missing_credential",
        );
      }
      const pool = state.pools.get("copilot", ids, {
        concurrency: cfg.concurrency ?? 1,
        cooldown: cfg.cooldown,
      });
      return withAccount(
        pool,
        { token: clientToken, signal: ctx.signal },
        (secret) => {
          const token = tokens.includes(secret) || secret === clientToken ? secret : undefined;
          return answer(ctx, state, prompt, mode, secret, sessionOf(state, secret, token));
        },
      );
    },
  };
}

/** One attempt with one identity: pace, clearance, conversation, uploads, the turn. */
async function* answer(
  ctx: ChatContext,
  state: CopilotState,
  prompt: CopilotPrompt,
  mode: CopilotMode,
  id: string,
  session: CopilotSession,
): AsyncGenerator<ChatEvent> {
  const cfg = ctx.config.copilot;
  const base = cfg["base-url"];
  // A bad image is the client's fault: refused before anything is sent. Images on the web are
  // fetched through the guard of client URLs (the plain transport: they are not Copilot's host).
  const images = await imageInputs(
    prompt.images,
    ctx.upstream("copilot", cfg.proxies, "fetch"),
    ctx.log,
  );
  await state.limits.acquire(id, cfg.rpm, cfg.burst, ctx.signal);
  const http = ctx.upstream("copilot", cfg.proxies);
  const identity = (): SiteIdentity => ({
    provider: "copilot",
    site: `${base}/`,
    account: id,
    proxy: proxyFor(new URL(base), ctx.config, cfg.proxies),
    cookies: session.cookieHeader(),
  });
  const options = {
    lang: ctx.config.browser.lang,
    identityType: cfg["identity-type"],
    timeZone: cfg["time-zone"] ?? Intl.DateTimeFormat().resolvedOptions().timeZone ?? "UTC",
  };
  const turnstile = cfg.clearance
    ? () =>
      state.clearance.token(identity(), ctx.config, {
        kind: "turnstile",
        siteKey: cfg["turnstile-site-key"],
      }, ctx.signal)
    : undefined;

  const attempt = async function* (clearance: () => ReturnType<ClearanceService["peek"]>) {
    const web = new CopilotWeb(http, base, session, clearance(), options);
    await web.visit();
    const conversationId = await web.start();
    try {
      const urls: string[] = [];
      for (const img of images) urls.push(await web.upload(img.bytes, img.type));
      const events = copilotTurn({
        http,
        web,
        send: toCopilotRequest({ conversationId, text: prompt.text, mode, images: urls }),
        identityType: cfg["identity-type"],
        timeouts: ctx.config.server.timeouts,
        turnstile,
        signal: ctx.signal,
        log: ctx.log,
      });
      yield* fromCopilotStream(events, {
        keepImage: (url) => keepImage(url, http, ctx.images, (why) => ctx.log.warn(why)),
        unknown: (event) => ctx.log.debug(`copilot: skipped an event '${event}'`),
      });
    } finally {
      if (cfg["delete-conversations"]) {
        // After the request: a client that left must not leave its conversation behind.
        const later = new CopilotWeb(http.detached(), base, session, web.clearance, options);
        state.background.track(
          later.remove(conversationId),
          (err) => ctx.log.warn(`copilot: ${(err as Error).message}`),
        );
      }
    }
  };

  const events = cfg.clearance
    ? state.clearance.stream(identity, ctx.config, ctx.signal, attempt)
    : attempt(() => undefined);
  yield* guardAnswer(events, { provider: "copilot", promptTokens: prompt.tokens });
}
