/**
 * Reads a `text/event-stream` body with eventsource-parser: line splitting (CR, LF and CRLF, also
 * across chunks) and the field rules (multi-line `data`, comments, `event`, `id`, `retry`,
 * dispatch on a blank line). From 3.1 it keeps a partial line as fragments and joins them once,
 * so a long line arriving in small pieces costs linear time.
 *
 * @module
 */
import { createParser, type EventSourceMessage } from "npm:eventsource-parser@^3.1.1";
import { readText } from "./lines.ts";

/** One server-sent event. */
export interface SseEvent {
  /** The `event:` field, or undefined for the default `message`. */
  event?: string;
  data: string;
  id?: string;
}

/**
 * Yields the events of an SSE body; a final event without a blank line is still delivered.
 * Each network chunk is parsed at once, so an event costs one step, not one per line.
 */
export async function* readSse(body: ReadableStream<Uint8Array>): AsyncGenerator<SseEvent> {
  let queue: SseEvent[] = [];
  const parser = createParser({
    onEvent: (e: EventSourceMessage) => queue.push({ event: e.event, data: e.data, id: e.id }),
  });
  for await (const text of readText(body)) {
    parser.feed(text);
    if (queue.length === 0) continue;
    const ready = queue;
    queue = [];
    yield* ready;
  }
  // Ends the last line and dispatches an event the upstream did not end with a blank line (two
  // line feeds: after a final CR the first one only completes its CRLF).
  parser.feed("\n\n");
  yield* queue;
}

/** Writes one SSE event (`data:` lines split at line ends, as the format requires). */
export function formatSse(data: string, event?: string): string {
  let out = event ? `event: ${event}\n` : "";
  if (!data.includes("\n") && !data.includes("\r")) return `${out}data: ${data}\n\n`;
  for (const line of data.split(/\r\n|\r|\n/)) out += `data: ${line}\n`;
  return out + "\n";
}
