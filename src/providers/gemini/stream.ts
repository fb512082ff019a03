/**
 * Gemini answers (`GenerateContentResponse`s, streamed or whole) as `ChatEvent`s: every part of
 * every candidate (text, thought text as reasoning, function calls with their thought signatures
 * and the client's tool names), finish reasons, usage, blocked prompts and errors in the stream.
 * `fromGeminiStream` reads the `alt=sse` stream; one that ends before every candidate has its
 * `finishReason` is an error, not a finished answer.
 *
 * @module
 */
import type { SseEvent } from "../../net/sse.ts";
import { upstreamFailed } from "../../openai/errors.ts";
import { toolCallId } from "../../util/id.ts";
import type { ChatEvent, FinishReason } from "../types.ts";
import { snippet } from "../../net/http.ts";
import { isObject } from "../../util/json.ts";
import { readShape } from "../shape.ts";
import { fromGoogleError, type GoogleError, googleErrorOf } from "./errors.ts";
import { z } from "npm:zod@^4.6.7";
import type { ToolNames } from "./names.ts";
import type { GeminiPart } from "./request.ts";
import type { SignatureCache } from "./signatures.ts";

/** What the API sends (one chunk of a stream, or the whole answer). */
export interface GeminiResponse {
  candidates?: {
    content?: { parts?: GeminiPart[]; role?: string };
    finishReason?: string;
    index?: number;
  }[];
  promptFeedback?: { blockReason?: string };
  usageMetadata?: {
    promptTokenCount?: number;
    candidatesTokenCount?: number;
    thoughtsTokenCount?: number;
    cachedContentTokenCount?: number;
    totalTokenCount?: number;
  };
  error?: GoogleError;
}

const text = z.string().nullish();
const count = z.number().nonnegative().nullish();

/** The fields of a part the mapper reads. */
const partSchema = z.looseObject({
  text,
  thought: z.boolean().nullish(),
  thoughtSignature: text,
  functionCall: z.looseObject({
    name: z.string(),
    args: z.record(z.string(), z.unknown()).nullish(),
    id: text,
  }).nullish(),
});

/** The fields of an answer (chunk) the mapper reads; an unreadable usage is dropped. */
const responseSchema = z.looseObject({
  candidates: z.array(z.looseObject({
    content: z.looseObject({ parts: z.array(partSchema).nullish(), role: text }).nullish(),
    finishReason: text,
    index: z.int().nonnegative().nullish(),
  })).nullish(),
  promptFeedback: z.looseObject({ blockReason: text }).nullish(),
  usageMetadata: z.looseObject({
    promptTokenCount: count,
    candidatesTokenCount: count,
    thoughtsTokenCount: count,
    cachedContentTokenCount: count,
    totalTokenCount: count,
  }).nullish().catch(undefined),
});

const FINISH: Record<string, FinishReason> = {
  STOP: "stop",
  MAX_TOKENS: "length",
  SAFETY: "content_filter",
  RECITATION: "content_filter",
  BLOCKLIST: "content_filter",
  PROHIBITED_CONTENT: "content_filter",
  SPII: "content_filter",
  IMAGE_SAFETY: "content_filter",
  LANGUAGE: "stop",
  OTHER: "stop",
  FINISH_REASON_UNSPECIFIED: "stop",
};

/** Maps Gemini's finish reason to OpenAI's. */
export function mapFinish(reason: string): FinishReason {
  return FINISH[reason] ?? "stop";
}

/** Turns one answer's chunks into events. */
export class GeminiMapper {
  /** Per candidate: tool calls emitted so far. */
  #calls = new Map<number, number>();
  /** Per candidate: whether anything was emitted. */
  #emitted = new Set<number>();
  /** Candidates seen, and those that finished. */
  #seen = new Set<number>();
  #finished = new Set<number>();
  #blocked = false;
  #usage?: GeminiResponse["usageMetadata"];

  constructor(
    readonly names: ToolNames,
    readonly signatures: SignatureCache,
    readonly parallel = true,
  ) {}

