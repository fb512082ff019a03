/**
 * The `bing` provider: Bing Chat / Copilot (Sydney) through conversation create and the ChatHub
 * websocket. Models `bing`, `bing-online` (web search through the Search plugin) and
 * `bing-vision` (the last user message's image is uploaded and attached). The credential is a
 * `_U` cookie from the client's `Authorization`, or from the `bing.cookies` pool; `xxx` (or
 * nothing when no cookies are configured) is an anonymous user.
 *
 * @module
 */
import { proxyFor } from "../../net/proxy.ts";
import type { ChatRequest } from "../../openai/schema.ts";
import { PoolSet, withAccount } from "../../pool/mod.ts";
import { Background } from "../../util/background.ts";
import { countTokens, TokenCounter } from "../../util/tokens.ts";
import { FLATTENED_TURNS, toTurns, type Turn } from "../combine.ts";
import type { ChatContext, ChatEvent, ModelInfo, Provider, ProviderDeps } from "../types.ts";
import { BingAnswer } from "./answer.ts";
import { invokeChat } from "./chathub.ts";
import { CitationFilter } from "./citations.ts";
import {
  cookieFor,
  createConversation,
  imageBase64,
  ORIGIN,
  searchPluginIds,
  uploadImage,
  USER_AGENT,
} from "./conversation.ts";
import { ANONYMOUS_ROUNDS, buildHistory, LOGGED_IN_ROUNDS } from "./history.ts";
import { buildHub, toneOf } from "./hub.ts";

/** The models of this provider. */
export const BING_MODELS = ["bing", "bing-online", "bing-vision"];

/** Seconds an account rests after Bing throttled it, unless `bing.cooldown` says otherwise. */
export const BING_COOLDOWN = 3600;

/** The history and message text of a request, for a signed-in (or anonymous) user. */
function history(req: ChatRequest, ctx: ChatContext, loggedIn: boolean) {
  const turns = toTurns(req.messages);
  return {
    turns,
    ...buildHistory(turns, {
      maxRounds: loggedIn ? LOGGED_IN_ROUNDS : ANONYMOUS_ROUNDS,
      // bing-vision always opens with the canned turns, as the original did.
      pad: ctx.flags.pad || ctx.route.model === "bing-vision",
      charSequences: ctx.flags.charSequences,
    }),
  };
}

/** The image to attach: the last image of the last user turn (bing-vision only). */
function lastImage(turns: readonly Turn[]): string | undefined {
  for (let i = turns.length - 1; i >= 0; i--) {
    if (turns[i].role !== "user") continue;
    const images = turns[i].images;
    return images[images.length - 1];
  }
  return undefined;
}

/** One attempt with one credential. */
async function* attempt(
  req: ChatRequest,
  ctx: ChatContext,
  secret: string,
  background: Background,
): AsyncGenerator<ChatEvent> {
  const cfg = ctx.config.bing;
  const base = cfg["base-url"];
  const http = ctx.upstream("bing", cfg.proxies);
  const conv = await createConversation(http, base, cfg["bundle-version"], cookieFor(secret));
  const h = history(req, ctx, conv.loggedIn);

  let image: { url: string; originalUrl: string } | undefined;
  const imageUrl = ctx.route.model === "bing-vision" ? lastImage(h.turns) : undefined;
  if (imageUrl) {
    const blob = await uploadImage(
      http,
      base,
      conv.cookie,
      conv.id,
      await imageBase64(http, imageUrl, ctx.log),
    );
    image = {
      url: `${base}/images/blob?bcid=${blob.processedBlobId}`,
      originalUrl: `${base}/images/blob?bcid=${blob.blobId}`,
    };
  }

  let plugins: string[] = [];
  if (ctx.route.model === "bing-online") {
    plugins = await searchPluginIds(http, base, conv.cookie);
    if (plugins.length === 0) ctx.log.warn("bing: no Search plugin offered; answering without it");
  }

  const hub = buildHub({
    conversation: conv,
    text: h.text,
    previous: h.previous,
    tone: toneOf(req.temperature),
    notebook: ctx.flags.notebook,
    online: ctx.route.model === "bing-online",
    plugins,
    image,
  });
  const hubUrl = `${cfg["hub-url"]}/sydney/ChatHub?sec_access_token=${
    encodeURIComponent(conv.signature)
  }`;
  const proxy = proxyFor(new URL(hubUrl), ctx.config, cfg.proxies);
  const t = ctx.config.server.timeouts;
  const messages = invokeChat({
    url: hubUrl,
    headers: {
      cookie: conv.cookie,
      "user-agent": USER_AGENT,
      "accept-language": "en-US,en;q=0.9",
      origin: ORIGIN,
    },
    client: proxy ? ctx.upstream("bing").clients.forProxy(proxy) : undefined,
    signal: ctx.signal,
    timeouts: { connect: t.connect, firstByte: t["first-byte"], idle: t.idle },
    background,
  }, hub);

  const answer = new BingAnswer();
  const filter = new CitationFilter();
  // Bing generated the citation markers the filter takes out: they count as completion tokens.
  const generated = new TokenCounter();
  for await (const msg of messages) {
    const delta = answer.push(msg);
    if (delta) {
      generated.push(delta);
      const text = filter.push(delta);
      if (text) yield { type: "text", text };
    }
    if (answer.done) break;
  }
  const rest = filter.end();
  if (rest) yield { type: "text", text: rest };
  if (answer.throttling) {
    ctx.log.debug(`bing: ${answer.throttling.used}/${answer.throttling.max} messages used`);
  }
  yield {
    type: "usage",
    prompt_tokens: countTokens(h.prompt),
    completion_tokens: generated.total,
  };
  yield { type: "finish", reason: answer.finish ?? "stop" };
}

/** Creates the `bing` provider. */
export function createBingProvider(deps: ProviderDeps): Provider {
  const pools = new PoolSet(deps.log);
  const background = new Background();
  return {
    id: "bing",
    turnMarkers: FLATTENED_TURNS,
    pools: () => pools.state(),
    settled: () => background.settled(),
    close: () => background.settled(),

    models(): ModelInfo[] {
      return BING_MODELS.map((id) => ({ id, owned_by: "bing" }));
    },

    resolve(model) {
      return BING_MODELS.includes(model)
        ? { upstreamModel: model, toolMode: "emulated" }
        : undefined;
    },

    renderPrompt(req: ChatRequest, ctx: ChatContext): string {
      const signedIn = ctx.config.bing.cookies.length > 0 ||
        (ctx.token !== undefined && ctx.token !== "xxx");
      return history(req, ctx, signedIn).prompt;
    },

    chat(req: ChatRequest, ctx: ChatContext): AsyncIterable<ChatEvent> {
      const cfg = ctx.config.bing;
      if (!ctx.token && cfg.cookies.length === 0) {
        // Nobody configured an account: Bing's anonymous access.
        return attempt(req, ctx, "xxx", background);
      }
      const pool = pools.get("bing", cfg.cookies, {
        concurrency: cfg.concurrency ?? 1,
        cooldown: cfg.cooldown ?? BING_COOLDOWN,
      });
      return withAccount(
        pool,
        { token: ctx.token, signal: ctx.signal },
        (secret) => attempt(req, ctx, secret, background),
      );
    },
  };
}
