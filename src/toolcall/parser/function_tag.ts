/**
 * The body of a `<function=x>` block (the Qwen-style format): JSON arguments or
 * `<parameter=p>value</parameter>` elements. Parameter values may hold any text, so only the
 * closing `</function>` ends the block; `tag_body.ts` reads it then.
 *
 * @module
 */
import { partialMatchAtEnd } from "../../util/partial.ts";
import { tagBlockEvent } from "./tag_body.ts";
import type { Host, Reader } from "./types.ts";

const CLOSER = "</function>";

/** Reads a `<function=x>` body up to `</function>`. */
export class FunctionTagReader implements Reader {
  #raw: string[] = [];
  #name: string | undefined;

  /** A reader writing to `host`. */
  constructor(readonly host: Host) {}

  /** The body starts; `prefix` is the opening tag. */
  start(prefix: string, name: string | undefined): void {
    this.#raw = [prefix];
    this.#name = name;
  }

  /** Reads on to the closing tag, holding back a closing tag cut off by the chunk's end. */
  read(s: string, i: number): number {
    const at = s.indexOf(CLOSER, i);
    if (at >= 0) {
      const next = at + CLOSER.length;
      this.#raw.push(s.slice(i, next));
      this.#finish(false);
      return next;
    }
    const keep = partialMatchAtEnd(s, CLOSER, i);
    this.#raw.push(s.slice(i, s.length - keep));
    this.host.hold(s.slice(s.length - keep));
    return s.length;
  }

  /** The answer ended in the block: read what came. */
  end(held: string): void {
    this.#raw.push(held);
    this.#finish(true);
  }

  #finish(atEnd: boolean): void {
    const raw = this.#raw.join("");
    this.#raw = [];
    this.host.emit(tagBlockEvent(raw, this.#name, true, atEnd));
    this.host.afterBlock(false);
  }
}
