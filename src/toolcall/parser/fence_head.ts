/**
 * The opening of a code fence (```` ``` ```` at a line start), held until its first significant
 * character shows what the block is: `{` or `[` is JSON that may be a call (handed to the JSON
 * reader), `<tool_call>` a call block in a fence, anything else an ordinary code block that goes
 * out as text. Three backticks followed by another backtick or a long line are not a block
 * opening at all (inline code, prose). What is held is bounded: the info line (`json`) and the
 * blank space after it.
 *
 * @module
 */
import { BACKTICK, isWs, LT, NL, opensValue } from "./chars.ts";
import { FENCE, FENCED_TAGS, matchAt, PARTIAL } from "./markup.ts";
import type { Host, Reader } from "./types.ts";

/** Longest info line (```` ```json ````) held. */
const MAX_INFO = 40;
/** Most blank characters held between the info line and the content. */
const MAX_GAP = 200;

/** Reads the opening of a code fence. */
export class FenceHeadReader implements Reader {
  /** What was read of the fence (short: bounded by the limits below). */
  #raw = "";
  /** Past the info line. */
  #inGap = false;
  /** Characters of the info line or of the gap so far. */
  #count = 0;

  /** A reader writing to `host`. */
  constructor(readonly host: Host) {}

  /** The fence's backticks were read. */
  start(): void {
    this.#raw = FENCE;
    this.#inGap = false;
    this.#count = 0;
  }

  /** Reads the info line, then the gap up to the first significant character. */
  read(s: string, i: number): number {
    return this.#inGap ? this.#gap(s, i) : this.#info(s, i);
  }

  /** Nothing came to decide: the fence is text. */
  end(held: string): void {
    this.host.text(this.#takeRaw() + held);
  }

  #takeRaw(): string {
    const raw = this.#raw;
    this.#raw = "";
    return raw;
  }

  #info(s: string, i: number): number {
    const n = s.length;
    const start = i;
    while (i < n) {
      const c = s.charCodeAt(i);
      if (c === NL) {
        this.#raw += s.slice(start, i + 1);
        this.#inGap = true;
        this.#count = 0;
        return this.#gap(s, i + 1);
      }
      if (c === BACKTICK || ++this.#count > MAX_INFO) {
        // Inline code (the ``` opened a code span) or a long first line: not a block.
        this.#raw += s.slice(start, i);
        this.host.release(this.#takeRaw(), c === BACKTICK ? "span" : "text");
        return i;
      }
      i++;
    }
    this.#raw += s.slice(start, n);
    return n;
  }

  #gap(s: string, i: number): number {
    const n = s.length;
    const start = i;
    while (i < n) {
      const c = s.charCodeAt(i);
      if (isWs(c) && ++this.#count <= MAX_GAP) {
        i++;
        continue;
      }
      this.#raw += s.slice(start, i);
      if (opensValue(c)) {
        this.host.startJson(this.#takeRaw(), true);
        return i;
      }
      if (c === LT) {
        const m = matchAt(s, i, FENCED_TAGS);
        if (m === PARTIAL) {
          this.host.hold(s.slice(i));
          return n;
        }
        if (m !== undefined) {
          this.host.startTag(this.#takeRaw() + m, undefined, true);
          return i + m.length;
        }
      }
      // An ordinary code block: it goes out as text, untouched until its closing fence.
      this.host.release(this.#takeRaw(), "code");
      return i;
    }
    this.#raw += s.slice(start, n);
    return n;
  }
}
