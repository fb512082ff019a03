/**
 * A JSON object or list at the start of a line, or first in a code fence: the shape models write
 * when they leave out the tags. It is held back only until its first key decides (`first_key.ts`):
 * when that says no, what was held goes out as text at once (and a fenced block goes on as an
 * ordinary code block); when it says yes, the value is read to its end and parsed. A value that
 * closes while still undecided is parsed too, and is a call when every call in it names a
 * declared tool.
 *
 * @module
 */
import { callsFromValue, type RawCall } from "../calls.ts";
import { LooseJsonError, parseLooseJson } from "../json.ts";
import { FirstKey } from "./first_key.ts";
import { JsonScanner } from "./scanner.ts";
import type { Host, Reader } from "./types.ts";

/** Reads one JSON value that may be a call. */
export class JsonBlockReader implements Reader {
  #raw: string[] = [];
  /** Where the JSON starts in the raw text (after a fence's opening line). */
  #start = 0;
  #fenced = false;
  readonly #scan = new JsonScanner();
  readonly #key: FirstKey;

  /** A reader writing to `host`. */
  constructor(readonly host: Host) {
    this.#key = new FirstKey((name) => host.options.isTool(name));
  }

  /** A value starts: its first character comes next; `prefix` is the fence line before it. */
  start(prefix: string, fenced: boolean): void {
    this.#raw = prefix === "" ? [] : [prefix];
    this.#start = prefix.length;
    this.#fenced = fenced;
    this.#scan.reset();
    this.#key.reset();
  }

  /** Reads on until the value ends or its first key rejects it. */
  read(s: string, i: number): number {
    const n = s.length;
    const start = i;
    const scan = this.#scan;
    const key = this.#key;
    // Undecided: every character also goes to the first-key decision.
    if (!key.decided) {
      while (i < n) {
        const c = s.charCodeAt(i);
        const wasQuote = scan.quote;
        const closed = scan.feed(c);
        const inString = wasQuote !== 0 && scan.quote !== 0;
        const closedString = wasQuote !== 0 && scan.quote === 0;
        const d = key.feed(c, inString, closedString);
        if (d === "no") {
          this.#raw.push(s.slice(start, i));
          this.host.release(this.#takeRaw(), this.#fenced ? "code" : "text");
          return i;
        }
        i++;
        if (closed) return this.#close(s, start, i);
        if (d === "yes") break;
      }
    }
    // A call: only its end matters now.
    while (i < n) {
      if (scan.feed(s.charCodeAt(i++))) return this.#close(s, start, i);
    }
    this.#raw.push(s.slice(start, n));
    return n;
  }

  /** Undecided JSON is text; a call cut off is broken. */
  end(held: string): void {
    if (!this.#key.decided) this.host.text(this.#takeRaw() + held);
    else this.#broken("truncated", "the answer ended inside the tool call's JSON");
  }

  /** The value ended before `end`: a complete value is read as a whole, decided or not. */
  #close(s: string, start: number, end: number): number {
    this.#raw.push(s.slice(start, end));
    this.#finish();
    return end;
  }

  #takeRaw(): string {
    const raw = this.#raw.join("");
    this.#raw = [];
    return raw;
  }

  #broken(reason: "truncated" | "invalid", detail: string): void {
    this.host.emit({ type: "broken", raw: this.#takeRaw(), reason, detail });
  }

  /** The value is complete: a call, a broken call, or data that goes out as text. */
  #finish(): void {
    const raw = this.#raw.join("");
    let calls: RawCall[] | undefined;
    let error: LooseJsonError | undefined;
    try {
      calls = callsFromValue(parseLooseJson(raw.slice(this.#start)));
    } catch (err) {
      if (!(err instanceof LooseJsonError)) throw err;
      error = err;
    }
    const host = this.host;
    if (
      calls && (this.#key.byName || calls.every((c) => c.name && host.options.isTool(c.name)))
    ) {
      this.#raw = [];
      host.emit({ type: "calls", raw, calls });
      host.afterBlock(this.#fenced);
      return;
    }
    if (this.#key.decided && error) {
      this.#broken("invalid", `the tool call's JSON cannot be read (${error.message})`);
      host.afterBlock(this.#fenced);
      return;
    }
    // Looked like data, not a call.
    this.#raw = [];
    host.release(raw, this.#fenced ? "code" : "text");
  }
}
