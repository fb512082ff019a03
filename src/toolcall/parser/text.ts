/**
 * Plain text, the usual state: it passes on as it comes. Only what could start markup is looked
 * at: `<` (a tag opener, or a tool result after a call, which ends the answer), and at the start
 * of a line (after optional spaces) a code fence or a `{` / `[` (JSON that may be a call). Tags
 * inside an inline code span (`` `<tool_call>` ``) are text. Mid-line the reader jumps from one
 * `<`, backtick or line feed to the next, and it holds back only an opener or fence cut off by
 * the chunk's end.
 *
 * @module
 */
import { BACKTICK, CR, endsLine, LBRACE, LBRACKET, LT, NL, SP, TAB } from "./chars.ts";
import { FENCE, fenceAt, matchAt, PARTIAL, RESULT_TAGS } from "./markup.ts";
import type { Host, Reader } from "./types.ts";

/** Reads plain text and finds where markup starts. */
export class TextReader implements Reader {
  #lineStart = true;
  /** Inside an inline code span of the current line. */
  #inCode = false;
  /** The next character that matters mid-line (a regular expression finds it fastest). */
  readonly #nextMark = /[<\n`]/g;

  /** A reader writing to `host` that looks for `openers`. */
  constructor(readonly host: Host, readonly openers: readonly string[]) {}

  /** Text goes on after `text` (not empty), inside an inline code span when `inCode`. */
  after(text: string, inCode = false): void {
    if (text === "") return;
    this.#lineStart = endsLine(text);
    this.#inCode = inCode;
  }

  /** Text goes on mid-line, after a block. */
  resume(): void {
    this.#lineStart = false;
    this.#inCode = false;
  }

  /** Passes text on until markup starts. */
  read(s: string, i: number): number {
    const host = this.host;
    const n = s.length;
    const start = i;
    while (i < n) {
      if (!this.#lineStart) {
        // Mid-line only "<", backticks (inline code) and the line end matter.
        const c0 = s.charCodeAt(i);
        if (c0 !== LT && c0 !== NL && c0 !== BACKTICK) {
          let j = n;
          if (i + 1 < n) {
            this.#nextMark.lastIndex = i + 1;
            if (this.#nextMark.exec(s)) j = this.#nextMark.lastIndex - 1;
          }
          i = j;
          if (i >= n) break;
        }
      }
      const c = s.charCodeAt(i);
      if (c === LT && !this.#inCode) {
        const m = matchAt(s, i, this.openers);
        if (m === PARTIAL) {
          host.text(s.slice(start, i));
          host.hold(s.slice(i));
          return n;
        }
        if (m !== undefined) {
          if (!RESULT_TAGS.includes(m)) {
            host.text(s.slice(start, i));
            return host.open(m, i);
          }
          if (host.sawCall) {
            host.text(s.slice(start, i));
            host.endAnswer();
            return n;
          }
        }
      } else if (c === BACKTICK) {
        if (this.#lineStart) {
          const fence = fenceAt(s, i);
          if (fence === PARTIAL) {
            host.text(s.slice(start, i));
            host.hold(s.slice(i));
            return n;
          }
          if (fence) {
            host.text(s.slice(start, i));
            host.startFence();
            return i + FENCE.length;
          }
        }
        // A tag inside inline code (`<tool_call>`) is text.
        this.#inCode = !this.#inCode;
      } else if ((c === LBRACE || c === LBRACKET) && this.#lineStart) {
        host.text(s.slice(start, i));
        host.startJson("", false);
        return i;
      }
      if (c === NL) {
        this.#lineStart = true;
        this.#inCode = false;
      } else if (c !== SP && c !== TAB && c !== CR) {
        this.#lineStart = false;
      }
      i++;
    }
    host.text(s.slice(start, n));
    return n;
  }

  /** What was held (a cut-off opener) is text. */
  end(held: string): void {
    this.host.text(held);
  }
}
