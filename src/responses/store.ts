/**
 * Stored responses, for `previous_response_id`, `GET /v1/responses/{id}` and its input items.
 *
 * `ResponseStore` is what the server needs of a store; `MemoryResponseStore` keeps them in the
 * process, bounded in entries and bytes, each for a time to live. A store shared by several
 * instances (a database, Redis) implements the same interface.
 *
 * A response sent with `store: false` leaves a small marker, so that continuing it gets an
 * answer that says why instead of "not found".
 *
 * @module
 */
import type { InputItem } from "./schema.ts";
import type { ResponseObject } from "./object.ts";

/** A response kept for later turns. */
export interface StoredResponse {
  id: string;
  /** The response, every output item whole (reasoning signatures included). */
  response: ResponseObject;
  /** The conversation's items up to this response: earlier turns, then this request's input. */
  input: InputItem[];
  /** Provider fields of tool calls in the conversation (Gemini's thought signatures). */
  extras: Record<string, Record<string, unknown>>;
}

/** What the store knows of a response id. */
export type StoreEntry =
  | { kind: "stored"; value: StoredResponse }
  | { kind: "not-stored"; reason: "store-false" | "too-large" };

/** A store of responses. */
export interface ResponseStore {
  /** What is known of `id`, or undefined (never stored, deleted, expired or evicted). */
  get(id: string): Promise<StoreEntry | undefined>;
  /** Keeps a response. */
  put(value: StoredResponse): Promise<void>;
  /** Notes that `id` was not kept, and why. */
  skip(id: string, reason: "store-false"): Promise<void>;
  /** Forgets `id`; false when it was not stored. */
  delete(id: string): Promise<boolean>;
  /** An item (input or output) of a stored response, by its id (`item_reference`). */
  item(id: string): Promise<InputItem | undefined>;
}

/** The limits of a memory store (config `responses.*`). */
export interface StoreLimits {
  /** Most responses (and not-stored markers) kept. */
  maxEntries: number;
  /** Most bytes of stored JSON kept. */
  maxBytes: number;
  /** Seconds a response is kept. */
  ttl: number;
}

interface Slot {
  entry: StoreEntry;
  bytes: number;
  expires: number;
  /** Ids of the items this response added (its input's and its output's). */
  items: string[];
}

/** Bytes a not-stored marker counts for. */
const MARKER_BYTES = 64;

/**
 * Responses in the process, least recently used first out: at most `maxEntries` of them and
 * `maxBytes` of their JSON, each for `ttl` seconds from when it was stored.
 */
export class MemoryResponseStore implements ResponseStore {
  readonly #slots = new Map<string, Slot>();
  /** Item id -> the response id whose item it is. */
  readonly #items = new Map<string, string>();
  #bytes = 0;

  constructor(
    readonly limits: () => StoreLimits,
    readonly now: () => number = Date.now,
  ) {}

  /** Entries and bytes held now. */
  get size(): { entries: number; bytes: number } {
    return { entries: this.#slots.size, bytes: this.#bytes };
  }

  #live(id: string): Slot | undefined {
    const slot = this.#slots.get(id);
    if (!slot) return undefined;
    if (slot.expires <= this.now()) {
      this.#remove(id);
      return undefined;
    }
    // Most recently used last.
    this.#slots.delete(id);
    this.#slots.set(id, slot);
    return slot;
  }

  get(id: string): Promise<StoreEntry | undefined> {
    return Promise.resolve(this.#live(id)?.entry);
  }

  put(value: StoredResponse): Promise<void> {
    const bytes = new TextEncoder().encode(JSON.stringify(value)).length;
    if (bytes > this.limits().maxBytes) {
      this.#set(value.id, { kind: "not-stored", reason: "too-large" }, MARKER_BYTES, []);
      return Promise.resolve();
    }
    // The newest response holds the whole conversation: its items are found through it.
    const own: string[] = [];
    for (const item of [...value.input, ...value.response.output]) {
      const itemId = (item as { id?: unknown }).id;
      if (typeof itemId === "string") own.push(itemId);
    }
    this.#set(value.id, { kind: "stored", value }, bytes, own);
    for (const itemId of own) this.#items.set(itemId, value.id);
    return Promise.resolve();
  }

  skip(id: string, reason: "store-false"): Promise<void> {
    this.#set(id, { kind: "not-stored", reason }, MARKER_BYTES, []);
    return Promise.resolve();
  }

  delete(id: string): Promise<boolean> {
    const slot = this.#slots.get(id);
    const stored = slot?.entry.kind === "stored" && slot.expires > this.now();
    if (slot) this.#remove(id);
    return Promise.resolve(stored);
  }

  async item(id: string): Promise<InputItem | undefined> {
    const owner = this.#items.get(id);
    if (!owner) return undefined;
    const entry = await this.get(owner);
    if (entry?.kind !== "stored") return undefined;
    const { input, response } = entry.value;
    return [...input, ...response.output as InputItem[]].find((i) =>
      (i as { id?: unknown }).id === id
    );
  }

  #set(id: string, entry: StoreEntry, bytes: number, items: string[]): void {
    if (this.#slots.has(id)) this.#remove(id);
    const { ttl } = this.limits();
    this.#slots.set(id, { entry, bytes, expires: this.now() + ttl * 1000, items });
    this.#bytes += bytes;
    this.#evict();
  }

  #remove(id: string): void {
    const slot = this.#slots.get(id);
    if (!slot) return;
    this.#slots.delete(id);
    this.#bytes -= slot.bytes;
    for (const itemId of slot.items) {
      if (this.#items.get(itemId) === id) this.#items.delete(itemId);
    }
  }

  /** Drops expired entries, then the least recently used until within the limits. */
  #evict(): void {
    const { maxEntries, maxBytes } = this.limits();
    const now = this.now();
    for (const [id, slot] of this.#slots) {
      const over = this.#slots.size > maxEntries || this.#bytes > maxBytes;
      if (!over && slot.expires > now) break;
      this.#remove(id);
    }
  }
}
