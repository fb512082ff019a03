/**
 * An OpenAI chat request as a Cohere `/v2/chat` body (`toCohereRequest`). Parameters follow the
 * one policy of `params.ts` with v2's ranges (`temperature` 0–1, `p` 0.01–0.99, `k` 0–500,
 * penalties 0–1, at most 5 stop sequences, `seed` ≥ 0): clamped, or dropped where the model
 * cannot take them (`thinking` outside the reasoning models, `tool_choice` before R7B,
 * `safety_mode` before 08-2024 and whenever tools are sent, `response_format` with tools).
 * Notebook mode sends the flattened conversation as one user message.
 *
 * @module
 */
import type { Config } from "../../config/schema.ts";
import type { RequestFlags } from "../../flags/types.ts";
import type { ChatRequest } from "../../openai/schema.ts";
import type { Logger } from "../../util/log.ts";
import { type PromptStyle, renderTurns, toTurns, withCharSequences } from "../combine.ts";
import { COHERE_NAMES, ToolNames } from "../gemini/names.ts";
import { maxTokens, reasoningOf, sampling, type SamplingSpec, stopList } from "../params.ts";
import { toCohereMessages } from "./messages.ts";
import { safetyModeFor, takesSafetyMode, takesThinking, takesToolChoice } from "./models.ts";
import { toCohereTool } from "./tools.ts";

type Json = Record<string, unknown>;

/** The body of one `/v2/chat` call and the tool names to map the answer back with. */
export interface CohereRequest {
  body: Json;
  names: ToolNames;
}

/** What `toCohereRequest` needs beyond the request. */
export interface CohereRequestOptions {
  config: Config;
  /** The model id Cohere receives. */
  model: string;
  flags?: RequestFlags;
  log?: Logger;
}

/** v2's parameter ranges (Cohere's OpenAPI for `/v2/chat`). */
export const COHERE_SAMPLING: SamplingSpec = {
  temperature: { min: 0, max: 1 },
  top_p: { min: 0.01, max: 0.99 },
  top_k: { min: 0, max: 500 },
  presence_penalty: { min: 0, max: 1 },
  frequency_penalty: { min: 0, max: 1 },
  seed: { min: 0, max: Number.MAX_SAFE_INTEGER },
};

/** Stop sequences v2 takes at most. */
export const COHERE_STOPS = 5;

/** Thinking budgets of the effort levels; `high` thinks without a budget (Cohere's advice). */
const BUDGETS: Record<string, number | undefined> = {
  minimal: 512,
  low: 2048,
  medium: 8192,
  high: undefined,
  xhigh: undefined,
};

function parameters(req: ChatRequest, body: Json, log?: Logger, extraStops: string[] = []): void {
  const s = sampling(req, COHERE_SAMPLING, log);
  if (s.temperature !== undefined) body.temperature = s.temperature;
  if (s.top_p !== undefined) body.p = s.top_p;
  if (s.top_k !== undefined) body.k = s.top_k;
  if (s.frequency_penalty !== undefined) body.frequency_penalty = s.frequency_penalty;
  if (s.presence_penalty !== undefined) body.presence_penalty = s.presence_penalty;
  if (s.seed !== undefined) body.seed = s.seed;
  const max = maxTokens(req, Infinity, log);
  if (max !== undefined) body.max_tokens = max;
  // The gateway applies every stop sequence to the answer; Cohere gets the first five.
  const stops = [...new Set([...extraStops, ...stopList(req)])];
  if (stops.length > COHERE_STOPS) log?.debug(`request: stop cut to Cohere's ${COHERE_STOPS}`);
  if (stops.length > 0) body.stop_sequences = stops.slice(0, COHERE_STOPS);
}

/** `thinking` from the request's reasoning settings, for the models that have it. */
export function thinkingOf(req: ChatRequest, model: string, log?: Logger): Json | undefined {
  const r = reasoningOf(req);
  if (!r) return undefined;
  if (!takesThinking(model)) {
    log?.debug(`request: reasoning settings dropped: ${model} does not think`);
    return undefined;
  }
  if (r.enabled === false) return { type: "disabled" };
  const budget = r.budget_tokens ?? (r.effort ? BUDGETS[r.effort] : undefined);
  return budget === undefined ? { type: "enabled" } : { type: "enabled", token_budget: budget };
}

function tools(req: ChatRequest, body: Json, model: string, names: ToolNames, log?: Logger): void {
  const all = req.tools ?? [];
  if (all.length === 0) return;
  const choice = req.tool_choice;
  const choosing = takesToolChoice(model);
  if (choice === "none") {
    // Before R7B there is no NONE: leaving the tools out is the only way to say it.
    if (!choosing) return;
    body.tool_choice = "NONE";
  } else if (choice === "required" || (choice && typeof choice === "object")) {
    if (choosing) body.tool_choice = "REQUIRED";
    else log?.debug(`request: tool_choice dropped: ${model} does not take it`);
  }
  const only = choice && typeof choice === "object" ? choice.function.name : undefined;
  const offered = only ? all.filter((t) => t.function.name === only) : all;
  body.tools = (offered.length > 0 ? offered : all).map((t) => toCohereTool(t, names));
}

function responseFormat(req: ChatRequest, body: Json, log?: Logger): void {
  const rf = req.response_format;
  if (!rf || rf.type === "text") return;
  if (body.tools) {
    log?.debug("request: response_format dropped: Cohere does not take it with tools");
    return;
  }
  const schema = rf.type === "json_schema"
    ? (rf as { json_schema?: { schema?: Json } }).json_schema?.schema
    : undefined;
  body.response_format = schema ? { type: "json_object", json_schema: schema } : {
    type: "json_object",
  };
}

function safety(config: Config, body: Json, model: string, log?: Logger): void {
  const mode = config.cohere.safety;
  if (!mode || !takesSafetyMode(model)) return;
  if (body.tools || body.documents) {
    log?.debug("request: safety_mode dropped: Cohere does not take it with tools");
    return;
  }
  body.safety_mode = safetyModeFor(model, mode);
}

/** The prompt style of notebook mode: one `<|role|>: text` line per turn. */
export const NOTEBOOK_STYLE: PromptStyle = {
  prefix: { system: "<|system|>: ", user: "<|user|>: ", assistant: "<|assistant|>: " },
  suffix: "",
  separator: "\n",
  tail: "\n<|assistant|>: ",
};

/** The flattened prompt of notebook mode. */
export function notebookPrompt(req: ChatRequest, flags: RequestFlags): string {
  const style = withCharSequences(NOTEBOOK_STYLE, flags.charSequences);
  return renderTurns(toTurns(req.messages), style);
}

/** Builds the `/v2/chat` body of `req`. */
export function toCohereRequest(req: ChatRequest, o: CohereRequestOptions): CohereRequest {
  const names = new ToolNames(COHERE_NAMES);
  const { model, log } = o;
  const body: Json = { model, stream: true };
  if (o.flags?.notebook) {
    const style = withCharSequences(NOTEBOOK_STYLE, o.flags.charSequences);
    body.messages = [{ role: "user", content: notebookPrompt(req, o.flags) }];
    // The model must not write the next turn: its role prefixes stop it.
    const turns = [style.prefix.user, style.prefix.system].map((p) => p.trim()).filter(Boolean);
    parameters(req, body, log, turns);
  } else {
    body.messages = toCohereMessages(req.messages, model, names);
    parameters(req, body, log);
    tools(req, body, model, names, log);
    responseFormat(req, body, log);
  }
  const thinking = thinkingOf(req, model, log);
  if (thinking) body.thinking = thinking;
  safety(o.config, body, model, log);
  return { body, names };
}
