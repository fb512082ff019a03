/**
 * The response writer: turns a provider's `ChatEvent`s into a `chat.completion` or an SSE stream
 * of `chat.completion.chunk`s.
 *
 * - The HTTP status is chosen when the first event arrives, so an upstream failing before it
 *   answers gives the client an honest error status. A stream whose first event takes longer than
 *   the keep-alive interval is committed as 200 and kept alive with `: keep-alive` comments.
 * - Each event is written as soon as it arrives (the body pulls; nothing is batched).
 * - Tool-call indexes are renumbered per choice in order of appearance (0, 1, ...); `id`, `type`
 *   and `name` appear only in a call's first delta.
 * - An error after the stream started becomes a final `data: {"error":...}` event, then `[DONE]`.
 * - When the client goes away the abort controller fires, which aborts the upstream request.
 *
 * @module
 */
import { GatewayError, toGatewayError } from "../openai/errors.ts";
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
} from "../openai/response.ts";
import type { ChatEvent, FinishReason } from "../providers/types.ts";
import { toolCallId } from "../util/id.ts";
import { TokenCounter } from "../util/tokens.ts";

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
  /** Prompt tokens to report when the provider sent no usage. */
  estimatePromptTokens: () => number;
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
const SSE_HEADERS = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache, no-transform",
  "x-accel-buffering": "no",
};

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
  usage?: Extract<ChatEvent, { type: "usage" }>;
  counter = new TokenCounter();

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
        this.counter.push(ev.text);
        if (this.keep) c.text.push(ev.text);
        out.push({ choice: index, delta: { content: ev.text } });
        break;
      case "reasoning":
        if (ev.text === "") break;
        this.counter.push(ev.text);
        if (this.keep) c.reasoning.push(ev.text);
        out.push({ choice: index, delta: { reasoning_content: ev.text } });
        break;
      case "tool_call": {
        let call = c.calls.get(ev.index);
        if (ev.arguments) this.counter.push(ev.arguments);
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
      case "finish":
        c.finish = ev.reason;
        break;
    }
    return out;
  }

  /** The final usage: the provider's, or counted. */
  finalUsage(estimatePrompt: () => number): Usage {
    const u = this.usage;
    const prompt = u && (u.prompt_tokens > 0 || u.completion_tokens > 0)
      ? u.prompt_tokens
      : estimatePrompt();
    const completion = u && u.completion_tokens > 0 ? u.completion_tokens : this.counter.total;
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

/** HTTP status of a request whose client left before the answer (nginx's convention). */
export const CLIENT_CLOSED = 499;

/** The error response for a failure before anything was sent; a client that left is no error. */
function failedEarly(err: unknown, o: WriterOptions): Response {
  if (o.abort.signal.aborted) {
    o.onEnd?.({ status: CLIENT_CLOSED, aborted: true });
    return new Response(null, { status: CLIENT_CLOSED });
  }
  const e = toGatewayError(err);
  o.onEnd?.({ status: e.status, error: e });
  return errorResponse(e);
}

/** The JSON error response for `err`. */
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
    const text = c.text.join("");
    return {
      content: text === "" && toolCalls.length > 0 ? null : text,
      reasoning: c.reasoning.length > 0 ? c.reasoning.join("") : undefined,
      toolCalls,
      finish: c.finishReason(),
    };
  });
  const usage = asm.finalUsage(o.estimatePromptTokens);
  o.onEnd?.({ status: 200, usage });
  return new Response(JSON.stringify(completionBody(o.meta, choices, usage)), {
    headers: { "content-type": "application/json" },
  });
}

const KEEP_ALIVE = encoder.encode(": keep-alive\n\n");
const DONE = encoder.encode("data: [DONE]\n\n");

