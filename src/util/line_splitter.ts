/**
 * Splits text into lines, whatever the chunking: a line may arrive in many pieces, a chunk may
 * hold many lines, and CRLF may be split between chunks. Each chunk is scanned once, so the cost
 * is linear in the text's length even for one very long line.
 *
 * @module
 */

/** Splits text chunks into lines; `\n`, `\r\n` and a lone `\r` all end a line. */
export class LineSplitter {
  #pending: string[] = [];
  #skipLf = false;

  /** Feeds a chunk and returns the lines it completed (without their line ends). */
  push(chunk: string): string[] {
    const lines: string[] = [];
    let start = 0;
    let i = 0;
    if (this.#skipLf && chunk.length > 0) {
      this.#skipLf = false;
      if (chunk.charCodeAt(0) === 10) start = i = 1;
    }
    for (; i < chunk.length; i++) {
      const c = chunk.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      this.#pending.push(chunk.slice(start, i));
      lines.push(this.#pending.length === 1 ? this.#pending[0] : this.#pending.join(""));
      this.#pending = [];
      if (c === 13) {
        if (i + 1 < chunk.length) {
          if (chunk.charCodeAt(i + 1) === 10) i++;
        } else {
          this.#skipLf = true;
        }
      }
      start = i + 1;
    }
    if (start < chunk.length) this.#pending.push(chunk.slice(start));
    return lines;
  }

  /** The last line when the stream ended without a line end, or undefined. */
  flush(): string | undefined {
    if (this.#pending.length === 0) return undefined;
    const last = this.#pending.join("");
    this.#pending = [];
    return last;
  }
}
