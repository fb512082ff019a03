/**
 * Maps an OpenAI-compatible upstream's answer (stream chunks or one completion) to `ChatEvent`s.
 * Upstreams differ in small ways this absorbs: tool-call deltas without `index`, `reasoning` or
 * `reasoning_content`, usage in a chunk of its own or on the finish chunk, errors inside the stream.
 *
 * @module
 */
import type { SseEvent } from "../../net/sse.ts";
import { GatewayError, upstreamFailed } from "../../openai/errors.ts";
import { isObject } from "../../util/json.ts";
import { readShape } from "../shape.ts";
import type { ChatEvent, FinishReason } from "../types.ts";
import { z } from "npm:zod@^4.6.7";

const text = z.string().nullish();
const count = z.number().nonnegative().nullish();

/** The usage fields read (an unreadable usage is dropped: the meter counts instead). */
const usageSchema = z.looseObject({
  prompt_tokens: count,
  completion_tokens: count,
  prompt_tokens_details: z.looseObject({ cached_tokens: count }).nullish(),
  completion_tokens_details: z.looseObject({ reasoning_tokens: count }).nullish(),
}).nullish().catch(undefined);

const toolCallDelta = z.looseObject({
  index: z.int().nonnegative().nullish(),
  id: text,
  type: text,
  function: z.looseObject({ name: text, arguments: text }).nullish(),
});

/** The fields of a `chat.completion.chunk` the mapper reads. */
const chunkSchema = z.looseObject({
  choices: z.array(z.looseObject({
    index: z.int().nonnegative().nullish(),
    delta: z.looseObject({
      content: text,
      reasoning_content: text,
      reasoning: text,
      tool_calls: z.array(toolCallDelta).nullish(),
    }).nullish(),
    finish_reason: text,
  })).nullish(),
  usage: usageSchema,
});

/** The fields of a whole `chat.completion` the mapper reads. */
const completionSchema = z.looseObject({
  choices: z.array(z.looseObject({
    index: z.int().nonnegative().nullish(),
    message: z.looseObject({
      content: text,
      reasoning_content: text,
      tool_calls: z.array(toolCallDelta).nullish(),
    }).nullish(),
    finish_reason: text,
  })).nullish(),
  usage: usageSchema,
});

type Chunk = z.infer<typeof chunkSchema>;
type Usage = NonNullable<z.infer<typeof usageSchema>>;
type ToolCallDelta = z.infer<typeof toolCallDelta>;

const FINISH: Record<string, FinishReason> = {
  stop: "stop",
  length: "length",
  tool_calls: "tool_calls",
  function_call: "tool_calls",
  content_filter: "content_filter",
  max_tokens: "length",
  end_turn: "stop",
  eos: "stop",
};

/** Maps a finish reason of any OpenAI-like upstream to one of OpenAI's four. */
export function mapFinish(reason: string): FinishReason {
  return FINISH[reason] ?? "stop";
}

/** Turns one OpenAI-compatible stream into events; keeps tool-call indexes stable per choice. */
export class OpenAiStreamMapper {
  /** Per choice: the upstream's call key -> our index. */
  #calls = new Map<number, Map<string, number>>();
  #lastCall = new Map<number, string>();
  #usage?: ChatEvent;

  constructor(readonly provider: string) {}

  /** The events of one `data:` payload. */
  *map(data: string): Generator<ChatEvent> {
    let json: unknown;
    try {
      json = JSON.parse(data);
    } catch {
      throw upstreamFailed(this.provider, `stream event is not JSON: ${data.slice(0, 200)}`);
    }
    if (isObject(json) && json.error) throw streamError(this.provider, json.error);
    const chunk: Chunk = readShape(this.provider, chunkSchema, json, "a stream event", data);
    for (const c of chunk.choices ?? []) {
      const choice = c.index ?? 0;
      const d = c.delta ?? {};
      const reasoning = d.reasoning_content ?? d.reasoning;
      if (reasoning) yield { type: "reasoning", text: reasoning, choice };
      if (d.content) yield { type: "text", text: d.content, choice };
      for (const tc of d.tool_calls ?? []) yield* this.#toolCall(choice, tc);
      if (c.finish_reason) yield { type: "finish", reason: mapFinish(c.finish_reason), choice };
    }
    if (chunk.usage) this.#usage = usageEvent(chunk.usage);
  }

