/**
 * Cohere's `/v2/chat` event stream as `ChatEvent`s (`fromCohereStream`): `content-delta` text and
 * thinking, `tool-plan-delta` as reasoning, `tool-call-start/delta` as tool calls (ids kept, the
 * client's names restored), `citation-start` sources with a URL as numbered citations,
 * `message-end` as usage and finish. `debug` and unknown events are skipped. A stream that ends
 * without `message-end` is an error, and so is a `message-end` that reports one.
 *
 * @module
 */
import type { SseEvent } from "../../net/sse.ts";
import { upstreamFailed, upstreamTimeout } from "../../openai/errors.ts";
import type { ToolNames } from "../gemini/names.ts";
import { readShape } from "../shape.ts";
import type { ChatEvent, FinishReason } from "../types.ts";
import { z } from "npm:zod@^4.6.7";

type Json = Record<string, unknown>;

/** One event of the stream (`StreamedChatResponseV2`). */
export interface CohereEvent {
  type?: string;
  index?: number;
  id?: string;
  delta?: {
    message?: {
      content?: { text?: string; thinking?: string; type?: string };
      tool_plan?: string;
      tool_calls?: {
        id?: string;
        function?: { name?: string; arguments?: string };
      };
      citations?: { sources?: CohereSource[] };
    };
    finish_reason?: string;
    error?: string;
    usage?: CohereUsage;
  };
}

/** A cited source: a document (with its fields) or a tool's output. */
export interface CohereSource {
  type?: string;
  id?: string;
  document?: Json;
  tool_output?: Json;
}

/** Usage of `message-end` (and of a whole answer). */
export interface CohereUsage {
  billed_units?: { input_tokens?: number; output_tokens?: number };
  tokens?: { input_tokens?: number; output_tokens?: number };
  cached_tokens?: number;
}

const FINISH: Record<string, FinishReason> = {
  COMPLETE: "stop",
  STOP_SEQUENCE: "stop",
  MAX_TOKENS: "length",
  TOOL_CALL: "tool_calls",
};

/** Maps Cohere's finish reason to OpenAI's. */
export function mapFinish(reason: string): FinishReason {
  return FINISH[reason] ?? "stop";
}

/** The usage event of Cohere's usage (billed units first: what the key is charged). */
export function usageEvent(u: CohereUsage): Extract<ChatEvent, { type: "usage" }> | undefined {
  const prompt = u.billed_units?.input_tokens ?? u.tokens?.input_tokens;
  const completion = u.billed_units?.output_tokens ?? u.tokens?.output_tokens;
  if (prompt === undefined && completion === undefined) return undefined;
  const ev: Extract<ChatEvent, { type: "usage" }> = {
    type: "usage",
    prompt_tokens: prompt ?? 0,
    completion_tokens: completion ?? 0,
  };
  if (typeof u.cached_tokens === "number") ev.cached_tokens = u.cached_tokens;
  return ev;
}

function str(v: unknown): string | undefined {
  return typeof v === "string" && v !== "" ? v : undefined;
}

/** Turns the events of one answer into `ChatEvent`s; `done` tells whether `message-end` came. */
export class CohereMapper {
  #calls = new Map<number, number>();
  #open = -1;
  #sources = new Map<string, number>();
  done = false;

  constructor(readonly names: ToolNames) {}

  /** The events of one stream event; an ERROR or TIMEOUT end throws. */
  *map(ev: CohereEvent): Generator<ChatEvent> {
    const msg = ev.delta?.message;
    switch (ev.type) {
      case "content-delta": {
        const c = msg?.content;
        if (str(c?.thinking)) yield { type: "reasoning", text: c!.thinking! };
        if (str(c?.text)) yield { type: "text", text: c!.text! };
        break;
      }
      case "tool-plan-delta":
        if (str(msg?.tool_plan)) yield { type: "reasoning", text: msg!.tool_plan! };
        break;
      case "tool-call-start": {
        const tc = msg?.tool_calls;
        const index = this.#calls.size;
        this.#open = ev.index ?? index;
        this.#calls.set(this.#open, index);
        yield {
          type: "tool_call",
          index,
          id: str(tc?.id),
          name: this.names.client(tc?.function?.name ?? ""),
          arguments: tc?.function?.arguments ?? "",
        };
        break;
      }
      case "tool-call-delta": {
        // Cohere's own examples leave the index out on some deltas: the open call is meant.
        const index = this.#calls.get(ev.index ?? this.#open);
        const args = msg?.tool_calls?.function?.arguments;
        if (index !== undefined && str(args)) yield { type: "tool_call", index, arguments: args! };
        break;
      }
      case "citation-start":
        yield* this.#citations(msg?.citations?.sources ?? []);
        break;
      case "message-end":
        yield* this.#end(ev);
        break;
    }
  }

