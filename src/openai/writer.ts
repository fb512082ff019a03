/**
 * The Chat Completions writer: turns the pipeline's `ChatEvent`s into a `chat.completion` or an
 * SSE stream of `chat.completion.chunk`s (the mechanics of streaming in `util/event_stream.ts`).
 *
 * - Tool-call indexes are renumbered per choice in order of appearance (0, 1, ...); `id`, `type`
 *   and `name` appear only in a call's first delta.
 * - Cited sources become footnotes (`[1]: url "title"`) after the choice's text: Chat Completions
 *   has no annotations.
 * - An error after the stream started becomes a final `data: {"error":...}` event, then `[DONE]`.
 *
 * @module
 */
import type { ChatEvent, CitationEvent, FinishReason, UsageEvent } from "../core/events.ts";
import { toolCallId } from "../util/id.ts";
import { CLIENT_CLOSED, SSE_HEADERS, streamEvents } from "../util/event_stream.ts";

export { CLIENT_CLOSED } from "../util/event_stream.ts";
import { type GatewayError, toGatewayError } from "./errors.ts";
import {
  type ChoiceOut,
  chunkJson,
  chunkPrefix,
  completionBody,
  type Delta,
  type ResponseMeta,
  textChunkJson,
  type ToolCallOut,
  type Usage,
  usageChunkJson,
} from "./response.ts";

/** How one response is written. */
export interface WriterOptions {
  meta: ResponseMeta;
  stream: boolean;
  /** `stream_options.include_usage`: add a usage-only chunk before `[DONE]`. */
  includeUsage: boolean;
  /** Milliseconds of upstream silence before a keep-alive comment. */
  keepAliveMs: number;
  /** Aborted when the client leaves; the writer aborts it too when the stream is cancelled. */
  abort: AbortController;
  /** Called just before a streamed response is returned (see `makeContext`'s `detach`). */
  onCommit?: () => void;
  /** Called once when the response is complete (or failed, or the client left). */
  onEnd?: (end: WriterEnd) => void;
}

/** How a response ended, for the access log. */
export interface WriterEnd {
  status: number;
  error?: GatewayError;
  aborted?: boolean;
  usage?: Usage;
}

const encoder = new TextEncoder();
const KEEP_ALIVE = encoder.encode(": keep-alive\n\n");
const DONE = encoder.encode("data: [DONE]\n\n");

/** The footnotes of cited sources, as the text after an answer. */
export function footnotes(citations: readonly CitationEvent[]): string {
  const seen = new Set<number>();
  const lines: string[] = [];
  for (const c of citations) {
    if (seen.has(c.index)) continue;
    seen.add(c.index);
    lines.push(`[${c.index}]: ${c.url}${c.title ? ` ${JSON.stringify(c.title)}` : ""}`);
  }
  return lines.length > 0 ? `\n\n${lines.join("\n")}` : "";
}

class CallState {
  constructor(
    readonly out: number,
    readonly id: string,
    readonly name: string,
    readonly extra: Record<string, unknown> | undefined,
  ) {}
  args: string[] = [];
}

/** What the writer tracks of one choice. */
class ChoiceState {
  started = false;
  finish?: FinishReason;
  calls = new Map<number, CallState>();
  /** Kept only for non-streamed responses. */
  text: string[] = [];
  reasoning: string[] = [];
  /** Sources the answer cites, written as footnotes when the choice ends. */
  citations: CitationEvent[] = [];

  finishReason(): FinishReason {
    if (this.calls.size > 0 && (this.finish === undefined || this.finish === "stop")) {
      return "tool_calls";
    }
    return this.finish ?? "stop";
  }
}

/** Accumulates events into per-choice state and renders them as deltas. */
class Assembler {
  choices = new Map<number, ChoiceState>();
  /** The answer's usage: the pipeline's meter always sends one. */
  usage?: UsageEvent;

  constructor(readonly keep: boolean) {}

