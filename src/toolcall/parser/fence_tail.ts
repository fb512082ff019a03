/**
 * The rest of a code fence after a call in it: further calls (JSON values, optionally separated
 * by commas) are read as calls too, up to the closing fence. Anything else in the fence is the
 * model's commentary on its own call and is dropped, as is a fence the answer never closes.
 *
 * @module
 */
import { BACKTICK, COMMA, isWs, opensValue } from "./chars.ts";
import { FENCE, fenceAt, PARTIAL } from "./markup.ts";
import type { Host, Reader } from "./types.ts";

/** Reads a code fence on after a call. */
export class FenceTailReader implements Reader {
  /** Dropping the rest of the fence. */
  #skipping = false;

  /** A reader writing to `host`. */
  constructor(readonly host: Host) {}

  /** A call in a fence ended. */
  start(): void {
    this.#skipping = false;
  }

  /** Reads on to the next call or the closing fence. */
  read(s: string, i: number): number {
    return this.#skipping ? this.#skip(s, i) : this.#between(s, i);
  }

  /** A fence left open: nothing of it is text. */
  end(): void {}

  /** Between calls: blanks and commas, the closing fence, or the next JSON value. */
  #between(s: string, i: number): number {
    const n = s.length;
    while (i < n) {
      const c = s.charCodeAt(i);
      if (isWs(c) || c === COMMA) {
        i++;
        continue;
      }
      if (c === BACKTICK) {
        const fence = fenceAt(s, i);
        if (fence === PARTIAL) {
          this.host.hold(s.slice(i));
          return n;
        }
        if (fence) {
          this.host.toText();
          return i + FENCE.length;
        }
      }
      if (opensValue(c)) {
        this.host.startJson("", true);
        return i;
      }
      this.#skipping = true;
      return i;
    }
    return n;
  }

  #skip(s: string, i: number): number {
    const at = s.indexOf(FENCE, i);
    if (at >= 0) {
      this.host.toText();
      return at + FENCE.length;
    }
    // The chunk may end inside the closing fence.
    const tail = s.endsWith("``") ? 2 : s.endsWith("`") ? 1 : 0;
    this.host.hold(s.slice(s.length - tail));
    return s.length;
  }
}
