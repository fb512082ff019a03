/**
 * The body of a `<tool_call>` block (also `<tool_calls>`, `<tool_call name="x">`, or a
 * `<tool_call>` first in a code fence). The reader only finds where the block ends, then
 * `tag_body.ts` reads it: at the closing tag (`</tool_call>`, `</tool_calls>`,
 * `</function_call>`) outside JSON strings; or, when the model forgot it, at the next call's tag,
 * a tool result's tag, or text after the complete JSON. An inner `<tool_call>` after a
 * `<tool_calls>` wrapper is read as part of this block; an inner `<function=x>` is the call
 * itself. A "block" with too much prose before any JSON merely mentions the tag: it is text.
 *
 * @module
 */
import { BACKTICK, COMMA, isWs, LT, opensValue } from "./chars.ts";
import { matchAt, PARTIAL, RESULT_TAGS, TAG_OPENERS, TOOL_CALL_CLOSERS } from "./markup.ts";
import { JsonScanner } from "./scanner.ts";
import { tagBlockEvent } from "./tag_body.ts";
import type { Host, Reader } from "./types.ts";

/** Most prose characters in a block before it is taken for text. */
const MAX_PROSE = 200;
/** What ends a `<tool_call>` block at the top level of its body. */
const TAG_STOPS: readonly string[] = [...TOOL_CALL_CLOSERS, ...TAG_OPENERS, ...RESULT_TAGS];
const WRAPPED = "<tool_call>";

/** Reads a `<tool_call>` body up to its end. */
export class TagReader implements Reader {
  #raw: string[] = [];
  #name: string | undefined;
  #fenced = false;
  readonly #scan = new JsonScanner();
  /** A complete JSON value was read. */
  #valueDone = false;
  /** Prose characters (and stray `<`) read outside JSON. */
  #prose = 0;

  /** A reader writing to `host`. */
  constructor(readonly host: Host) {}

  /** The body starts; `prefix` is the block up to the end of its opening tag. */
  start(prefix: string, name: string | undefined, fenced: boolean): void {
    this.#raw = [prefix];
    this.#name = name;
    this.#fenced = fenced;
    this.#scan.reset();
    this.#valueDone = false;
    this.#prose = 0;
  }

  /** Reads on until the block ends. */
  read(s: string, i: number): number {
    const n = s.length;
    const scan = this.#scan;
    let start = i;
    while (i < n) {
      const c = s.charCodeAt(i);
      if (scan.quote !== 0 || scan.depth > 0) {
        if (scan.feed(c)) this.#valueDone = true;
        i++;
        continue;
      }
      if (c === LT) {
        const m = matchAt(s, i, TAG_STOPS);
        if (m === PARTIAL) {
          this.#raw.push(s.slice(start, i));
          this.host.hold(s.slice(i));
          return n;
        }
        if (m !== undefined) {
          if (TOOL_CALL_CLOSERS.includes(m)) {
            this.#raw.push(s.slice(start, i + m.length));
            this.#finish(false);
            return i + m.length;
          }
          if (TAG_OPENERS.includes(m) && !this.#valueDone && this.#prose === 0) {
            if (m === WRAPPED) {
              // <tool_calls><tool_call>...: the outer wrapper adds nothing.
              this.#raw.push(s.slice(start, i + m.length));
              start = i + m.length;
              i = start;
              continue;
            }
            // <tool_call><function=x>...: the inner tag is the call.
            this.#raw = [];
            return this.host.open(m, i);
          }
          // A new call or a tool result begins: this block ended without its closing tag.
          this.#raw.push(s.slice(start, i));
          this.#finish(false);
          return i;
        }
        this.#prose++;
        i++;
        continue;
      }
      if (opensValue(c)) {
        scan.feed(c);
        i++;
        continue;
      }
      if (isWs(c) || c === COMMA || c === BACKTICK) {
        i++;
        continue;
      }
      if (this.#valueDone) {
        // Text after the JSON without a closing tag: the block ended there.
        this.#raw.push(s.slice(start, i));
        this.#finish(false);
        return i;
      }
      if (++this.#prose > MAX_PROSE) {
        // Prose that merely mentions the tag.
        this.#raw.push(s.slice(start, i));
        this.host.release(this.#takeRaw(), "text");
        return i;
      }
      i++;
    }
    this.#raw.push(s.slice(start, n));
    return n;
  }

  /** The answer ended in the block: read what came, unless its JSON is cut off. */
  end(held: string): void {
    this.#raw.push(held);
    if (this.#scan.depth > 0 || this.#scan.quote !== 0) {
      this.host.emit({
        type: "broken",
        raw: this.#takeRaw(),
        reason: "truncated",
        detail: "the answer ended before the tool call was complete",
      });
    } else {
      this.#finish(true);
    }
  }

  #takeRaw(): string {
    const raw = this.#raw.join("");
    this.#raw = [];
    return raw;
  }

  #finish(atEnd: boolean): void {
    const raw = this.#takeRaw();
    this.host.emit(tagBlockEvent(raw, this.#name, false, atEnd && !this.#valueDone));
    this.host.afterBlock(this.#fenced);
  }
}
