/**
 * The `arena` provider: arena.ai (LMArena, formerly chat.lmsys.org) "direct" chat through the
 * site's own stream API (reference section 4). Model ids `arena/<publicName>`, and the 2024
 * `lmsys/<name>`; the names come from the site's model list page.
 *
 * Each request: the model list (kept a while), a reCAPTCHA v3 token minted in Chromium on a page
 * of the site (`src/browser/recaptcha.ts`, with Chrome's user agent and the provider's proxy; the
 * page's session and clearance cookies come with it), then `create-evaluation` with the whole
 * conversation flattened into its one user message, streamed back as line records. A refused
 * token is replaced and the request sent again once; so is a Cloudflare challenge (the page is
 * opened again to earn a new clearance). No account is needed (the page gets an anonymous
 * session); `arena.cookies` may hold signed-in sessions, pooled.
 *
 * @module
 */
import {
  type Browsers,
  RecaptchaMinter,
  RecaptchaTimeout,
  type RecaptchaToken,
} from "../../browser/mod.ts";
import type { Config } from "../../config/schema.ts";
import { readBytes, type Upstream } from "../../net/http.ts";
import { readLines } from "../../net/lines.ts";
import { proxyFor } from "../../net/proxy.ts";
import { chromeUserAgent } from "../../net/transport/mod.ts";
import { GatewayError, upstreamFailed, upstreamTimeout } from "../../openai/errors.ts";
import type { ChatRequest } from "../../openai/schema.ts";
import { PoolSet, withAccount } from "../../pool/mod.ts";
import { countTokens } from "../../util/tokens.ts";
import { guardAnswer } from "../answer.ts";
import { FLATTENED_TURNS } from "../combine.ts";
import type { ChatContext, ChatEvent, ModelInfo, Provider, ProviderDeps } from "../types.ts";
import type { UsageEvent } from "../../core/events.ts";
import { arenaResponseError, CLOUDFLARE, RECAPTCHA } from "./errors.ts";
import {
  type ArenaModel,
  arenaName,
  findModel,
  flightText,
  ModelList,
  parseInitialModels,
} from "./models.ts";
import { type ArenaPrompt, arenaPrompt, toArenaRequest } from "./request.ts";
import { fromArenaStream } from "./stream.ts";

/** The action arena.ai's page mints its chat tokens for. */
const ACTION = "chat_submit";

/** The largest model list page read. */
const PAGE_LIMIT = 16 * 1024 * 1024;

/** What one provider instance keeps. */
interface ArenaState {
  models: ModelList;
  minter: RecaptchaMinter;
  browsers: Browsers;
}

/** A `Cookie` header from name/value pairs. */
function cookieHeader(cookies: Record<string, string>): string {
  return Object.entries(cookies).map(([k, v]) => `${k}=${v}`).join("; ");
}

/** The client's credential when it is an arena.ai session (a placeholder key is not). */
function clientSession(ctx: ChatContext): string | undefined {
  return ctx.token?.includes("arena-auth-prod-v1") ? ctx.token : undefined;
}

/** Reads the model list page (through the provider's transport). */
async function listModels(
  http: Upstream,
  base: string,
  config: Config,
  cookie?: string,
): Promise<ArenaModel[]> {
  const headers: Record<string, string> = {
    accept: "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "accept-language": config.browser.lang,
  };
  if (cookie) headers.cookie = cookie;
  const res = await http.fetch(`${base}/?mode=direct`, { headers });
  if (!res.ok) throw await arenaResponseError(res);
  const html = new TextDecoder().decode(await readBytes(res, PAGE_LIMIT, "truncate"));
  const models = parseInitialModels(flightText(html)) ?? parseInitialModels(html);
  if (!models || !models.some((m) => m.text)) {
    throw upstreamFailed("arena", "the model list page holds no initialModels (the site changed?)");
  }
  return models;
}

/** A fresh token (and the page's cookies) for `key`; a challenge not passed in time is a 504. */
async function mint(
  ctx: ChatContext,
  state: ArenaState,
  key: string,
  site: { base: string; proxy?: string },
  secret: string,
): Promise<RecaptchaToken> {
  const b = ctx.config.browser;
  try {
    return await state.minter.mint(key, {
      browser: () => state.browsers.get(ctx.config),
      url: `${site.base}/?mode=direct`,
      action: ACTION,
      siteKey: ctx.config.arena["recaptcha-site-key"],
      cookieHeader: secret || undefined,
      proxy: site.proxy,
      userAgent: chromeUserAgent(),
      lang: b.lang,
      timeoutMs: b.timeout * 1000,
      signal: ctx.signal,
    });
  } catch (err) {
    if (err instanceof GatewayError || ctx.signal.aborted) throw err;
    if (err instanceof RecaptchaTimeout) throw upstreamTimeout("arena", err.message);
    throw upstreamFailed("arena", `reCAPTCHA in the browser: ${(err as Error).message}`, err);
  }
}

/** Passes events on with the upstream's usage counts in place of the prompt estimate. */
async function* withUpstreamUsage(
  events: AsyncIterable<ChatEvent>,
  upstream: () => UsageEvent | undefined,
): AsyncGenerator<ChatEvent> {
  for await (const ev of events) {
    const u = upstream();
    if (ev.type !== "usage" || !u) yield ev;
    else {yield {
        ...ev,
        prompt_tokens: u.prompt_tokens || ev.prompt_tokens,
        completion_tokens: u.completion_tokens,
      };}
  }
}

