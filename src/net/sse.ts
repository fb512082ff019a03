/**
 * Reads a `text/event-stream` body. Lines come from the linear `LineSplitter`; the SSE field rules
 * (multi-line `data`, comments, `event`, `id`, `retry`, dispatch on a blank line) are
 * eventsource-parser's.
 *
 * @module
 */
import { createParser, type EventSourceMessage } from "npm:eventsource-parser@^3.0.6";
import { LineSplitter, readText } from "./lines.ts";

/** One server-sent event. */
export interface SseEvent {
  /** The `event:` field, or undefined for the default `message`. */
  event?: string;
  data: string;
  id?: string;
}

/**
 * Yields the events of an SSE body; a final event without a blank line is still delivered.
 * Lines are split synchronously per network chunk, so an event costs one step, not one per line.
 */
export async function* readSse(body: ReadableStream<Uint8Array>): AsyncGenerator<SseEvent> {
  let queue: SseEvent[] = [];
  const parser = createParser({
    onEvent: (e: EventSourceMessage) => queue.push({ event: e.event, data: e.data, id: e.id }),
  });
  const splitter = new LineSplitter();
  for await (const text of readText(body)) {
    for (const line of splitter.push(text)) parser.feed(line + "\n");
    if (queue.length === 0) continue;
    const ready = queue;
    queue = [];
    yield* ready;
  }
  const last = splitter.flush();
  if (last !== undefined) parser.feed(last + "\n");
  // Dispatches an event the upstream did not end with a blank line.
  parser.feed("\n");
  yield* queue;
}

/** Writes one SSE event (`data:` lines split at line ends, as the format requires). */
export function formatSse(data: string, event?: string): string {
  let out = event ? `event: ${event}\n` : "";
  if (!data.includes("\n") && !data.includes("\r")) return `${out}data: ${data}\n\n`;
  for (const line of data.split(/\r\n|\r|\n/)) out += `data: ${line}\n`;
  return out + "\n";
}
