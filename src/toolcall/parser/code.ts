/**
 * An ordinary code block (a fence that holds no call): it passes on as text untouched, since
 * code mentions tags and JSON freely, until a fence at a line start closes it. Only line starts
 * are looked at; a fence cut off by the chunk's end is held back.
 *
 * @module
 */
import { BACKTICK, CR, NL, SP, TAB } from "./chars.ts";
import { FENCE, fenceAt, PARTIAL } from "./markup.ts";
import type { Host, Reader } from "./types.ts";

/** Passes a code block on up to its closing fence. */
export class CodeReader implements Reader {
  #lineStart = false;

  /** A reader writing to `host`. */
  constructor(readonly host: Host) {}

  /** The block goes on, at a line start when `lineStart`. */
  start(lineStart: boolean): void {
    this.#lineStart = lineStart;
  }

  /** Passes text on up to and including the closing fence. */
  read(s: string, i: number): number {
    const n = s.length;
    const start = i;
    while (i < n) {
      if (!this.#lineStart) {
        const nl = s.indexOf("\n", i);
        i = nl < 0 ? n : nl;
        if (i >= n) break;
      }
      const c = s.charCodeAt(i);
      if (c === BACKTICK && this.#lineStart) {
        const fence = fenceAt(s, i);
        if (fence === PARTIAL) {
          this.host.text(s.slice(start, i));
          this.host.hold(s.slice(i));
          return n;
        }
        if (fence) {
          const next = i + FENCE.length;
          this.host.text(s.slice(start, next));
          this.host.toText();
          return next;
        }
      }
      if (c === NL) this.#lineStart = true;
      else if (c !== SP && c !== TAB && c !== CR) this.#lineStart = false;
      i++;
    }
    this.host.text(s.slice(start, n));
    return n;
  }

  /** A block without its closing fence: the rest is text. */
  end(held: string): void {
    this.host.text(held);
  }
}
