/**
 * Whether the coze provider can serve, in either mode, and what it lacks.
 *
 * - API mode: a token of `coze.tokens` (or the request's own `pat_…`) serves; the note says which
 *   bots are listed (`coze` needs `coze.bot`, `coze/<name>` comes from `coze.bots`, published
 *   bots from `coze.workspace-id`), since a token without a bot lists nothing.
 * - Web mode: `coze.sign-url` (no default) and a cookie of `coze.cookies` (the `coze.8k` bot through
 *   the web SDK needs none); `coze` needs `coze.8k`.
 *
 * @module
 */
import type { Config } from "../../config/schema.ts";
import { count, missingNote, poolReadiness } from "../readiness.ts";
import type { Readiness, ReadinessContext } from "../types.ts";
import { COZE_TOKENS } from "./account.ts";
import { namedBots } from "./models.ts";
import { COZE_COOKIES } from "./web/account.ts";

/** The readiness of the coze provider with `config`. */
export function cozeReadiness(config: Config, ctx: ReadinessContext = {}): Readiness {
  return config.coze.mode === "web" ? webReadiness(config, ctx) : apiReadiness(config, ctx);
}

/** Which bots the API mode lists, or what to set when it lists none. */
function botsNote(config: Config): string {
  const c = config.coze;
  const parts: string[] = [];
  if (c.bot) parts.push("coze → coze.bot");
  else if (c["8k"]) parts.push("coze → coze.8k");
  const named = namedBots(config).size;
  if (named > 0) parts.push(`coze/<name> → ${count(named, "bot")} of coze.bots`);
  if (c["workspace-id"]) parts.push("the published bots of coze.workspace-id");
  if (parts.length > 0) return parts.join(", ");
  return "no bot to list: set coze.bot (the bot behind the model 'coze'), coze.bots or " +
    "coze.workspace-id; coze/<bot_id> works meanwhile";
}

function apiReadiness(config: Config, ctx: ReadinessContext): Readiness {
  const pool = poolReadiness(config, COZE_TOKENS, config.coze.tokens.length, ctx);
  return { ...pool, note: `${pool.note}; ${botsNote(config)}` };
}

function webReadiness(config: Config, ctx: ReadinessContext): Readiness {
  const c = config.coze;
  const anonymous = c["8k"]?.websdk === true;
  const cookies = poolReadiness(config, COZE_COOKIES, c.cookies.length, ctx);
  const model = c["8k"]
    ? `coze → coze.8k${anonymous ? " (web SDK)" : ""}`
    : "no coze.8k: only coze/<bot>-<version>-<scene> ids";
  if (!c["sign-url"]) {
    const alsoCookies = cookies.ready || anonymous ? "" : " and coze.cookies";
    return {
      ready: false,
      note: "web mode: set coze.sign-url (a request-signing service; there is no default)" +
        `${alsoCookies}, or use the API (coze.mode: api, coze.tokens)`,
    };
  }
  if (!cookies.ready && !anonymous) {
    return { ready: false, note: `web mode: ${missingNote(config, COZE_COOKIES)}` };
  }
  const serving = cookies.ready ? cookies.note : "the web SDK (no cookie)";
  return { ready: true, pooled: cookies.pooled === true, note: `web mode: ${serving}; ${model}` };
}