  #choice(i: number): ChoiceState {
    let c = this.choices.get(i);
    if (!c) this.choices.set(i, c = new ChoiceState());
    return c;
  }

  /** Applies an event; returns the chunk deltas it produces (for streams). */
  apply(ev: ChatEvent): { choice: number; delta: Delta }[] {
    if (ev.type === "usage") {
      this.usage = ev;
      return [];
    }
    const index = ev.choice ?? 0;
    const c = this.#choice(index);
    const out: { choice: number; delta: Delta }[] = [];
    if (!c.started) {
      c.started = true;
      out.push({ choice: index, delta: { role: "assistant", content: "" } });
    }
    switch (ev.type) {
      case "text":
        if (ev.text === "") break;
        if (this.keep) c.text.push(ev.text);
        out.push({ choice: index, delta: { content: ev.text } });
        break;
      case "reasoning":
        if (ev.text === "") break;
        if (this.keep) c.reasoning.push(ev.text);
        out.push({ choice: index, delta: { reasoning_content: ev.text } });
        break;
      case "tool_call": {
        let call = c.calls.get(ev.index);
        if (!call) {
          call = new CallState(c.calls.size, ev.id || toolCallId(), ev.name ?? "", ev.extra);
          c.calls.set(ev.index, call);
          if (this.keep) call.args.push(ev.arguments);
          out.push({
            choice: index,
            delta: {
              tool_calls: [{
                index: call.out,
                id: call.id,
                type: "function",
                function: { name: call.name, arguments: ev.arguments },
                ...call.extra,
              }],
            },
          });
        } else if (ev.arguments) {
          if (this.keep) call.args.push(ev.arguments);
          out.push({
            choice: index,
            delta: { tool_calls: [{ index: call.out, function: { arguments: ev.arguments } }] },
          });
        }
        break;
      }
      case "citation":
        c.citations.push(ev);
        break;
      case "finish":
        c.finish = ev.reason;
        break;
    }
    return out;
  }

  /** The final usage, as the pipeline's meter counted it. */
  finalUsage(): Usage {
    const u = this.usage;
    const prompt = u?.prompt_tokens ?? 0;
    const completion = u?.completion_tokens ?? 0;
    const usage: Usage = {
      prompt_tokens: prompt,
      completion_tokens: completion,
      total_tokens: prompt + completion,
    };
    if (u?.cached_tokens !== undefined) {
      usage.prompt_tokens_details = { cached_tokens: u.cached_tokens };
    }
    if (u?.reasoning_tokens !== undefined) {
      usage.completion_tokens_details = { reasoning_tokens: u.reasoning_tokens };
    }
    return usage;
  }

  /** Choices in index order; choice 0 exists even when nothing came. */
  ordered(): [number, ChoiceState][] {
    this.#choice(0);
    return [...this.choices.entries()].sort((a, b) => a[0] - b[0]);
  }
}

/** Writes a chat response from `events`. */
export async function writeChat(
  events: AsyncIterable<ChatEvent>,
  options: WriterOptions,
): Promise<Response> {
  return options.stream ? await writeStream(events, options) : await writeJson(events, options);
}

/** What `failedEarly` needs of a writer's options (every client API's writer has it). */
export interface EarlyFailureOptions {
  abort: AbortController;
  onEnd?: (end: { status: number; error?: GatewayError; aborted?: boolean }) => void;
}

/**
 * The error response for a failure before anything was sent, in the client API's shape
 * (`render`); a client that left is no error.
 */
export function failedEarly(
  err: unknown,
  o: EarlyFailureOptions,
  render: (e: GatewayError) => Response = errorResponse,
): Response {
  if (o.abort.signal.aborted) {
    o.onEnd?.({ status: CLIENT_CLOSED, aborted: true });
    return new Response(null, { status: CLIENT_CLOSED });
  }
  const e = toGatewayError(err);
  o.onEnd?.({ status: e.status, error: e });
  return render(e);
}

