/**
 * Follows the strings and nesting of a JSON text one character at a time, so the block readers
 * know where a value ends (and that a `}` or `</tool_call>` inside a string is not an end)
 * without parsing it. Quotes are `"` or `'` (models write both); `\` escapes inside strings.
 *
 * @module
 */
import { BSL, DQ, LBRACE, LBRACKET, RBRACE, RBRACKET, SQ } from "./chars.ts";

/** Strings and nesting of a JSON text, fed one character at a time. */
export class JsonScanner {
  /** Open objects and lists. */
  depth = 0;
  /** The quote of the string being read, or 0 outside strings. */
  quote = 0;
  /** The previous character was an escaping backslash inside a string. */
  esc = false;

  /** Starts a new value. */
  reset(): void {
    this.depth = 0;
    this.quote = 0;
    this.esc = false;
  }

  /** Feeds one character; returns true when it closed the outermost value. */
  feed(c: number): boolean {
    if (this.quote !== 0) {
      if (this.esc) this.esc = false;
      else if (c === BSL) this.esc = true;
      else if (c === this.quote) this.quote = 0;
      return false;
    }
    if (c === DQ || c === SQ) this.quote = c;
    else if (c === LBRACE || c === LBRACKET) this.depth++;
    else if (c === RBRACE || c === RBRACKET) {
      this.depth--;
      return this.depth === 0;
    }
    return false;
  }
}
