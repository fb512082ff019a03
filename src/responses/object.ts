/**
 * The `response` object as OpenAI shapes it: its fields in OpenAI's order, the request fields it
 * echoes (instructions, tools, tool_choice, temperature, ...), the usage, and the view a client
 * gets of a stored one (reasoning's `encrypted_content` only when it asked for it).
 *
 * @module
 */
import type { UsageEvent } from "../core/events.ts";
import type { ResponsesRequest } from "./schema.ts";

/** An output or input item (`message`, `function_call`, `reasoning`, ...). */
export type Item = Record<string, unknown> & { type: string; id?: string };

/** The usage object of a response. */
export interface ResponseUsage {
  input_tokens: number;
  input_tokens_details: { cached_tokens: number; cache_write_tokens: number };
  output_tokens: number;
  output_tokens_details: { reasoning_tokens: number };
  total_tokens: number;
}

/** The request fields a response echoes. */
export type ResponseEcho = Record<string, unknown>;

/** The `response` object. */
export interface ResponseObject {
  id: string;
  object: "response";
  created_at: number;
  status: "in_progress" | "completed" | "incomplete" | "failed";
  error: { code: string; message: string } | null;
  incomplete_details: { reason: "max_output_tokens" | "content_filter" } | null;
  output: Item[];
  usage: ResponseUsage | null;
  [field: string]: unknown;
}

/** What every object of one response shares. */
export interface ResponseMeta {
  id: string;
  created_at: number;
  /** The model id as the client sent it. */
  model: string;
  echo: ResponseEcho;
}

/** The request fields OpenAI repeats in the response, with OpenAI's defaults. */
export function echoOf(body: ResponsesRequest): ResponseEcho {
  return {
    instructions: body.instructions ?? null,
    max_output_tokens: body.max_output_tokens ?? null,
    max_tool_calls: body.max_tool_calls ?? null,
    parallel_tool_calls: body.parallel_tool_calls ?? true,
    previous_response_id: body.previous_response_id ?? null,
    prompt_cache_key: body.prompt_cache_key ?? null,
    reasoning: { effort: body.reasoning?.effort ?? null, summary: body.reasoning?.summary ?? null },
    safety_identifier: body.safety_identifier ?? null,
    service_tier: "default",
    store: body.store !== false,
    temperature: body.temperature ?? 1,
    text: {
      format: body.text?.format ?? { type: "text" },
      verbosity: body.text?.verbosity ?? "medium",
    },
    tool_choice: body.tool_choice ?? "auto",
    tools: body.tools ?? [],
    top_logprobs: body.top_logprobs ?? 0,
    top_p: body.top_p ?? 1,
    truncation: body.truncation ?? "disabled",
    user: body.user ?? null,
    metadata: body.metadata ?? {},
  };
}

/** The usage of a response from the pipeline's metered usage. */
export function usageOf(u: UsageEvent | undefined): ResponseUsage {
  const input = u?.prompt_tokens ?? 0;
  const output = u?.completion_tokens ?? 0;
  return {
    input_tokens: input,
    input_tokens_details: {
      cached_tokens: u?.cached_tokens ?? 0,
      cache_write_tokens: u?.cache_creation_tokens ?? 0,
    },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: u?.reasoning_tokens ?? 0 },
    total_tokens: input + output,
  };
}

/** The `response` object in a given state. */
export function responseObject(
  meta: ResponseMeta,
  state: {
    status: ResponseObject["status"];
    output: Item[];
    usage?: ResponseUsage;
    error?: ResponseObject["error"];
    incomplete?: ResponseObject["incomplete_details"];
    completedAt?: number;
  },
): ResponseObject {
  const e = meta.echo;
  return {
    id: meta.id,
    object: "response",
    created_at: meta.created_at,
    status: state.status,
    background: false,
    completed_at: state.completedAt ?? null,
    error: state.error ?? null,
    incomplete_details: state.incomplete ?? null,
    instructions: e.instructions,
    max_output_tokens: e.max_output_tokens,
    max_tool_calls: e.max_tool_calls,
    model: meta.model,
    output: state.output,
    parallel_tool_calls: e.parallel_tool_calls,
    previous_response_id: e.previous_response_id,
    prompt_cache_key: e.prompt_cache_key,
    reasoning: e.reasoning,
    safety_identifier: e.safety_identifier,
    service_tier: e.service_tier,
    store: e.store,
    temperature: e.temperature,
    text: e.text,
    tool_choice: e.tool_choice,
    tools: e.tools,
    top_logprobs: e.top_logprobs,
    top_p: e.top_p,
    truncation: e.truncation,
    usage: state.usage ?? null,
    user: e.user,
    metadata: e.metadata,
  };
}

/** An item as a client sees it: reasoning's `encrypted_content` only when `encrypted`. */
export function publicItem(item: Item, encrypted: boolean): Item {
  if (item.type !== "reasoning" || encrypted || !("encrypted_content" in item)) return item;
  const { encrypted_content: _e, ...rest } = item;
  return rest as Item;
}

/** A response as a client sees it (see `publicItem`). */
export function publicResponse(r: ResponseObject, encrypted: boolean): ResponseObject {
  if (encrypted) return r;
  return { ...r, output: r.output.map((i) => publicItem(i, false)) };
}
