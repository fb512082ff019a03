/**
 * Gemini's thought signatures by tool-call id: the fallback for clients that drop the
 * `extra_content.google.thought_signature` field of the tool calls they send back. Bounded: the
 * oldest entries go first, so memory stays flat however long the server runs.
 *
 * @module
 */

/** A map from tool-call id to thought signature that keeps at most `max` entries. */
export class SignatureCache {
  #map = new Map<string, string>();

  constructor(readonly max = 20_000) {}

  /** Remembers the signature of a tool call. */
  set(id: string, signature: string): void {
    this.#map.delete(id);
    this.#map.set(id, signature);
    while (this.#map.size > this.max) {
      this.#map.delete(this.#map.keys().next().value!);
    }
  }

  /** The signature of a tool call, if it is still remembered. */
  get(id: string): string | undefined {
    return this.#map.get(id);
  }

  /** The number of entries. */
  get size(): number {
    return this.#map.size;
  }
}
