/**
 * The events of an answer: what every provider produces and every client API's writer consumes.
 * The ground floor of the gateway: this module imports nothing, so any layer may use it.
 *
 * A provider's answer is an async stream of `ChatEvent`s. Text and reasoning arrive as deltas;
 * tool calls as a first event with the name followed by argument fragments; `usage` once (the
 * pipeline's meter completes what the upstream did not say); `finish` last. `choice` is the index
 * of the choice an event belongs to (default 0); only providers that answer `n` choices in one
 * upstream call set it.
 *
 * @module
 */

/** Why a choice ended. */
export type FinishReason = "stop" | "length" | "tool_calls" | "content_filter";

/** A piece of the answer's text. */
export interface TextEvent {
  type: "text";
  text: string;
  choice?: number;
}

/** A piece of the model's reasoning (thinking, chain of thought, thought summaries). */
export interface ReasoningEvent {
  type: "reasoning";
  text: string;
  /**
   * An opaque token the upstream attached to the reasoning (Anthropic's thinking signature,
   * Gemini's thought signature on a text part); client APIs hand it back on the next turn.
   */
  signature?: string;
  choice?: number;
}

/**
 * A tool call or a fragment of one. The first event of an `index` carries `name` (and `id` when
 * the upstream gave one; the writer makes one otherwise); later events of the same index append
 * `arguments` fragments.
 */
export interface ToolCallEvent {
  type: "tool_call";
  index: number;
  id?: string;
  name?: string;
  arguments: string;
  choice?: number;
  /** Provider fields to put on the tool call object (e.g. Gemini's thought signature). */
  extra?: Record<string, unknown>;
}

/** A source the answer cites: numbered in order of first appearance. */
export interface CitationEvent {
  type: "citation";
  /** The footnote number, 1-based, as the text refers to it (`[1]`). */
  index: number;
  url: string;
  title?: string;
  choice?: number;
}

/** Token counts of the whole answer (all choices). */
export interface UsageEvent {
  type: "usage";
  prompt_tokens: number;
  completion_tokens: number;
  /** Prompt tokens served from the upstream's cache, when it says so. */
  cached_tokens?: number;
  /** Prompt tokens written to the upstream's cache, when it says so. */
  cache_creation_tokens?: number;
  /** Completion tokens spent on reasoning, when the upstream says so. */
  reasoning_tokens?: number;
}

/** The end of a choice. */
export interface FinishEvent {
  type: "finish";
  reason: FinishReason;
  /** The stop sequence that ended the answer, when one did. */
  stop_sequence?: string;
  choice?: number;
}

/** One event of an answer. */
export type ChatEvent =
  | TextEvent
  | ReasoningEvent
  | ToolCallEvent
  | CitationEvent
  | UsageEvent
  | FinishEvent;

/**
 * Reasoning the client asked for, in one shape whatever API it spoke: an effort level
 * (`reasoning_effort`, Responses' `reasoning.effort`, Anthropic's `output_config.effort`) and/or a
 * token budget (Anthropic's `thinking.budget_tokens`). `enabled: false` turns it off where the
 * upstream can.
 */
export interface ReasoningRequest {
  effort?: "none" | "minimal" | "low" | "medium" | "high" | "xhigh";
  /** Tokens the model may spend thinking. */
  budget_tokens?: number;
  enabled?: boolean;
}
