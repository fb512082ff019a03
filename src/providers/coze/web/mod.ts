/**
 * Coze's legacy web mode (`coze.mode: web`): bots of coze.com through its web API, with a cookie
 * (normal mode, owner mode `-o`) or anonymously through the web SDK (`-w`), every chat signed by
 * the service at `coze.sign-url`. The conversation is flattened into one role-tagged query, so the
 * answer is cut where the bot starts writing the next turn; tools are emulated by the server.
 *
 * @module
 */
import { invalidRequest, upstreamFailed } from "../../../openai/errors.ts";
import type { ChatRequest } from "../../../openai/schema.ts";
import { countTokens } from "../../../util/tokens.ts";
import { maxTokens } from "../../params.ts";
import { cutOff } from "../../../flags/mod.ts";
import { FLATTENED_TURNS } from "../../combine.ts";
import type { ChatContext, ChatEvent, ModelMatch, RequestContext } from "../../types.ts";
import { withCookie } from "./account.ts";
import type { DraftSettings } from "./client.ts";
import { parseCredential } from "./cookie.ts";
import { cookieChat, webSdkChat } from "./flow.ts";
import { type CozeBot, isCozeModel, parseBotModel, resolveBot } from "./model.ts";
import { generateCozeImage } from "./images.ts";
import { lockBot } from "./owner.ts";
import {
  conversationOf,
  cozeStyle,
  type ImageUrls,
  placeholderImages,
  renderQuery,
  turnText,
  uploadImages,
} from "./prompt.ts";
import type { Turn } from "../../combine.ts";
import type { CozeState } from "../state.ts";

/** The draft settings owner mode writes, from the request (defaults as Coze's editor has them). */
export function draftSettings(req: ChatRequest): DraftSettings {
  return {
    temperature: req.temperature ?? 0.75,
    top_p: req.top_p ?? 1,
    frequency_penalty: (req.frequency_penalty as number | null | undefined) ?? 0,
    presence_penalty: (req.presence_penalty as number | null | undefined) ?? 0,
    max_tokens: maxTokens(req) ?? 4096,
  };
}

/** Turns answer deltas into events, refusing an answer without any text. */
async function* events(deltas: AsyncIterable<string>): AsyncGenerator<ChatEvent> {
  let any = false;
  for await (const text of deltas) {
    any = true;
    yield { type: "text", text };
  }
  if (!any) throw upstreamFailed("coze", "the bot answered with no text");
}

function promptOf(req: ChatRequest, ctx: ChatContext, named: CozeBot | undefined) {
  const conv = conversationOf(req, named?.mode === "owner");
  if (conv.turns.length === 0) {
    throw invalidRequest("The messages hold no user text to send to coze", "messages");
  }
  return { conv, style: cozeStyle(ctx.flags.charSequences) };
}

/** Answers `req` through the web route, cut where the bot starts writing the next turn. */
export function webChat(
  state: CozeState,
  req: ChatRequest,
  ctx: ChatContext,
): AsyncIterable<ChatEvent> {
  return cutOff(chat(state, req, ctx), FLATTENED_TURNS.needles, {
    leading: FLATTENED_TURNS.leading,
    stopEarly: true,
  });
}

async function* chat(
  state: CozeState,
  req: ChatRequest,
  ctx: ChatContext,
): AsyncGenerator<ChatEvent> {
  const cfg = ctx.config.coze;
  const http = ctx.upstream("coze", cfg.proxies);
  const named = parseBotModel(ctx.route.model);
  const { conv, style } = promptOf(req, ctx, named);
  const bot = resolveBot(
    ctx.route.model,
    ctx.config,
    countTokens(renderQuery(conv.turns, style, placeholderImages)),
  );
  const images = await uploadImages(conv.turns, http, cfg["upload-url"]);

  if (bot.mode === "websdk") {
    const { history, query } = webSdkParts(conv.turns, images);
    yield* events(webSdkChat({ http, ctx, bot, history, query, state }));
    const sent = history.map((h) => h.content).join("\n") + "\n" + query;
    yield usage(sent);
    yield { type: "finish", reason: "stop" };
    return;
  }

  const query = renderQuery(conv.turns, style, images);
  const owner = bot.mode === "owner"
    ? { settings: draftSettings(req), system: conv.system ?? "" }
    : undefined;
  // Taken before an account is: a busy bot is no reason to rest a cookie.
  const unlock = owner
    ? await lockBot(state.locks, bot.botId, cfg["owner-wait"], ctx.signal)
    : undefined;
  try {
    yield* withCookie(state, ctx, (cookie) =>
      events(cookieChat({
        http,
        ctx,
        state,
        cred: parseCredential(cookie),
        bot,
        query,
        owner,
        onIssued: unlock,
      })));
  } finally {
    unlock?.();
  }
  yield usage(owner?.system ? `${owner.system}\n${query}` : query);
  yield { type: "finish", reason: "stop" };
}

/** Prompt tokens of what went upstream; completion tokens are counted by the server. */
function usage(sent: string): ChatEvent {
  return { type: "usage", prompt_tokens: countTokens(sent), completion_tokens: 0 };
}

/** The web SDK's history and query: earlier turns as history, the last turn as the query. */
function webSdkParts(turns: Turn[], images: ImageUrls) {
  const history = turns.slice(0, -1).map((t) => ({
    role: t.role === "assistant" ? "assistant" as const : "user" as const,
    content: turnText(t, images),
  }));
  return { history, query: turnText(turns[turns.length - 1], images) };
}

/** The web mode's match of `model`: `coze` and `coze/<bot>-<version>-<scene>[-o|-w]`. */
export function webResolve(model: string): ModelMatch | undefined {
  return isCozeModel(model) ? { upstreamModel: model, toolMode: "emulated" } : undefined;
}

/** The query the web route would send for `req` (for `<echo />`). */
export function webRenderPrompt(req: ChatRequest, ctx: ChatContext): string {
  const named = parseBotModel(ctx.route.model);
  const { conv, style } = promptOf(req, ctx, named);
  if (named?.mode === "websdk") {
    const { history, query } = webSdkParts(conv.turns, placeholderImages);
    const past = history.map((h) => ({ role: h.role, text: h.content, images: [] }));
    return renderQuery([...past, { role: "user", text: query, images: [] }], style, (u) => u);
  }
  return renderQuery(conv.turns, style, placeholderImages);
}

/** Paints `prompt` with the `coze.images` bot through the web route; resolves with the URL. */
export function webPaint(
  state: CozeState,
  prompt: string,
  ctx: RequestContext,
  cookie?: string,
): Promise<string> {
  return generateCozeImage(state, prompt, ctx, cookie);
}
