/**
 * Background work that outlives the request that started it (deleting an upstream conversation,
 * closing a socket): tracked so that shutdown, and tests, can wait for it.
 *
 * @module
 */

/** A set of running background tasks. */
export class Background {
  #tasks = new Set<Promise<unknown>>();

  /** Tracks `task`; its failure is handed to `onError` (never unhandled). */
  track(task: Promise<unknown>, onError: (err: unknown) => void = () => {}): void {
    const tracked = task.catch(onError);
    this.#tasks.add(tracked);
    tracked.finally(() => this.#tasks.delete(tracked));
  }

  /** Resolves when every task tracked so far, and any tracked meanwhile, has finished. */
  async settled(): Promise<void> {
    while (this.#tasks.size > 0) await Promise.allSettled([...this.#tasks]);
  }

  /** How many tasks run now. */
  get size(): number {
    return this.#tasks.size;
  }
}
