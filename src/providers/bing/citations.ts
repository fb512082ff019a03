/**
 * Removes Bing's citation markers from streamed text: `[^1^]`, `[^1^]:`, `[^1^^`, `[^1^`, the same
 * with parentheses (`(^1^)`, ...), and `[1]` (not when a link's `(` follows, nor in JSON or code
 * positions: after `:`, `,`, `[`, `=`, as in a tool call's `{"ids":[1]}`). Only text that could
 * still become a marker is held back (at most a few characters); everything else passes at once.
 * Text inside code (fenced blocks and inline backticks) is never touched, so `a[1]` in code stays.
 *
 * @module
 */

/** Longest run of digits a marker number may have. */
const MAX_DIGITS = 3;

type Match = { kind: "match"; length: number } | { kind: "partial" } | { kind: "none" };

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= "0" && c <= "9";
}

/**
 * Is there a marker at `i` of `s`? `final` means no more text will come, so a marker that could
 * still grow is decided with what there is.
 */
export function markerAt(s: string, i: number, final: boolean): Match {
  const open = s[i];
  if (open !== "[" && open !== "(") return { kind: "none" };
  const close = open === "[" ? "]" : ")";
  let j = i + 1;
  const caret = s[j] === "^";
  if (j >= s.length) return final ? { kind: "none" } : { kind: "partial" };
  if (caret) j++;
  else if (open === "(") return { kind: "none" };
  const digitsStart = j;
  while (isDigit(s[j]) && j - digitsStart <= MAX_DIGITS) j++;
  const digits = j - digitsStart;
  if (digits > MAX_DIGITS) return { kind: "none" };
  if (j >= s.length) return final ? { kind: "none" } : { kind: "partial" };
  if (digits === 0) return { kind: "none" };
  if (!caret) {
    // `[N]`, unless it is the text of a markdown link `[N](...)`.
    if (s[j] !== "]") return { kind: "none" };
    if (j + 1 >= s.length) {
      return final ? { kind: "match", length: j + 1 - i } : { kind: "partial" };
    }
    return s[j + 1] === "(" ? { kind: "none" } : { kind: "match", length: j + 1 - i };
  }
  // `[^N` or `(^N`: a `^` must follow.
  if (s[j] !== "^") return { kind: "none" };
  j++;
  if (j >= s.length) return final ? { kind: "match", length: j - i } : { kind: "partial" };
  if (s[j] === "^") return { kind: "match", length: j + 1 - i };
  if (s[j] !== close) return { kind: "match", length: j - i };
  j++;
  if (j >= s.length) return final ? { kind: "match", length: j - i } : { kind: "partial" };
  return { kind: "match", length: s[j] === ":" ? j + 1 - i : j - i };
}

/** A streaming filter of citation markers. */
export class CitationFilter {
  #held = "";
  /** Length of the backtick run that opened inline code, or 0 outside it. */
  #inline = 0;
  #fence = false;
  /** The last non-blank character sent before the current piece. */
  #prev = "";

  /** Filters the next piece of text; returns what can be sent now. */
  push(text: string): string {
    return this.#run(this.#held + text, false);
  }

  /** The text still held at the end of the stream, filtered. */
  end(): string {
    return this.#run(this.#held, true);
  }

  #run(s: string, final: boolean): string {
    this.#held = "";
    let out = "";
    let from = 0; // start of text not yet copied to `out`
    let i = 0;
    while (i < s.length) {
      const c = s[i];
      if (c === "`") {
        let j = i;
        while (s[j] === "`") j++;
        if (j >= s.length && !final) {
          // A run of backticks may still grow (``` vs `): decide with the next piece.
          out += s.slice(from, i);
          this.#held = s.slice(i);
          return this.#sent(out);
        }
        this.#backticks(j - i);
        i = j;
        continue;
      }
      if (this.#fence || this.#inline > 0) {
        if (c === "\n" && this.#inline > 0) this.#inline = 0;
        i++;
        continue;
      }
      if (c === "[" || c === "(") {
        const m = markerAt(s, i, final);
        if (m.kind === "partial") {
          out += s.slice(from, i);
          this.#held = s.slice(i);
          return this.#sent(out);
        }
        if (m.kind === "match" && !(s[i + 1] !== "^" && this.#valuePosition(out, s, from, i))) {
          out += s.slice(from, i);
          i += m.length;
          from = i;
          continue;
        }
      }
      i++;
    }
    return this.#sent(out + s.slice(from));
  }

  /** Remembers the last non-blank character of `text` (sent to the client) and returns it. */
  #sent(text: string): string {
    const m = /(\S)\s*$/.exec(text);
    if (m) this.#prev = m[1];
    return text;
  }

  /** True when `[N]` at `i` follows `:`, `,`, `[` or `=`: a JSON or code value, not a citation. */
  #valuePosition(out: string, s: string, from: number, i: number): boolean {
    const before = /(\S)\s*$/.exec(s.slice(from, i)) ?? /(\S)\s*$/.exec(out);
    const prev = before ? before[1] : this.#prev;
    return prev === ":" || prev === "," || prev === "[" || prev === "=";
  }

  #backticks(n: number): void {
    if (this.#fence) {
      if (n >= 3) this.#fence = false;
    } else if (this.#inline > 0) {
      if (n === this.#inline) this.#inline = 0;
    } else if (n >= 3) {
      this.#fence = true;
    } else {
      this.#inline = n;
    }
  }
}
