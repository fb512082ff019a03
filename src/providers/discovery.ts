/**
 * Values a provider learns from its upstream and keeps for a while (model lists, a model's
 * limits): one instance per provider instance, loads of the same key shared while in flight, a
 * failed load remembered briefly so that a dead upstream is not asked on every request.
 *
 * @module
 */

/** How long values are kept. */
export interface DiscoveryOptions {
  /** Milliseconds a loaded value is kept. */
  ttlMs?: number;
  /** Milliseconds a failed load is remembered (the fallback is used meanwhile). */
  failureMs?: number;
  /** Entries kept at most (the oldest go first). */
  max?: number;
}

interface Entry<T> {
  at: number;
  value?: T;
  failed?: boolean;
}

/** A cache of values loaded from an upstream. */
export class Discovery<T> {
  #entries = new Map<string, Entry<T>>();
  #inflight = new Map<string, Promise<T | undefined>>();
  readonly ttlMs: number;
  readonly failureMs: number;
  readonly max: number;

  constructor(o: DiscoveryOptions = {}) {
    this.ttlMs = o.ttlMs ?? 600_000;
    this.failureMs = o.failureMs ?? 60_000;
    this.max = o.max ?? 256;
  }

  /** The value of `key` if it is known and fresh, without loading. */
  peek(key: string): T | undefined {
    const e = this.#entries.get(key);
    return e && !e.failed && Date.now() - e.at < this.ttlMs ? e.value : undefined;
  }

  /**
   * The value of `key`: cached, or loaded with `load`. Undefined when the load failed (now or
   * within `failureMs`): the caller falls back to what it knows without the upstream.
   */
  async get(key: string, load: () => Promise<T>): Promise<T | undefined> {
    const e = this.#entries.get(key);
    const now = Date.now();
    if (e && !e.failed && now - e.at < this.ttlMs) return e.value;
    if (e?.failed && now - e.at < this.failureMs) return undefined;
    const running = this.#inflight.get(key);
    if (running) return await running;
    const p = load().then(
      (value) => {
        this.#set(key, { at: Date.now(), value });
        return value;
      },
      () => {
        this.#set(key, { at: Date.now(), failed: true });
        return undefined;
      },
    ).finally(() => this.#inflight.delete(key));
    this.#inflight.set(key, p);
    return await p;
  }

  /** Records a value learnt some other way (a list that carries each entry's details). */
  put(key: string, value: T): void {
    this.#set(key, { at: Date.now(), value });
  }

  #set(key: string, entry: Entry<T>): void {
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    while (this.#entries.size > this.max) this.#entries.delete(this.#entries.keys().next().value!);
  }
}