function concat(parts: Uint8Array[]): Uint8Array {
  let size = 0;
  for (const p of parts) size += p.length;
  const out = new Uint8Array(size);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

function sse(json: string): Uint8Array {
  return encoder.encode(`data: ${json}\n\n`);
}

async function writeStream(
  events: AsyncIterable<ChatEvent>,
  o: WriterOptions,
): Promise<Response> {
  const it = events[Symbol.asyncIterator]();
  const asm = new Assembler(false);
  let ended = false;

  const end = (e: WriterEnd) => {
    if (ended) return;
    ended = true;
    o.onEnd?.(e);
  };

  // Wait for the first event, or commit to 200 after the keep-alive interval.
  let pending: Promise<IteratorResult<ChatEvent>> | undefined = it.next();
  let first: IteratorResult<ChatEvent> | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    first = await Promise.race([
      pending,
      new Promise<undefined>((r) => timer = setTimeout(() => r(undefined), o.keepAliveMs)),
    ]);
  } catch (err) {
    ended = true;
    return failedEarly(err, o);
  } finally {
    clearTimeout(timer);
  }
  if (first) pending = undefined;

  const prefix = chunkPrefix(o.meta);
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

  const finish = (): Uint8Array[] => {
    const out: Uint8Array[] = [];
    const usage = asm.finalUsage(o.estimatePromptTokens);
    const choices = asm.ordered();
    choices.forEach(([index, c], i) => {
      if (!c.started) out.push(sse(chunkJson(o.meta, index, { role: "assistant", content: "" })));
      const last = i === choices.length - 1;
      out.push(sse(chunkJson(o.meta, index, {}, c.finishReason(), last ? usage : undefined)));
    });
    if (o.includeUsage) out.push(sse(usageChunkJson(o.meta, usage)));
    out.push(DONE);
    end({ status: 200, usage });
    return out;
  };

  // Keep-alive: one timer per stream, re-armed for the time left since the last write.
  let lastWrite = performance.now();
  let closed = false;
  let keepAlive: ReturnType<typeof setTimeout> | undefined;
  let ctrl!: ReadableStreamDefaultController<Uint8Array>;
  // After `cancel` (the client left) nothing more may be enqueued or closed.
  const write = (parts: Uint8Array[]) => {
    if (closed || parts.length === 0) return;
    ctrl.enqueue(parts.length === 1 ? parts[0] : concat(parts));
    lastWrite = performance.now();
  };
  const armKeepAlive = () => {
    keepAlive = setTimeout(() => {
      if (closed) return;
      if (performance.now() - lastWrite >= o.keepAliveMs - 1) write([KEEP_ALIVE]);
      armKeepAlive();
    }, Math.max(1, lastWrite + o.keepAliveMs - performance.now()));
  };
  const close = () => {
    clearTimeout(keepAlive);
    if (closed) return;
    closed = true;
    ctrl.close();
  };

  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      ctrl = controller;
      if (!first) write([KEEP_ALIVE]);
      else if (first.done) {
        write(finish());
        close();
        return;
      } else write(render(first.value));
      armKeepAlive();
    },
    async pull() {
      try {
        while (true) {
          const r = await (pending ?? it.next());
          pending = undefined;
          if (r.done) {
            write(finish());
            close();
            return;
          }
          // Events that make no chunk (usage) are taken in the same pull.
          const parts = render(r.value);
          if (parts.length > 0) return write(parts);
        }
      } catch (err) {
        if (o.abort.signal.aborted) {
          end({ status: 200, aborted: true });
          close();
          return;
        }
        const e = toGatewayError(err);
        write([sse(JSON.stringify(e.toBody())), DONE]);
        end({ status: 200, error: e });
        close();
      }
    },
    cancel() {
      // The client went away: stop the upstream and let the provider clean up.
      closed = true;
      clearTimeout(keepAlive);
      o.abort.abort(new DOMException("client disconnected", "AbortError"));
      end({ status: 200, aborted: true });
      it.return?.().catch(() => {});
    },
  }, { highWaterMark: 0 });

  o.onCommit?.();
  return new Response(body, { status: 200, headers: SSE_HEADERS });
}
