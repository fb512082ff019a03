/**
 * Image generation with the `coze.images` bot through the legacy web route (the query and the
 * reading of the answer are `../paint.ts`'s). Bots sometimes apologise instead of painting, so a
 * request is tried up to three times.
 *
 * @module
 */
import { GatewayError, upstreamFailed } from "../../../openai/errors.ts";
import type { RequestContext } from "../../types.ts";
import type { CozeState } from "../state.ts";
import { useCookie } from "./account.ts";
import { parseCredential } from "./cookie.ts";
import { cookieChat, webSdkChat } from "./flow.ts";
import { configuredBot } from "./model.ts";
import { imageUrlOf, PAINT_ATTEMPTS, paintingQuery } from "../paint.ts";

async function collect(deltas: AsyncIterable<string>): Promise<string> {
  let text = "";
  for await (const d of deltas) text += d;
  return text;
}

/**
 * Paints `prompt` with the `coze.images` bot and returns the image URL. The cookie is `cookie`,
 * else one of the `coze` pool (a web-SDK image bot needs none). Throws a `GatewayError`.
 */
export async function generateCozeImage(
  state: CozeState,
  prompt: string,
  ctx: RequestContext,
  cookie?: string,
): Promise<string> {
  const cfg = ctx.config.coze;
  if (!cfg.images) {
    throw new GatewayError(
      400,
      "Coze image generation needs a bot: set coze.images (bot-id, version, scene) in config.yaml",
      "invalid_request_error",
      "model_not_found",
      "model",
    );
  }
  if (prompt.trim() === "") {
    throw new GatewayError(400, "The prompt is empty", "invalid_request_error", null, "prompt");
  }
  const bot = configuredBot(cfg.images);
  const http = ctx.upstream("coze", cfg.proxies);
  const query = paintingQuery(prompt);
  let last = "";
  const once = (secret?: string) =>
    collect(
      bot.mode === "websdk"
        ? webSdkChat({ http, ctx, bot, history: [], query, state })
        : cookieChat({
          http,
          ctx,
          state,
          cred: parseCredential(secret!),
          bot,
          query,
          referer: "https://www.coze.com/",
        }),
    );
  // A bot that does not paint is no account's fault: undefined ends the pool's retries.
  const paint = async (secret?: string): Promise<string | undefined> => {
    for (let i = 0; i < PAINT_ATTEMPTS; i++) {
      last = await once(secret);
      const url = imageUrlOf(last);
      if (url) return url;
      ctx.log.info(`coze: the image bot answered without an image (attempt ${i + 1})`);
    }
    return undefined;
  };
  const url = bot.mode === "websdk" ? await paint() : await useCookie(state, ctx, cookie, paint);
  if (url) return url;
  throw upstreamFailed(
    "coze",
    `the image bot gave no image URL in ${PAINT_ATTEMPTS} attempts; its last answer: ${
      last.replace(/\s+/g, " ").trim().slice(0, 200) || "(empty)"
    }`,
  );
}