/** The JSON error response for `err` in OpenAI's shape. */
export function errorResponse(err: GatewayError, headers: HeadersInit = {}): Response {
  const h = new Headers(headers);
  h.set("content-type", "application/json");
  if (err.retryAfter !== undefined) h.set("retry-after", String(Math.ceil(err.retryAfter)));
  return new Response(JSON.stringify(err.toBody()), { status: err.status, headers: h });
}

async function writeJson(events: AsyncIterable<ChatEvent>, o: WriterOptions): Promise<Response> {
  const asm = new Assembler(true);
  try {
    for await (const ev of events) asm.apply(ev);
  } catch (err) {
    return failedEarly(err, o);
  }
  const choices: ChoiceOut[] = asm.ordered().map(([, c]) => {
    const toolCalls: ToolCallOut[] = [...c.calls.values()].map((call) => ({
      id: call.id,
      type: "function",
      function: { name: call.name, arguments: call.args.join("") },
      ...call.extra,
    }));
    const text = c.text.join("") + footnotes(c.citations);
    return {
      content: text === "" && toolCalls.length > 0 ? null : text,
      reasoning: c.reasoning.length > 0 ? c.reasoning.join("") : undefined,
      toolCalls,
      finish: c.finishReason(),
    };
  });
  const usage = asm.finalUsage();
  o.onEnd?.({ status: 200, usage });
  return new Response(JSON.stringify(completionBody(o.meta, choices, usage)), {
    headers: { "content-type": "application/json" },
  });
}

function sse(json: string): Uint8Array {
  return encoder.encode(`data: ${json}\n\n`);
}

function writeStream(events: AsyncIterable<ChatEvent>, o: WriterOptions): Promise<Response> {
  const asm = new Assembler(false);
  const prefix = chunkPrefix(o.meta);
  let usage: Usage | undefined;
  const render = (ev: ChatEvent): Uint8Array[] =>
    asm.apply(ev).map(({ choice, delta }) => {
      if (delta.role === undefined && delta.tool_calls === undefined) {
        if (typeof delta.content === "string" && delta.reasoning_content === undefined) {
          return sse(textChunkJson(prefix, choice, "content", delta.content));
        }
        if (delta.reasoning_content !== undefined && delta.content === undefined) {
          return sse(textChunkJson(prefix, choice, "reasoning_content", delta.reasoning_content));
        }
      }
      return sse(chunkJson(o.meta, choice, delta));
    });
  return streamEvents(events, {
    keepAliveMs: o.keepAliveMs,
    keepAlive: KEEP_ALIVE,
    abort: o.abort,
    headers: SSE_HEADERS,
    start: () => [],
    render,
    end() {
      const out: Uint8Array[] = [];
      usage = asm.finalUsage();
      const choices = asm.ordered();
      choices.forEach(([index, c], i) => {
        if (!c.started) out.push(sse(chunkJson(o.meta, index, { role: "assistant", content: "" })));
        const notes = footnotes(c.citations);
        if (notes) out.push(sse(textChunkJson(prefix, index, "content", notes)));
        const last = i === choices.length - 1;
        out.push(sse(chunkJson(o.meta, index, {}, c.finishReason(), last ? usage : undefined)));
      });
      if (o.includeUsage) out.push(sse(usageChunkJson(o.meta, usage)));
      out.push(DONE);
      return out;
    },
    fail: (err) => [sse(JSON.stringify(toGatewayError(err).toBody())), DONE],
    failEarly: (err) => failedEarly(err, o),
    onCommit: o.onCommit,
    onEnd(end) {
      if (end.aborted) o.onEnd?.({ status: 200, aborted: true });
      else if (end.error !== undefined) {
        o.onEnd?.({ status: 200, error: toGatewayError(end.error) });
      } else o.onEnd?.({ status: 200, usage });
    },
  });
}