  /** The usage event, once the stream ended (usage may come before or after the finish). */
  *end(): Generator<ChatEvent> {
    if (this.#usage) yield this.#usage;
  }

  *#toolCall(choice: number, tc: ToolCallDelta): Generator<ChatEvent> {
    let calls = this.#calls.get(choice);
    if (!calls) this.#calls.set(choice, calls = new Map());
    // A call is known by its upstream index; without one, by its id; else it continues the last.
    const key = tc.index != null
      ? `i${tc.index}`
      : tc.id
      ? `id${tc.id}`
      : this.#lastCall.get(choice) ?? "i0";
    let index = calls.get(key);
    const first = index === undefined;
    if (index === undefined) {
      index = calls.size;
      calls.set(key, index);
    }
    this.#lastCall.set(choice, key);
    const args = tc.function?.arguments ?? "";
    if (first) {
      yield {
        type: "tool_call",
        index,
        id: tc.id ?? undefined,
        name: tc.function?.name ?? "",
        arguments: args,
        choice,
      };
    } else if (args) {
      yield { type: "tool_call", index, arguments: args, choice };
    }
  }
}

function usageEvent(u: Usage): ChatEvent {
  return {
    type: "usage",
    prompt_tokens: u.prompt_tokens ?? 0,
    completion_tokens: u.completion_tokens ?? 0,
    cached_tokens: u.prompt_tokens_details?.cached_tokens ?? undefined,
    reasoning_tokens: u.completion_tokens_details?.reasoning_tokens ?? undefined,
  };
}

/** An error object found inside a stream as a `GatewayError`. */
function streamError(provider: string, error: unknown): GatewayError {
  const e = (typeof error === "object" && error) ? error as Record<string, unknown> : {};
  const message = typeof error === "string" ? error : String(e.message ?? JSON.stringify(error));
  const code = Number(e.code ?? e.status);
  const status = code >= 400 && code < 600 ? (code === 429 ? 429 : code < 500 ? 400 : 502) : 502;
  return new GatewayError(status, `${provider} upstream error in stream: ${message}`);
}

/**
 * The events of an OpenAI-compatible SSE stream, up to `[DONE]`. A stream that ends with neither
 * `[DONE]` nor a finish reason was cut off: an error, never a finished answer.
 */
export async function* fromCustomStream(
  events: AsyncIterable<SseEvent>,
  provider = "custom",
): AsyncGenerator<ChatEvent> {
  const mapper = new OpenAiStreamMapper(provider);
  let done = false;
  let finished = false;
  for await (const ev of events) {
    if (ev.data === "[DONE]") {
      done = true;
      break;
    }
    for (const out of mapper.map(ev.data)) {
      if (out.type === "finish") finished = true;
      yield out;
    }
  }
  if (!done && !finished) {
    throw upstreamFailed(
      provider,
      "the stream ended before the answer did (no finish reason, no [DONE])",
    );
  }
  yield* mapper.end();
}

/** The events of a whole `chat.completion` object (an upstream that did not stream). */
export function* fromCustomCompletion(body: unknown, provider = "custom"): Generator<ChatEvent> {
  if (isObject(body) && body.error) throw streamError(provider, body.error);
  const b = readShape(provider, completionSchema, body, "the answer");
  if (!Array.isArray(b.choices)) throw upstreamFailed(provider, "answer without choices");
  for (const c of b.choices) {
    const choice = c.index ?? 0;
    const m = c.message ?? {};
    if (m.reasoning_content) yield { type: "reasoning", text: m.reasoning_content, choice };
    if (m.content) yield { type: "text", text: m.content, choice };
    let index = 0;
    for (const tc of m.tool_calls ?? []) {
      yield {
        type: "tool_call",
        index: index++,
        id: tc.id ?? undefined,
        name: tc.function?.name ?? "",
        arguments: tc.function?.arguments ?? "",
        choice,
      };
    }
    yield { type: "finish", reason: mapFinish(c.finish_reason ?? "stop"), choice };
  }
  if (b.usage) yield usageEvent(b.usage);
}
