/**
 * Builds what clients receive: `chat.completion.chunk`s and `chat.completion`s, from the state of
 * each choice. Field order and presence follow OpenAI's own responses.
 *
 * @module
 */
import type { FinishReason } from "../core/events.ts";
import type { ChatRequest, Message } from "./schema.ts";
import { countTokens, MESSAGE_OVERHEAD } from "../util/tokens.ts";

/** The usage object of a response. */
export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details?: { cached_tokens: number };
  completion_tokens_details?: { reasoning_tokens: number };
}

/** The fields every chunk and completion of one response shares. */
export interface ResponseMeta {
  id: string;
  created: number;
  model: string;
}

/** A streamed delta. */
export interface Delta {
  role?: "assistant";
  content?: string | null;
  reasoning_content?: string;
  tool_calls?: unknown[];
}

/** One `chat.completion.chunk` as JSON text. */
export function chunkJson(
  meta: ResponseMeta,
  choice: number,
  delta: Delta,
  finish: FinishReason | null = null,
  usage?: Usage,
): string {
  const body: Record<string, unknown> = {
    id: meta.id,
    object: "chat.completion.chunk",
    created: meta.created,
    model: meta.model,
    system_fingerprint: null,
    choices: [{ index: choice, delta, logprobs: null, finish_reason: finish }],
  };
  if (usage) body.usage = usage;
  return JSON.stringify(body);
}

/** The start of every chunk of a response, up to the choice index: computed once per response. */
export function chunkPrefix(meta: ResponseMeta): string {
  return `{"id":${
    JSON.stringify(meta.id)
  },"object":"chat.completion.chunk","created":${meta.created},"model":${
    JSON.stringify(meta.model)
  },"system_fingerprint":null,"choices":[{"index":`;
}

/**
 * The same text as `chunkJson` for a delta holding one text field, without building the object:
 * the hot path of every streamed answer.
 */
export function textChunkJson(
  prefix: string,
  choice: number,
  field: "content" | "reasoning_content",
  text: string,
): string {
  return `${prefix}${choice},"delta":{"${field}":${
    JSON.stringify(text)
  }},"logprobs":null,"finish_reason":null}]}`;
}

/** The usage-only chunk (`choices: []`) sent when `stream_options.include_usage` is true. */
export function usageChunkJson(meta: ResponseMeta, usage: Usage): string {
  return JSON.stringify({
    id: meta.id,
    object: "chat.completion.chunk",
    created: meta.created,
    model: meta.model,
    system_fingerprint: null,
    choices: [],
    usage,
  });
}

/** A finished tool call. */
export interface ToolCallOut {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
  [extra: string]: unknown;
}

/** One finished choice. */
export interface ChoiceOut {
  content: string | null;
  reasoning?: string;
  toolCalls: ToolCallOut[];
  finish: FinishReason;
}

/** The whole `chat.completion` object. */
export function completionBody(meta: ResponseMeta, choices: ChoiceOut[], usage: Usage) {
  return {
    id: meta.id,
    object: "chat.completion",
    created: meta.created,
    model: meta.model,
    system_fingerprint: null,
    choices: choices.map((c, index) => {
      const message: Record<string, unknown> = {
        role: "assistant",
        content: c.content,
        refusal: null,
      };
      if (c.reasoning) message.reasoning_content = c.reasoning;
      if (c.toolCalls.length > 0) message.tool_calls = c.toolCalls;
      return { index, message, logprobs: null, finish_reason: c.finish };
    }),
    usage,
  };
}

/** The text of a message's content, parts joined (images and audio count as nothing). */
export function contentText(content: Message["content"] | undefined): string {
  if (content == null) return "";
  if (typeof content === "string") return content;
  let out = "";
  for (const p of content) {
    if (p.type === "text") out += (out ? "\n" : "") + (p as { text: string }).text;
    else if (p.type === "refusal") out += (out ? "\n" : "") + (p as { refusal: string }).refusal;
  }
  return out;
}

/** The tool name of each call id of the assistant messages, to label tool results. */
export function callNames(messages: readonly Message[]): Map<string, string> {
  const names = new Map<string, string>();
  for (const m of messages) {
    if (m.role !== "assistant") continue;
    for (const tc of m.tool_calls ?? []) if (tc.id) names.set(tc.id, tc.function.name);
  }
  return names;
}

/** Prompt tokens of a request as OpenAI counts them (texts, tool calls, tool schemas). */
export function promptTokens(req: ChatRequest): number {
  let n = MESSAGE_OVERHEAD;
  for (const m of req.messages) {
    n += MESSAGE_OVERHEAD + countTokens(contentText(m.content));
    if (m.role === "assistant") {
      for (const tc of m.tool_calls ?? []) {
        n += countTokens(tc.function.name) + countTokens(tc.function.arguments);
      }
    }
  }
  if (req.tools?.length) n += countTokens(JSON.stringify(req.tools));
  return n;
}
