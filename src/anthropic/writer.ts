/**
 * The Messages API writer: the pipeline's events as one `message` object or as Anthropic's SSE
 * stream (the mechanics of streaming in `util/event_stream.ts`, the blocks in `blocks.ts`):
 *
 *   message_start (empty content, usage) → per block content_block_start / content_block_delta… /
 *   content_block_stop → message_delta (stop_reason, stop_sequence, usage) → message_stop
 *
 * `ping` events while the upstream is silent; a failure after the start is an `error` event.
 * Cited sources become footnotes after the text, as in Chat Completions.
 *
 * @module
 */
import type { ChatEvent, UsageEvent } from "../core/events.ts";
import { toGatewayError } from "../openai/errors.ts";
import { failedEarly, type WriterEnd } from "../openai/writer.ts";
import { SSE_HEADERS, streamEvents } from "../util/event_stream.ts";
import { type BlockOp, BlockSequencer, type BlockStart } from "./blocks.ts";
import { anthropicErrorBody, anthropicErrorResponse } from "./errors.ts";

/** Token counts as the Messages API reports them. */
export interface AnthropicUsage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
}

/** How one response is written. */
export interface MessagesWriterOptions {
  /** `msg_…` */
  id: string;
  /** The model id as the client sent it. */
  model: string;
  stream: boolean;
  /** The prompt's tokens as counted before the answer, for `message_start`. */
  inputTokens: () => number;
  /** Milliseconds of upstream silence before a `ping`. */
  keepAliveMs: number;
  /** Aborted when the client leaves; the writer aborts it too when the stream is cancelled. */
  abort: AbortController;
  /** The request id, given with errors. */
  requestId?: string;
  /** Called just before a streamed response is returned. */
  onCommit?: () => void;
  /** Called once when the response is complete (or failed, or the client left). */
  onEnd?: (end: WriterEnd) => void;
}

const encoder = new TextEncoder();
const PING = encoder.encode('event: ping\ndata: {"type":"ping"}\n\n');
const MESSAGE_STOP = encoder.encode('event: message_stop\ndata: {"type":"message_stop"}\n\n');

/** The usage of the answer in Anthropic's terms (input excludes cached prompt tokens). */
export function anthropicUsage(u: UsageEvent | undefined): AnthropicUsage {
  const cached = u?.cached_tokens ?? 0;
  const created = u?.cache_creation_tokens ?? 0;
  return {
    input_tokens: Math.max(0, (u?.prompt_tokens ?? 0) - cached - created),
    output_tokens: u?.completion_tokens ?? 0,
    cache_creation_input_tokens: created,
    cache_read_input_tokens: cached,
  };
}

/** Writes a Messages API response from `events`. */
export async function writeMessages(
  events: AsyncIterable<ChatEvent>,
  o: MessagesWriterOptions,
): Promise<Response> {
  return o.stream ? await writeStream(events, o) : await writeJson(events, o);
}

function usageNote(u: AnthropicUsage) {
  return {
    prompt_tokens: u.input_tokens + u.cache_read_input_tokens + u.cache_creation_input_tokens,
    completion_tokens: u.output_tokens,
    total_tokens: u.input_tokens + u.output_tokens,
  };
}

/** A content block of the `message` object, built from the operations. */
type OutBlock =
  | { type: "text"; text: string }
  | { type: "thinking"; thinking: string; signature: string }
  | { type: "tool_use"; id: string; name: string; input: unknown; json?: string[] };

function fold(content: OutBlock[], op: BlockOp): void {
  if (op.op === "start") {
    content[op.index] = op.block.type === "tool_use"
      ? { ...op.block, json: [] }
      : { ...op.block } as OutBlock;
    return;
  }
  const b = content[op.index];
  if (op.op === "stop") {
    if (b.type === "tool_use") {
      const json = b.json!.join("");
      delete b.json;
      b.input = parseInput(json);
    }
    return;
  }
  const d = op.delta;
  if (d.type === "text_delta" && b.type === "text") b.text += d.text;
  else if (d.type === "thinking_delta" && b.type === "thinking") b.thinking += d.thinking;
  else if (d.type === "signature_delta" && b.type === "thinking") b.signature = d.signature;
  else if (d.type === "input_json_delta" && b.type === "tool_use") b.json!.push(d.partial_json);
}

