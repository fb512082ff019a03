/**
 * The Responses writer: the pipeline's `ChatEvent`s as a `response` object or an SSE stream of
 * Responses server events (the mechanics of streaming in `util/event_stream.ts`, the items in
 * `assembler.ts`).
 *
 * A stream opens with `response.created` and `response.in_progress` and ends with
 * `response.completed` (`response.incomplete` when the answer hit the token limit or a content
 * filter). A failure after the start closes the open item as incomplete, then sends an `error`
 * event and `response.failed`. The finished response is handed to `persist` (the store) before
 * the client receives its last event, so that a client continuing at once finds it.
 *
 * @module
 */
import type { ChatEvent } from "../core/events.ts";
import { type GatewayError, toGatewayError } from "../openai/errors.ts";
import { failedEarly } from "../openai/writer.ts";
import { SSE_HEADERS, streamEvents } from "../util/event_stream.ts";
import { ResponseAssembler } from "./assembler.ts";
import {
  publicResponse,
  type ResponseMeta,
  type ResponseObject,
  responseObject,
  type ResponseUsage,
  usageOf,
} from "./object.ts";
import type { ToolMap } from "./tools.ts";

/** A finished response as the store keeps it. */
export interface FinishedResponse {
  /** The response with every output item whole (reasoning signatures included). */
  response: ResponseObject;
  /** Provider fields of its tool calls, by call id. */
  extras: Record<string, Record<string, unknown>>;
}

/** How a response ended, for the access log. */
export interface ResponsesEnd {
  status: number;
  error?: GatewayError;
  aborted?: boolean;
  usage?: ResponseUsage;
}

/** How one response is written. */
export interface ResponsesWriterOptions {
  meta: ResponseMeta;
  tools: ToolMap;
  stream: boolean;
  /** Show reasoning's `encrypted_content` (`include: ["reasoning.encrypted_content"]`). */
  encrypted: boolean;
  /** Milliseconds of upstream silence before a keep-alive comment. */
  keepAliveMs: number;
  /** Aborted when the client leaves; the writer aborts it too when the stream is cancelled. */
  abort: AbortController;
  /** Called just before a streamed response is returned (see `makeContext`'s `detach`). */
  onCommit?: () => void;
  /** Keeps the finished response; awaited before the client gets the last event. */
  persist?: (r: FinishedResponse) => void | Promise<void>;
  /** Called once when the response is complete (or failed, or the client left). */
  onEnd?: (end: ResponsesEnd) => void;
}

const encoder = new TextEncoder();
const KEEP_ALIVE = encoder.encode(": keep-alive\n\n");

/** Writes the response to `events`, streamed or not. */
export async function writeResponses(
  events: AsyncIterable<ChatEvent>,
  o: ResponsesWriterOptions,
): Promise<Response> {
  return o.stream ? await writeStream(events, o) : await writeJson(events, o);
}

/** The finished response: the open item closed, status from the finish reason. */
function finish(asm: ResponseAssembler, meta: ResponseMeta): ResponseObject {
  const reason = asm.finish?.reason;
  const incomplete = reason === "length"
    ? { reason: "max_output_tokens" as const }
    : reason === "content_filter"
    ? { reason: "content_filter" as const }
    : null;
  asm.end(incomplete ? "incomplete" : "completed");
  return responseObject(meta, {
    status: incomplete ? "incomplete" : "completed",
    output: asm.items,
    usage: usageOf(asm.usage),
    incomplete,
    completedAt: Math.floor(Date.now() / 1000),
  });
}

async function writeJson(
  events: AsyncIterable<ChatEvent>,
  o: ResponsesWriterOptions,
): Promise<Response> {
  const asm = new ResponseAssembler(false, o.tools);
  let response: ResponseObject;
  try {
    for await (const ev of events) asm.apply(ev);
    response = finish(asm, o.meta);
    await o.persist?.({ response, extras: asm.extras });
  } catch (err) {
    return failedEarly(err, o);
  }
  o.onEnd?.({ status: 200, usage: response.usage ?? undefined });
  return new Response(JSON.stringify(publicResponse(response, o.encrypted)), {
    headers: { "content-type": "application/json" },
  });
}

function writeStream(
  events: AsyncIterable<ChatEvent>,
  o: ResponsesWriterOptions,
): Promise<Response> {
  const asm = new ResponseAssembler(true, o.tools, o.encrypted);
  let final: ResponseObject | undefined;
  const lifecycle = (type: string, response: ResponseObject) =>
    asm.emit(type, `"response":${JSON.stringify(publicResponse(response, o.encrypted))}`);
  async function* persisted(): AsyncGenerator<ChatEvent> {
    yield* events;
    // Every event has been rendered by now: close the output and keep it before the last event.
    final = finish(asm, o.meta);
    await o.persist?.({ response: final, extras: asm.extras });
  }
  const bytes = () => {
    const s = asm.take();
    return s ? [encoder.encode(s)] : [];
  };
  return streamEvents(persisted(), {
    keepAliveMs: o.keepAliveMs,
    keepAlive: KEEP_ALIVE,
    abort: o.abort,
    headers: SSE_HEADERS,
    start() {
      const opening = responseObject(o.meta, { status: "in_progress", output: [] });
      lifecycle("response.created", opening);
      lifecycle("response.in_progress", opening);
      return bytes();
    },
    render(ev) {
      asm.apply(ev);
      return bytes();
    },
    end() {
      final ??= finish(asm, o.meta);
      lifecycle(final.status === "completed" ? "response.completed" : "response.incomplete", final);
      return bytes();
    },
    fail(err) {
      const e = toGatewayError(err);
      asm.closeOpen("incomplete");
      asm.emit(
        "error",
        `"code":${JSON.stringify(e.code ?? e.type)},"message":${
          JSON.stringify(e.toBody().error.message)
        },"param":${JSON.stringify(e.param)}`,
      );
      const failed = responseObject(o.meta, {
        status: "failed",
        output: asm.items,
        usage: usageOf(asm.usage),
        error: {
          code: e.status === 429 ? "rate_limit_exceeded" : "server_error",
          message: e.toBody().error.message,
        },
      });
      lifecycle("response.failed", failed);
      return bytes();
    },
    failEarly: (err) => failedEarly(err, o),
    onCommit: o.onCommit,
    onEnd(end) {
      if (end.aborted) o.onEnd?.({ status: 200, aborted: true });
      else if (end.error !== undefined) {
        o.onEnd?.({ status: 200, error: toGatewayError(end.error) });
      } else o.onEnd?.({ status: 200, usage: final?.usage ?? undefined });
    },
  });
}
