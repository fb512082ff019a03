/**
 * Token counts for `usage` when an upstream gives none, with a real BPE tokenizer (o200k_base,
 * the encoding of OpenAI's current models). The tokenizer's tables load on first use.
 *
 * @module
 */
import { countTokens as count } from "npm:gpt-tokenizer@^3.4.0/encoding/o200k_base";

/** The number of tokens of `text`. */
export function countTokens(text: string): number {
  if (text === "") return 0;
  return count(text);
}

/** Tokens a chat message costs beyond its text (OpenAI's accounting: 3 per message, 3 per reply). */
export const MESSAGE_OVERHEAD = 3;

/**
 * Counts tokens of text that arrives in pieces, without keeping the whole text: pieces are cut
 * just before a space or line end (where BPE tokens start), so the count matches counting the
 * whole text in one go except in rare cases.
 */
export class TokenCounter {
  #pending = "";
  #total = 0;

  /** Adds a piece of text. */
  push(text: string): void {
    this.#pending += text;
    if (this.#pending.length < 256) return;
    const cut = Math.max(this.#pending.lastIndexOf(" "), this.#pending.lastIndexOf("\n"));
    if (cut <= 0) {
      if (this.#pending.length > 4096) this.#flush(this.#pending.length);
      return;
    }
    this.#flush(cut);
  }

  #flush(cut: number): void {
    this.#total += countTokens(this.#pending.slice(0, cut));
    this.#pending = this.#pending.slice(cut);
  }

  /** The count so far, including text still pending. */
  get total(): number {
    return this.#total + countTokens(this.#pending);
  }
}
