/**
 * Reads newline-delimited JSON bodies (Cohere's `application/stream+json`, and others).
 *
 * @module
 */
import { readLines } from "./lines.ts";

/** A line of an NDJSON stream that is not JSON. */
export class NdjsonError extends Error {
  override name = "NdjsonError";
  constructor(readonly line: string) {
    super(`not a JSON line: ${line.length > 200 ? line.slice(0, 200) + "…" : line}`);
  }
}

/** Yields one parsed value per non-blank line; throws `NdjsonError` on a line that is not JSON. */
export async function* readNdjson(body: ReadableStream<Uint8Array>): AsyncGenerator<unknown> {
  for await (const line of readLines(body)) {
    const t = line.trim();
    if (t === "") continue;
    try {
      yield JSON.parse(t);
    } catch {
      throw new NdjsonError(t);
    }
  }
}
