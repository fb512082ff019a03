/**
 * Image generation with a Coze bot (the `coze` image backend): the `coze.images` bot is asked to
 * paint, and the image URL is taken from its answer (a Markdown link or image, or `"url":"..."`
 * of a plugin's JSON). Bots sometimes apologise instead of painting, so a request is tried up to
 * three times. In the API mode the chat goes through `/v3/chat` with an access token.
 *
 * @module
 */
import { useAccount } from "../../pool/mod.ts";
import { GatewayError, upstreamFailed } from "../../openai/errors.ts";
import type { RequestContext } from "../types.ts";
import { clientToken, isPat, tokenPool } from "./account.ts";
import { openChat } from "./api.ts";
import type { CozeState } from "./state.ts";
import { fromCozeStream } from "./stream.ts";

/** Attempts per image request. */
export const PAINT_ATTEMPTS = 3;

/** The query that asks the image bot to paint `prompt`. */
export function paintingQuery(prompt: string): string {
  return `Paint on command:\n    style: exquisite, HD\n    prompt: ${prompt}`;
}

/** The first image URL in a bot's answer, or undefined. */
export function imageUrlOf(answer: string): string | undefined {
  const link = /\[[^\]]*\]\((https?:\/\/[^)\s]+)\)/.exec(answer);
  if (link) return link[1];
  // JSON may escape the slashes (`https:\/\/...`).
  const json = /"url"\s*:\s*"(https?:(?:\\?\/){2}[^"]+)"/.exec(answer);
  return json ? json[1].replaceAll("\\/", "/") : undefined;
}

/** The image bot's id, or a 400 naming the key; an empty prompt is a 400 too. */
export function imageBot(ctx: RequestContext, prompt: string): string {
  const bot = ctx.config.coze.images;
  if (!bot) {
    throw new GatewayError(
      400,
      "Coze image generation needs a bot: set coze.images (bot-id) in config.yaml",
      "invalid_request_error",
      "model_not_found",
      "model",
    );
  }
  if (prompt.trim() === "") {
    throw new GatewayError(400, "The prompt is empty", "invalid_request_error", null, "prompt");
  }
  return bot["bot-id"];
}

/**
 * Paints `prompt` with the `coze.images` bot through the API and returns the image URL. The
 * token is `credential` or the client's key when it is a PAT, else one of `coze.tokens`.
 */
export async function apiPaint(
  state: CozeState,
  prompt: string,
  ctx: RequestContext,
  credential?: string,
): Promise<string> {
  const botId = imageBot(ctx, prompt);
  const cfg = ctx.config.coze;
  const http = ctx.upstream("coze", cfg.proxies);
  const pool = tokenPool(state, ctx.config);
  const own = isPat(credential) ? credential : clientToken(ctx.token, pool.size);
  const body = {
    bot_id: botId,
    user_id: cfg["user-id"],
    stream: true,
    auto_save_history: false,
    additional_messages: [{
      role: "user",
      type: "question",
      content: paintingQuery(prompt),
      content_type: "text",
    }],
  };
  let last = "";
  // A bot that does not paint is no token's fault: undefined ends the pool's retries.
  const url = await useAccount(pool, { token: own, signal: ctx.signal }, async (token) => {
    for (let i = 0; i < PAINT_ATTEMPTS; i++) {
      const chat = await openChat(http, cfg["base-url"], token, body);
      last = "";
      for await (const ev of fromCozeStream(chat.events, { logid: chat.logid })) {
        if (ev.type === "text") last += ev.text;
      }
      const found = imageUrlOf(last);
      if (found) return found;
      ctx.log.info(`coze: the image bot answered without an image (attempt ${i + 1})`);
    }
    return undefined;
  });
  if (url) return url;
  throw upstreamFailed(
    "coze",
    `the image bot gave no image URL in ${PAINT_ATTEMPTS} attempts; its last answer: ${
      last.replace(/\s+/g, " ").trim().slice(0, 200) || "(empty)"
    }`,
  );
}