  /**
   * The events of one chunk (`raw`: its text, for error messages); an error object in it is
   * thrown as a `GatewayError`, and so is a field of another type than Gemini's.
   */
  *map(json: unknown, raw?: string): Generator<ChatEvent> {
    const error = googleErrorOf(json);
    if (error) throw fromGoogleError(error);
    if (isObject(json) && json.error != null) {
      throw upstreamFailed("gemini", `an error it did not describe: ${snippet(raw ?? "")}`);
    }
    const chunk = readShape("gemini", responseSchema, json, "an answer", raw) as GeminiResponse;
    if (chunk.usageMetadata) this.#usage = chunk.usageMetadata;
    const candidates = chunk.candidates ?? [];
    if (candidates.length === 0 && chunk.promptFeedback?.blockReason) {
      this.#blocked = true;
      yield { type: "finish", reason: "content_filter", choice: 0 };
      return;
    }
    for (const [i, c] of candidates.entries()) {
      const choice = c.index ?? i;
      this.#seen.add(choice);
      for (const p of c.content?.parts ?? []) yield* this.#part(choice, p);
      if (c.finishReason) {
        this.#finished.add(choice);
        if (c.finishReason === "MALFORMED_FUNCTION_CALL" && !this.#emitted.has(choice)) {
          throw upstreamFailed("gemini", "the model produced a malformed function call");
        }
        yield { type: "finish", reason: mapFinish(c.finishReason), choice };
      }
    }
  }

  *#part(choice: number, p: GeminiPart): Generator<ChatEvent> {
    if (typeof p.text === "string" && p.text !== "") {
      this.#emitted.add(choice);
      yield { type: p.thought ? "reasoning" : "text", text: p.text, choice };
      return;
    }
    if (!p.functionCall) return;
    const n = this.#calls.get(choice) ?? 0;
    // One call at most when the client said `parallel_tool_calls: false`.
    if (n > 0 && !this.parallel) return;
    this.#calls.set(choice, n + 1);
    this.#emitted.add(choice);
    const fc = p.functionCall;
    const id = fc.id || toolCallId();
    const event: ChatEvent = {
      type: "tool_call",
      index: n,
      id,
      name: this.names.client(fc.name),
      arguments: JSON.stringify(fc.args ?? {}),
      choice,
    };
    if (p.thoughtSignature) {
      this.signatures.set(id, p.thoughtSignature);
      event.extra = { extra_content: { google: { thought_signature: p.thoughtSignature } } };
    }
    yield event;
  }

  /** True when the answer is complete: blocked, or every candidate seen has finished. */
  get complete(): boolean {
    if (this.#blocked) return true;
    if (this.#seen.size === 0) return false;
    for (const c of this.#seen) if (!this.#finished.has(c)) return false;
    return true;
  }

  /** The usage event, once the answer is over. */
  *end(): Generator<ChatEvent> {
    const u = this.#usage;
    if (!u || (u.promptTokenCount == null && u.candidatesTokenCount == null)) return;
    const thoughts = u.thoughtsTokenCount ?? 0;
    const event: Extract<ChatEvent, { type: "usage" }> = {
      type: "usage",
      prompt_tokens: u.promptTokenCount ?? 0,
      // OpenAI counts reasoning tokens inside completion tokens.
      completion_tokens: (u.candidatesTokenCount ?? 0) + thoughts,
    };
    if (u.thoughtsTokenCount != null) event.reasoning_tokens = thoughts;
    if (u.cachedContentTokenCount != null) event.cached_tokens = u.cachedContentTokenCount;
    yield event;
  }
}

/** The `ChatEvent`s of a `:streamGenerateContent?alt=sse` stream. */
export async function* fromGeminiStream(
  events: AsyncIterable<SseEvent>,
  mapper: GeminiMapper,
): AsyncGenerator<ChatEvent> {
  for await (const ev of events) {
    if (ev.data.trim() === "") continue;
    let chunk: unknown;
    try {
      chunk = JSON.parse(ev.data);
    } catch {
      throw upstreamFailed("gemini", `stream event is not JSON: ${ev.data.slice(0, 200)}`);
    }
    yield* mapper.map(chunk, ev.data);
  }
  if (!mapper.complete) throw upstreamFailed("gemini", "the stream ended without a finishReason");
  yield* mapper.end();
}