  *#citations(sources: CohereSource[]): Generator<ChatEvent> {
    for (const s of sources) {
      const data = s.document ?? s.tool_output ?? {};
      const url = str(data.url);
      if (!url) continue;
      let n = this.#sources.get(url);
      if (n === undefined) {
        n = this.#sources.size + 1;
        this.#sources.set(url, n);
      }
      const title = str(data.title);
      yield title
        ? { type: "citation", index: n, url, title }
        : { type: "citation", index: n, url };
    }
  }

  *#end(ev: CohereEvent): Generator<ChatEvent> {
    this.done = true;
    const reason = ev.delta?.finish_reason ?? "COMPLETE";
    const detail = ev.delta?.error ? `: ${ev.delta.error}` : "";
    if (reason === "ERROR") {
      throw upstreamFailed("cohere", `the generation failed (finish_reason ERROR)${detail}`);
    }
    if (reason === "TIMEOUT") {
      throw upstreamTimeout("cohere", `the generation ran out of time (finish_reason TIMEOUT)`);
    }
    const usage = ev.delta?.usage ? usageEvent(ev.delta.usage) : undefined;
    if (usage) yield usage;
    yield { type: "finish", reason: mapFinish(reason) };
  }
}

const text = z.string().nullish();
const count = z.number().nonnegative().nullish();
const tokens = z.looseObject({ input_tokens: count, output_tokens: count }).nullish();
/** An unreadable usage is dropped: the meter counts instead. */
const usage = z.looseObject({ billed_units: tokens, tokens, cached_tokens: count }).nullish()
  .catch(undefined);
const source = z.looseObject({ url: text, title: text }).nullish();

/** Every event: its type and index. */
const eventBase = z.looseObject({ type: text, index: z.int().nonnegative().nullish() });

function messageDelta<T extends z.core.$ZodLooseShape>(shape: T) {
  return z.looseObject({
    delta: z.looseObject({ message: z.looseObject(shape).nullish() }).nullish(),
  });
}

/** The fields each event type is read for (`message-start` carries lists where these have objects). */
const EVENT_SHAPES: Record<string, z.ZodType> = {
  "content-delta": messageDelta({
    content: z.looseObject({ text, thinking: text }).nullish(),
  }),
  "tool-plan-delta": messageDelta({ tool_plan: text }),
  "tool-call-start": messageDelta({
    tool_calls: z.looseObject({
      id: text,
      function: z.looseObject({ name: text, arguments: text }).nullish(),
    }).nullish(),
  }),
  "tool-call-delta": messageDelta({
    tool_calls: z.looseObject({ function: z.looseObject({ arguments: text }).nullish() })
      .nullish(),
  }),
  "citation-start": messageDelta({
    citations: z.looseObject({
      sources: z.array(z.looseObject({ document: source, tool_output: source })).nullish(),
    }).nullish(),
  }),
  "message-end": z.looseObject({
    delta: z.looseObject({ finish_reason: text, error: text, usage }).nullish(),
  }),
};

/** One event checked for the fields its type is read for (a 502 naming a field that is not). */
function readEvent(json: unknown, data: string): CohereEvent {
  const base = readShape("cohere", eventBase, json, "a stream event", data);
  const shape = base.type ? EVENT_SHAPES[base.type] : undefined;
  const ev = shape ? readShape("cohere", shape, base, `a ${base.type} event`, data) : base;
  return ev as CohereEvent;
}

/** The `ChatEvent`s of a `/v2/chat` event stream. */
export async function* fromCohereStream(
  events: AsyncIterable<SseEvent>,
  names: ToolNames,
): AsyncGenerator<ChatEvent> {
  const mapper = new CohereMapper(names);
  for await (const e of events) {
    const data = e.data.trim();
    if (data === "" || data === "[DONE]") continue;
    let json: unknown;
    try {
      json = JSON.parse(data);
    } catch {
      throw upstreamFailed("cohere", `stream event is not JSON: ${data.slice(0, 200)}`);
    }
    yield* mapper.map(readEvent(json, data));
    if (mapper.done) return;
  }
  throw upstreamFailed("cohere", "the stream ended without message-end");
}
