/**
 * The request rules every provider shares, with one policy for all of them:
 *
 * - a value outside what the upstream takes is clamped to its range (logged at debug);
 * - a parameter the upstream (or the model) cannot take is dropped (logged at debug);
 * - only a malformed value (wrong type, tool-call arguments that are not JSON) is a 400 naming the
 *   field. Nothing is sent that would only earn an upstream 400.
 *
 * @module
 */
import type { ReasoningRequest } from "../core/events.ts";
import { invalidRequest } from "../openai/errors.ts";
import type { ChatRequest } from "../openai/schema.ts";
import { isObject } from "../util/json.ts";
import type { Logger } from "../util/log.ts";

/** The sampling parameters of a request, by their OpenAI names. */
export type SamplingName =
  | "temperature"
  | "top_p"
  | "top_k"
  | "presence_penalty"
  | "frequency_penalty"
  | "seed";

/** What an upstream takes of one parameter: a range, or `false` for nothing. */
export type ParamRange = { min: number; max: number } | false;

/** What an upstream takes of each sampling parameter; a missing name is taken as it is. */
export type SamplingSpec = Partial<Record<SamplingName, ParamRange>>;

const NAMES: readonly SamplingName[] = [
  "temperature",
  "top_p",
  "top_k",
  "presence_penalty",
  "frequency_penalty",
  "seed",
];

/**
 * The request's sampling parameters as the upstream may receive them: clamped into their
 * ranges, dropped where the spec says `false`. Absent ones stay absent.
 */
export function sampling(
  req: ChatRequest,
  spec: SamplingSpec,
  log?: Logger,
): Partial<Record<SamplingName, number>> {
  const out: Partial<Record<SamplingName, number>> = {};
  for (const name of NAMES) {
    const value = req[name];
    if (typeof value !== "number") continue;
    const range = spec[name];
    if (range === false) {
      log?.debug(`request: ${name} dropped: the upstream does not take it`);
      continue;
    }
    out[name] = range ? clamp(value, range, name, log) : value;
  }
  return out;
}

/** `value` within `range`, logged at debug when it had to move. */
export function clamp(
  value: number,
  range: { min: number; max: number },
  name: string,
  log?: Logger,
): number {
  const v = Math.min(range.max, Math.max(range.min, value));
  if (v !== value) log?.debug(`request: ${name} ${value} clamped to ${v}`);
  return v;
}

/**
 * The request's stop sequences as a list, empty strings dropped; at most `max` of them (the rest
 * are still applied by the gateway to the answer it passes on).
 */
export function stopList(req: ChatRequest, max = Infinity, log?: Logger): string[] {
  const s = req.stop;
  if (s == null) return [];
  const all = (Array.isArray(s) ? s : [s]).filter((x) => x !== "");
  if (all.length > max) log?.debug(`request: stop cut to the upstream's ${max} sequences`);
  return all.slice(0, max);
}

/** The most tokens to generate (`max_completion_tokens`, else `max_tokens`), at most `max`. */
export function maxTokens(req: ChatRequest, max = Infinity, log?: Logger): number | undefined {
  const n = req.max_completion_tokens ?? req.max_tokens;
  if (n == null) return undefined;
  return clamp(n, { min: 1, max }, "max_tokens", log);
}

/**
 * The arguments of an assistant's tool call as the object upstreams take: "" is `{}`; anything
 * that is not a JSON object is a 400 naming `field`.
 */
export function toolArguments(args: string, field: string): Record<string, unknown> {
  if (args.trim() === "") return {};
  let v: unknown;
  try {
    v = JSON.parse(args);
  } catch {
    throw invalidRequest(`${field} is not valid JSON: ${snippet(args)}`, field);
  }
  if (!isObject(v)) throw invalidRequest(`${field} must be a JSON object`, field);
  return v;
}

function snippet(s: string): string {
  return s.length > 60 ? `${s.slice(0, 60)}…` : s;
}

/**
 * The reasoning the request asks for, whatever API it came from: `reasoning_effort`, or the
 * `reasoning` object (an effort, a token budget, on or off). Undefined when it asks nothing.
 */
export function reasoningOf(req: ChatRequest): ReasoningRequest | undefined {
  const r = req.reasoning;
  const out: ReasoningRequest = {};
  const effort = r?.effort ?? req.reasoning_effort ?? undefined;
  if (effort) out.effort = effort;
  const budget = r?.budget_tokens ?? r?.max_tokens;
  if (budget !== undefined) out.budget_tokens = budget;
  if (r?.enabled !== undefined) out.enabled = r.enabled;
  if (effort === "none") out.enabled = false;
  return Object.keys(out).length > 0 ? out : undefined;
}

/**
 * A `tool_choice` that asks for a call (`required`, or a named function) needs `tools`: OpenAI
 * answers 400, and an upstream without tools (or the emulator, which then does not run) would
 * silently ignore it.
 */
export function checkToolChoice(req: ChatRequest): void {
  const c = req.tool_choice;
  if (c === undefined || c === "none" || c === "auto") return;
  if ((req.tools?.length ?? 0) > 0) return;
  throw invalidRequest(
    "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.",
    "tool_choice",
  );
}
