/**
 * Reads claude.ai's completion stream in both of its renderings:
 *
 * - `rendering_mode: "messages"`: the Anthropic Messages event vocabulary — `message_start`,
 *   `content_block_start` (`text`, `thinking`), `content_block_delta` (`text_delta`,
 *   `thinking_delta`), `content_block_stop`, `message_delta` (`stop_reason`), `message_limit`,
 *   `message_stop`, `ping`, `error`;
 * - `rendering_mode: "raw"` (the older one): `event: completion` with
 *   `{"completion":"<delta>","stop_reason":...}`.
 *
 * The answer is over at `message_stop`, or at a `completion` event with a stop reason. A stream
 * that ends before either is a 502: a cut-off answer is never passed off as a finished one.
 *
 * @module
 */
import type { SseEvent } from "../../net/sse.ts";
import { upstreamFailed } from "../../openai/errors.ts";
import type { ChatEvent, FinishReason } from "../types.ts";
import { claudeError, type ClaudeErrorObject } from "./errors.ts";

/** claude.ai stop reasons as OpenAI finish reasons. */
function finishOf(reason: unknown): FinishReason | undefined {
  if (typeof reason !== "string" || reason === "") return undefined;
  if (reason === "max_tokens") return "length";
  if (reason === "refusal") return "content_filter";
  return "stop";
}

/** Maps the events of one completion stream to `ChatEvent`s, one SSE event at a time. */
export class ClaudeStreamMapper {
  /** True once the upstream said the answer is over. */
  done = false;
  /** The finish reason the upstream gave, if any. */
  finish?: FinishReason;

  constructor(readonly model?: string) {}

  /** The events for one SSE event; throws the mapped error of an `error` event. */
  map(ev: SseEvent): ChatEvent[] {
    let data: Record<string, unknown>;
    try {
      const v = JSON.parse(ev.data);
      if (!v || typeof v !== "object") return [];
      data = v as Record<string, unknown>;
    } catch {
      // claude.ai interleaves nothing but JSON; anything else is noise to skip.
      return [];
    }
    const name = ev.event ?? (typeof data.type === "string" ? data.type : undefined);
    switch (name) {
      case "completion":
        return this.#completion(data);
      case "content_block_start":
        return this.#block(data.content_block);
      case "content_block_delta":
        return this.#delta(data.delta);
      case "message_delta": {
        const delta = data.delta as Record<string, unknown> | undefined;
        this.finish = finishOf(delta?.stop_reason) ?? this.finish;
        return [];
      }
      case "message_stop":
        this.done = true;
        return [];
      case "error":
        throw claudeError(0, data.error as ClaudeErrorObject | undefined, { model: this.model });
      default:
        return [];
    }
  }

  #text(text: unknown): ChatEvent[] {
    return typeof text === "string" && text !== "" ? [{ type: "text", text }] : [];
  }

  #reasoning(text: unknown): ChatEvent[] {
    return typeof text === "string" && text !== "" ? [{ type: "reasoning", text }] : [];
  }

  #completion(data: Record<string, unknown>): ChatEvent[] {
    if (data.error && typeof data.error === "object") {
      throw claudeError(0, data.error as ClaudeErrorObject, { model: this.model });
    }
    const out = this.#text(data.completion);
    const finish = finishOf(data.stop_reason);
    if (finish) {
      this.finish = finish;
      this.done = true;
    }
    return out;
  }

  #block(block: unknown): ChatEvent[] {
    if (!block || typeof block !== "object") return [];
    const b = block as Record<string, unknown>;
    if (b.type === "text") return this.#text(b.text);
    if (b.type === "thinking") return this.#reasoning(b.thinking);
    return [];
  }

  #delta(delta: unknown): ChatEvent[] {
    if (!delta || typeof delta !== "object") return [];
    const d = delta as Record<string, unknown>;
    if (d.type === "text_delta") return this.#text(d.text);
    if (d.type === "thinking_delta") return this.#reasoning(d.thinking);
    return [];
  }
}

/**
 * The events of a completion stream up to its end marker, then the finish. Events after the end
 * marker are not read: the stream is left (and its connection closed) as soon as it is over.
 */
export async function* fromClaudeStream(
  events: AsyncIterable<SseEvent>,
  model?: string,
): AsyncGenerator<ChatEvent> {
  const mapper = new ClaudeStreamMapper(model);
  for await (const ev of events) {
    yield* mapper.map(ev);
    if (mapper.done) break;
  }
  if (!mapper.done) {
    throw upstreamFailed("claude", "the answer stream ended before its end (no message_stop)");
  }
  yield { type: "finish", reason: mapper.finish ?? "stop" };
}
