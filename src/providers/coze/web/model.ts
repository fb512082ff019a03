/**
 * Coze model ids: `coze` (the configured `coze.8k` bot, or `coze.128k` for long prompts) and
 * `coze/<bot>-<version>-<scene>` with an optional `-o` (owner mode, `version` is the space id) or
 * `-w` (web-SDK mode, no cookie).
 *
 * @module
 */
import type { Config } from "../../../config/schema.ts";
import { GatewayError } from "../../../openai/errors.ts";

/** How a bot is talked to. */
export type CozeMode = "normal" | "owner" | "websdk";

/** A bot and the way to use it. */
export interface CozeBot {
  botId: string;
  /** `bot_version` (normal), the space id (owner), unused (web SDK). */
  version: string;
  scene: number;
  mode: CozeMode;
}

/** A configured bot (`coze.8k`, `coze.128k`, `coze.images`). */
export type BotConfig = NonNullable<Config["coze"]["8k"]>;

/** Prompts above this many tokens go to the `coze.128k` bot. */
export const LONG_PROMPT_TOKENS = 7000;

const MODEL_RE = /^coze\/([A-Za-z0-9_]+)-([A-Za-z0-9_.]*)-(\d+)(?:-([ow]))?$/;

/** The bot a `coze/...` model id names, or undefined for any other id. */
export function parseBotModel(model: string): CozeBot | undefined {
  const m = MODEL_RE.exec(model);
  if (!m) return undefined;
  const mode: CozeMode = m[4] === "o" ? "owner" : m[4] === "w" ? "websdk" : "normal";
  return { botId: m[1], version: m[2], scene: Number(m[3]), mode };
}

/** True when `model` is a Coze model id. */
export function isCozeModel(model: string): boolean {
  return model === "coze" || parseBotModel(model) !== undefined;
}

/** A configured bot as a `CozeBot`. */
export function configuredBot(bot: BotConfig): CozeBot {
  return {
    botId: bot["bot-id"],
    version: bot.version,
    scene: bot.scene,
    mode: bot.websdk ? "websdk" : "normal",
  };
}

/**
 * The bot serving `model` for a prompt of `promptTokens` tokens. `coze` uses `coze.8k`, and
 * `coze.128k` above `LONG_PROMPT_TOKENS` (a long prompt without a `128k` bot is refused as too
 * long rather than sent to a bot that cannot take it).
 */
export function resolveBot(model: string, config: Config, promptTokens: number): CozeBot {
  const named = parseBotModel(model);
  if (named) return named;
  const short = config.coze["8k"];
  if (!short) {
    throw new GatewayError(
      404,
      "The model 'coze' needs a bot: set coze.8k (bot-id, version, scene) in config.yaml, or use coze/<bot>-<version>-<scene>",
      "invalid_request_error",
      "model_not_found",
      "model",
    );
  }
  if (promptTokens <= LONG_PROMPT_TOKENS) return configuredBot(short);
  const long = config.coze["128k"];
  if (!long) {
    throw new GatewayError(
      400,
      `The prompt has ${promptTokens} tokens, more than the ${LONG_PROMPT_TOKENS} the coze.8k bot takes; configure coze.128k for long prompts`,
      "invalid_request_error",
      "context_length_exceeded",
      "messages",
    );
  }
  return configuredBot(long);
}
