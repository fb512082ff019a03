/**
 * Coze model ids in the API mode. A Coze bot is a model (its own model and prompt are set in
 * Coze), so ids name bots:
 *
 * - `coze/<bot_id>`: the bot with that id (the digits in the bot's URL);
 * - `coze/<name>`: the bot `coze.bots` maps `<name>` to;
 * - `coze` (and the original's `coze/websdk`): the default bot, `coze.bot` (else the original's
 *   `coze.8k`; prompts over 7000 tokens go to `coze.128k` when that is set);
 * - the original's `coze/<bot>-<version>-<scene>[-o|-w]`: the bot `<bot>` (the rest meant
 *   something only to the web route).
 *
 * @module
 */
import type { Config } from "../../config/schema.ts";
import { GatewayError } from "../../openai/errors.ts";

/** The bot a model id asks for; `botId` undefined means the default bot. */
export interface CozeTarget {
  botId?: string;
}

/** Prompts above this many tokens go to the `coze.128k` bot when it is set (as the original did). */
export const LONG_PROMPT_TOKENS = 7000;

const LEGACY_ID = /^([A-Za-z0-9_]+)-([A-Za-z0-9_.]*)-(\d+)(?:-([ow]))?$/;

/** `coze.bots` with the names as `coze/<name>` ids take them (a `coze/` prefix is allowed). */
export function namedBots(config: Config): Map<string, string> {
  const out = new Map<string, string>();
  for (const [name, id] of Object.entries(config.coze.bots)) {
    out.set(name.replace(/^coze\//, ""), id);
  }
  return out;
}

/** The bot `model` names, or undefined when it is no Coze model id. */
export function resolveTarget(model: string, config: Config): CozeTarget | undefined {
  if (model === "coze" || model === "coze/websdk") return {};
  if (!model.startsWith("coze/")) return undefined;
  const name = model.slice(5);
  const named = namedBots(config).get(name);
  if (named) return { botId: named };
  if (/^\d+$/.test(name)) return { botId: name };
  const legacy = LEGACY_ID.exec(name);
  return legacy ? { botId: legacy[1] } : undefined;
}

/** The default bot for a prompt of `promptTokens` tokens; a 404 naming the key when none is set. */
export function defaultBot(config: Config, promptTokens: number): string {
  const c = config.coze;
  const long = c["128k"]?.["bot-id"];
  if (promptTokens > LONG_PROMPT_TOKENS && long) return long;
  const id = c.bot ?? c["8k"]?.["bot-id"];
  if (id) return id;
  throw new GatewayError(
    404,
    "The model 'coze' needs a bot: set coze.bot to a bot id in config.yaml, or use coze/<bot_id>",
    "invalid_request_error",
    "model_not_found",
    "model",
  );
}

/** The ids `/v1/models` lists from configuration: `coze` with a default bot, named bots. */
export function configuredModels(config: Config): string[] {
  const ids: string[] = [];
  if (config.coze.bot ?? config.coze["8k"]) ids.push("coze");
  for (const name of namedBots(config).keys()) ids.push(`coze/${name}`);
  return ids;
}
