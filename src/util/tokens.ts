/**
 * Token counts for `usage` when an upstream gives none, with a real BPE tokenizer (o200k_base,
 * the encoding of OpenAI's current models).
 *
 * The tokenizer's tables take about 60 MB of memory, so they are loaded when the first request
 * needs them (`loadTokenizer`, awaited by the request handlers), not at start: an idle server stays
 * small. Counting before that is a programming error and throws.
 *
 * @module
 */

type Count = (text: string) => number;

/**
 * The loaded tokenizer: process-wide read-only tables, filled once by `loadTokenizer` (the one
 * piece of module state here, allowed by the structure test for that reason).
 */
const TOKENIZER: { count?: Count; loading?: Promise<void> } = {};

/** Loads the tokenizer's tables once; resolves at once when they are loaded. */
export function loadTokenizer(): Promise<void> {
  TOKENIZER.loading ??= import("npm:gpt-tokenizer@^3.4.0/encoding/o200k_base").then((m) => {
    TOKENIZER.count = m.countTokens;
  });
  return TOKENIZER.loading;
}

/** The number of tokens of `text` (after `loadTokenizer`). */
export function countTokens(text: string): number {
  if (text === "") return 0;
  if (!TOKENIZER.count) {
    throw new Error("the tokenizer is not loaded: await loadTokenizer() before counting");
  }
  return TOKENIZER.count(text);
}

/** Tokens a chat message costs beyond its text (OpenAI's accounting: 3 per message, 3 per reply). */
export const MESSAGE_OVERHEAD = 3;

/** Pending text that is counted and let go, so a very long answer is not held whole. */
const FOLD_AT = 64 * 1024;

/** The size of the pieces long texts are counted in (the tokenizer is slower on huge strings). */
const PIECE = 2048;

/**
 * Tokens of `text` counted in pieces of about `PIECE` characters, each cut just before a space or
 * line end (where BPE tokens start); a stretch without either is cut where it stands.
 */
function countInPieces(text: string): number {
  let total = 0;
  let start = 0;
  while (text.length - start > PIECE) {
    const end = start + PIECE;
    const cut = Math.max(text.lastIndexOf(" ", end), text.lastIndexOf("\n", end));
    const at = cut > start ? cut : end;
    total += countTokens(text.slice(start, at));
    start = at;
  }
  return total + countTokens(text.slice(start));
}

/**
 * Counts tokens of text that arrives in pieces. Nothing is tokenized until `total` is read (a
 * count nobody asks for, e.g. when the upstream reports its usage, costs only the pieces kept),
 * and each piece costs O(its length). Past `FOLD_AT` characters the pending text is counted up to
 * its last space or line end and let go, so a long answer is not held whole. The count matches
 * counting the whole text in one go except in rare cases.
 */
export class TokenCounter {
  #parts: string[] = [];
  #length = 0;
  #total = 0;

  /** Adds a piece of text. */
  push(text: string): void {
    if (text === "") return;
    this.#parts.push(text);
    this.#length += text.length;
    if (this.#length >= FOLD_AT) this.#fold();
  }

  #fold(): void {
    const pending = this.#parts.join("");
    const cut = Math.max(pending.lastIndexOf(" "), pending.lastIndexOf("\n"));
    const at = cut > 0 ? cut : pending.length;
    this.#total += countInPieces(pending.slice(0, at));
    const rest = pending.slice(at);
    this.#parts = rest === "" ? [] : [rest];
    this.#length = rest.length;
  }

  /** The count so far, including text still pending. */
  get total(): number {
    return this.#total + countInPieces(this.#parts.join(""));
  }
}