/** A tool call's arguments as the object `input` must be ("" is `{}`). */
function parseInput(json: string): unknown {
  if (json.trim() === "") return {};
  try {
    return JSON.parse(json);
  } catch {
    // Arguments that are not JSON (a broken upstream): given as they came rather than lost.
    return { _raw_arguments: json };
  }
}

async function writeJson(
  events: AsyncIterable<ChatEvent>,
  o: MessagesWriterOptions,
): Promise<Response> {
  const seq = new BlockSequencer();
  const content: OutBlock[] = [];
  try {
    for await (const ev of events) for (const op of seq.push(ev)) fold(content, op);
  } catch (err) {
    return failedEarly(err, o, (e) => anthropicErrorResponse(e, o.requestId));
  }
  for (const op of seq.end()) fold(content, op);
  const usage = anthropicUsage(seq.usage);
  const { reason, sequence } = seq.stopReason();
  o.onEnd?.({ status: 200, usage: usageNote(usage) });
  const body = {
    id: o.id,
    type: "message",
    role: "assistant",
    model: o.model,
    content,
    stop_reason: reason,
    stop_sequence: sequence,
    usage,
  };
  return new Response(JSON.stringify(body), {
    headers: {
      "content-type": "application/json",
      ...(o.requestId ? { "request-id": o.requestId } : {}),
    },
  });
}

function sse(event: string, json: string): Uint8Array {
  return encoder.encode(`event: ${event}\ndata: ${json}\n\n`);
}

/** One operation as an SSE event; text deltas are written without building an object. */
function opEvent(op: BlockOp): Uint8Array {
  switch (op.op) {
    case "start":
      return sse(
        "content_block_start",
        `{"type":"content_block_start","index":${op.index},"content_block":${
          JSON.stringify(op.block satisfies BlockStart)
        }}`,
      );
    case "stop":
      return sse("content_block_stop", `{"type":"content_block_stop","index":${op.index}}`);
    case "delta": {
      const d = op.delta;
      const inner = d.type === "text_delta"
        ? `{"type":"text_delta","text":${JSON.stringify(d.text)}}`
        : JSON.stringify(d);
      return sse(
        "content_block_delta",
        `{"type":"content_block_delta","index":${op.index},"delta":${inner}}`,
      );
    }
  }
}

function writeStream(
  events: AsyncIterable<ChatEvent>,
  o: MessagesWriterOptions,
): Promise<Response> {
  const seq = new BlockSequencer();
  let usage: AnthropicUsage | undefined;
  return streamEvents(events, {
    keepAliveMs: o.keepAliveMs,
    keepAlive: PING,
    abort: o.abort,
    headers: o.requestId ? { ...SSE_HEADERS, "request-id": o.requestId } : SSE_HEADERS,
    start: () => [
      sse(
        "message_start",
        JSON.stringify({
          type: "message_start",
          message: {
            id: o.id,
            type: "message",
            role: "assistant",
            model: o.model,
            content: [],
            stop_reason: null,
            stop_sequence: null,
            usage: {
              input_tokens: o.inputTokens(),
              output_tokens: 0,
              cache_creation_input_tokens: 0,
              cache_read_input_tokens: 0,
            },
          },
        }),
      ),
    ],
    render: (ev) => {
      const ops = seq.push(ev);
      return ops.length === 1 ? [opEvent(ops[0])] : ops.map(opEvent);
    },
    end() {
      const out = seq.end().map(opEvent);
      usage = anthropicUsage(seq.usage);
      const { reason, sequence } = seq.stopReason();
      out.push(sse(
        "message_delta",
        JSON.stringify({
          type: "message_delta",
          delta: { stop_reason: reason, stop_sequence: sequence },
          usage,
        }),
      ));
      out.push(MESSAGE_STOP);
      return out;
    },
    fail: (err) => [sse("error", JSON.stringify(anthropicErrorBody(err, o.requestId)))],
    failEarly: (err) => failedEarly(err, o, (e) => anthropicErrorResponse(e, o.requestId)),
    onCommit: o.onCommit,
    onEnd(end) {
      if (end.aborted) o.onEnd?.({ status: 200, aborted: true });
      else if (end.error !== undefined) {
        o.onEnd?.({ status: 200, error: toGatewayError(end.error) });
      } else o.onEnd?.({ status: 200, usage: usage && usageNote(usage) });
    },
  });
}
