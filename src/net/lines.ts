/**
 * Splits a byte stream into text lines, whatever the chunking: a line may arrive in many pieces,
 * a chunk may hold many lines, and CRLF may be split between chunks. Each chunk is scanned once,
 * so the cost is linear in the stream's length even for one very long line.
 *
 * @module
 */
import { LineSplitter } from "../util/line_splitter.ts";
import { guardOf } from "./guard.ts";

export { LineSplitter };

/**
 * Yields a byte stream as text, decoded across chunk boundaries (a UTF-8 character split between
 * chunks arrives whole). Cancels the stream when the consumer stops early. A body guarded by the
 * upstream client is read straight from its reader, keeping its timeouts.
 */
export async function* readText(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  const guard = guardOf(body);
  const reader = guard ? guard.reader : body.getReader();
  try {
    while (true) {
      let r: ReadableStreamReadResult<Uint8Array>;
      try {
        r = await reader.read();
      } catch (err) {
        throw guard ? guard.readError(err) : err;
      }
      const { done, value } = r;
      if (guard) {
        const failure = guard.failure();
        if (failure) throw failure;
        if (!done) guard.touch();
      }
      if (done) break;
      const text = decoder.decode(value, { stream: true });
      if (text !== "") yield text;
    }
    const tail = decoder.decode();
    if (tail !== "") yield tail;
  } finally {
    if (guard) guard.cancel().catch(() => {});
    else {
      reader.cancel().catch(() => {});
      reader.releaseLock();
    }
  }
}

/** Yields the lines of a byte stream; the final unterminated line too. */
export async function* readLines(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const splitter = new LineSplitter();
  for await (const text of readText(body)) yield* splitter.push(text);
  const last = splitter.flush();
  if (last !== undefined) yield last;
}