/** One attempt with one session (`secret` is "" for an anonymous one). */
async function* attempt(
  ctx: ChatContext,
  state: ArenaState,
  prompt: ArenaPrompt,
  secret: string,
): AsyncGenerator<ChatEvent> {
  const cfg = ctx.config.arena;
  const base = cfg["base-url"];
  const site = { base, proxy: proxyFor(new URL(base), ctx.config, cfg.proxies) };
  const key = `${base} ${site.proxy ?? ""} ${secret}`;
  const http = ctx.upstream("arena", cfg.proxies);
  let session: RecaptchaToken | undefined;
  let models: ArenaModel[];
  try {
    models = await state.models.get(base, () => listModels(http, base, ctx.config, secret));
  } catch (err) {
    // The page behind a challenge: the browser passes it, and its clearance reads the list.
    if (!(err instanceof GatewayError) || err.code !== CLOUDFLARE) throw err;
    session = await mint(ctx, state, key, site, secret);
    const cookie = cookieHeader(session.cookies);
    models = await state.models.get(base, () => listModels(http, base, ctx.config, cookie));
  }
  const name = ctx.route.upstreamModel;
  const model = findModel(models, name);
  if (!model) {
    throw new GatewayError(
      404,
      `arena.ai has no chat model named '${name}' (see GET /v1/models for the arena/ ids)`,
      "invalid_request_error",
      "model_not_found",
      "model",
    );
  }
  let res: Response;
  for (let round = 0;; round++) {
    session ??= await mint(ctx, state, key, site, secret);
    const body = toArenaRequest(prompt.content, model.id, session.token);
    res = await http.fetch(`${base}/nextjs-api/stream/create-evaluation`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "*/*",
        "accept-language": ctx.config.browser.lang,
        origin: new URL(base).origin,
        referer: `${base}/?mode=direct`,
        cookie: cookieHeader(session.cookies),
      },
      body: JSON.stringify(body),
    });
    if (res.ok) break;
    const err = await arenaResponseError(res);
    const anonymousExpired = err.status === 401 && !secret;
    if (round > 0 || !(err.code === RECAPTCHA || err.code === CLOUDFLARE || anonymousExpired)) {
      throw err;
    }
    // A refused token: mint another. A challenge or an expired anonymous session: a new page.
    if (err.code !== RECAPTCHA) await state.minter.reset(key);
    ctx.log.info(`arena: ${err.message}; trying once more with a fresh token`);
    session = undefined;
  }
  if ((res.headers.get("content-type") ?? "").includes("text/html")) {
    throw upstreamFailed("arena", "create-evaluation answered with a web page instead of a stream");
  }
  let upstream: UsageEvent | undefined;
  const events = (async function* () {
    for await (const ev of fromArenaStream(readLines(res.body!))) {
      if (ev.type === "usage") upstream = ev;
      else yield ev;
    }
  })();
  yield* withUpstreamUsage(
    guardAnswer(events, { provider: "arena", promptTokens: countTokens(prompt.content) }),
    () => upstream,
  );
}

/** Creates the `arena` provider. */
export function createArenaProvider(deps: ProviderDeps): Provider {
  const pools = new PoolSet(deps.log);
  const state: ArenaState = {
    models: new ModelList(),
    minter: new RecaptchaMinter(),
    browsers: deps.browsers,
  };
  return {
    id: "arena",
    turnMarkers: FLATTENED_TURNS,
    pools: () => pools.state(),
    close: () => state.minter.close(),

    async models(config: Config, ctx): Promise<ModelInfo[]> {
      const base = config.arena["base-url"];
      let list = state.models.cached(base);
      if (!list && ctx?.upstream) {
        const http = ctx.upstream("arena", config.arena.proxies);
        list = await state.models.get(base, () => listModels(http, base, config)).catch(() => []);
      }
      return (list ?? []).filter((m) => m.text).map((m) => ({
        id: `arena/${m.publicName}`,
        owned_by: "arena",
      }));
    },

    resolve(model) {
      const name = arenaName(model);
      return name === undefined ? undefined : { upstreamModel: name, toolMode: "emulated" };
    },

    readiness(config: Config) {
      const accounts = config.arena.cookies.length;
      return {
        ready: true,
        pooled: accounts > 0,
        note: `${
          accounts > 0 ? `${accounts} session(s)` : "an anonymous session"
        }; reCAPTCHA tokens are minted in Chromium (browser.*)`,
      };
    },

    renderPrompt(req, ctx) {
      return arenaPrompt(req.messages, ctx.flags).content;
    },

    chat(req: ChatRequest, ctx: ChatContext): AsyncIterable<ChatEvent> {
      const cfg = ctx.config.arena;
      const prompt = arenaPrompt(req.messages, ctx.flags);
      if (prompt.droppedImages > 0) {
        ctx.log.warn(
          `arena: ${prompt.droppedImages} image(s) in the messages are not sent (text only)`,
        );
      }
      const token = clientSession(ctx);
      if (cfg.cookies.length === 0) return attempt(ctx, state, prompt, token ?? "");
      const pool = pools.get("arena", cfg.cookies, {
        concurrency: cfg.concurrency ?? 1,
        cooldown: cfg.cooldown,
      });
      return withAccount(
        pool,
        { token, signal: ctx.signal },
        (secret) => attempt(ctx, state, prompt, secret),
      );
    },
  };
}
