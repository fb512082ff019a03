/**
 * A `<think>` or `<thinking>` block: the model's reasoning. It passes on as text as it comes, and
 * markup inside it (a call the model only considers) is text too, up to the closing tag. Only a
 * closing tag cut off by the chunk's end is held back.
 *
 * @module
 */
import { partialMatchAtEnd } from "../../util/partial.ts";
import type { Host, Reader } from "./types.ts";

/** Passes a reasoning block on up to its closing tag. */
export class ThinkReader implements Reader {
  #closer = "";

  /** A reader writing to `host`. */
  constructor(readonly host: Host) {}

  /** `opener` (`<think>` or `<thinking>`) was read and passed on. */
  start(opener: string): void {
    this.#closer = "</" + opener.slice(1);
  }

  /** Passes text on up to and including the closing tag. */
  read(s: string, i: number): number {
    const closer = this.#closer;
    const at = s.indexOf(closer, i);
    if (at >= 0) {
      const next = at + closer.length;
      this.host.text(s.slice(i, next));
      this.host.toText();
      return next;
    }
    const keep = partialMatchAtEnd(s, closer, i);
    this.host.text(s.slice(i, s.length - keep));
    this.host.hold(s.slice(s.length - keep));
    return s.length;
  }

  /** A block left open: the rest is text. */
  end(held: string): void {
    this.host.text(held);
  }
}
