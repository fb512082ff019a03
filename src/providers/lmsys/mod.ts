/**
 * The `lmsys` provider: LMSYS Chatbot Arena (lmarena) "Direct Chat" through gradio's queue.
 * Model ids are `lmsys/<arena model>`. The conversation is flattened into one prompt with role
 * tags; tools are emulated by the server. No account: `Authorization` may carry the gradio
 * `[fn_index, trigger_id]` (see `fn.ts`).
 *
 * @module
 */
import type { Config } from "../../config/schema.ts";
import { GatewayError } from "../../openai/errors.ts";
import type { ChatRequest } from "../../openai/schema.ts";
import { countTokens } from "../../util/tokens.ts";
import {
  FLATTENED_TURNS,
  renderTurns,
  ROLE_TAGS,
  toTurns,
  type Turn,
  withCharSequences,
} from "../combine.ts";
import type { ChatContext, ChatEvent, ModelInfo, Provider, ProviderDeps } from "../types.ts";
import { RefusalGuard } from "./arena.ts";
import { arenaAnswer, type ServerIds } from "./client.ts";
import { resolveFn } from "./fn.ts";

/** Arena models listed when `lmsys.models` is empty. */
export const DEFAULT_MODELS = [
  "chatgpt-4o-latest-20240903",
  "gpt-4o-2024-08-06",
  "gpt-4o-mini-2024-07-18",
  "claude-3-5-sonnet-20240620",
  "claude-3-opus-20240229",
  "claude-3-haiku-20240307",
  "gemini-1.5-pro-exp-0827",
  "gemini-1.5-flash-exp-0827",
  "grok-2-2024-08-13",
  "llama-3.1-405b-instruct-bf16",
  "llama-3.1-70b-instruct",
  "mistral-large-2407",
  "deepseek-v2.5",
  "qwen2.5-72b-instruct",
  "qwen-max-0428",
  "gemma-2-27b-it",
  "command-r-plus-08-2024",
  "yi-large",
  "glm-4-0520",
];

const PREFIX = "lmsys/";

/** The flattened prompt the arena receives. */
export function lmsysPrompt(req: ChatRequest, ctx: ChatContext): string {
  return render(toTurns(req.messages), ctx);
}

function render(turns: Turn[], ctx: ChatContext): string {
  return renderTurns(turns, withCharSequences(ROLE_TAGS, ctx.flags.charSequences));
}

/** Creates the `lmsys` provider. */
export function createLmsysProvider(_deps: ProviderDeps): Provider {
  const serverIds: ServerIds = new Map();
  return {
    id: "lmsys",
    turnMarkers: FLATTENED_TURNS,

    models(config: Config): ModelInfo[] {
      const list = config.lmsys.models.length > 0 ? config.lmsys.models : DEFAULT_MODELS;
      return list.map((m) => ({
        id: m.startsWith(PREFIX) ? m : PREFIX + m,
        owned_by: "lmsys",
      }));
    },

    resolve(model) {
      if (!model.startsWith(PREFIX) || model.length === PREFIX.length) return undefined;
      return { upstreamModel: model.slice(PREFIX.length), toolMode: "emulated" };
    },

    renderPrompt(req, ctx) {
      return lmsysPrompt(req, ctx);
    },

    async *chat(req: ChatRequest, ctx: ChatContext): AsyncGenerator<ChatEvent> {
      const config = ctx.config.lmsys;
      const model = ctx.route.upstreamModel;
      const fn = resolveFn(model, ctx.token, ctx.config);
      const turns = toTurns(req.messages);
      const prompt = render(turns, ctx);
      if (turns.some((t) => t.images.length > 0)) {
        ctx.log.warn("lmsys: images in the messages are not sent (text only)");
      }
      const http = ctx.upstream("lmsys", config.proxies);
      const request = {
        base: config["base-url"],
        model,
        prompt,
        fn,
        flow: config.flow,
        temperature: req.temperature ?? 0.7,
        topP: req.top_p ?? 1,
        maxTokens: req.max_completion_tokens ?? req.max_tokens ?? 1024,
      };
      let lastError: unknown;
      for (let attempt = 1; attempt <= config.tries; attempt++) {
        const guard = new RefusalGuard(config.refusals);
        let started = false;
        try {
          for await (const delta of arenaAnswer(http, request, ctx.log, serverIds)) {
            const text = guard.push(delta);
            if (text) {
              started = true;
              yield { type: "text", text };
            }
          }
          const rest = guard.end();
          if (rest) yield { type: "text", text: rest };
          yield { type: "usage", prompt_tokens: countTokens(prompt), completion_tokens: 0 };
          yield { type: "finish", reason: "stop" };
          return;
        } catch (err) {
          if (started || ctx.signal.aborted || !retryable(err) || attempt === config.tries) {
            throw err;
          }
          lastError = err;
          ctx.log.warn(`lmsys: attempt ${attempt} failed, trying again: ${(err as Error).message}`);
        }
      }
      throw lastError;
    },
  };
}

/** Upstream failures and timeouts are tried again; refusals and bad requests are not. */
function retryable(err: unknown): boolean {
  if (!(err instanceof GatewayError)) return false;
  if (err.code === "security_policy") return false;
  return err.status === 502 || err.status === 503 || err.status === 504;
}
