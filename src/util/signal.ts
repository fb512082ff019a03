/**
 * Abort signals linked by plain listeners.
 *
 * `AbortSignal.any()` links its result to the sources weakly; a result held only by an in-flight
 * fetch (whose abort steps are internal, not event listeners) can then be collected, and an abort
 * of the source no longer reaches the fetch: the upstream keeps streaming after the client left.
 * A listener on each source holds the linked controller strongly for as long as the sources live.
 *
 * @module
 */

/** A controller that aborts, with the same reason, as soon as any of `signals` does. */
export function linkedController(signals: readonly (AbortSignal | undefined)[]): AbortController {
  const controller = new AbortController();
  for (const s of signals) {
    if (!s) continue;
    if (s.aborted) {
      controller.abort(s.reason);
      break;
    }
    s.addEventListener("abort", () => controller.abort(s.reason), { once: true });
  }
  return controller;
}

/**
 * Resolves after `ms`, when `signal` aborts (at once if it already has), or when somebody calls
 * the wake function this puts in `waiters`. However the wait ends, the timer, the listener and
 * the wake function in `waiters` are gone. Never rejects: callers check what woke them.
 */
export function pause(ms: number, signal?: AbortSignal, waiters?: (() => void)[]): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      const i = waiters?.indexOf(done) ?? -1;
      if (i >= 0) waiters!.splice(i, 1);
      resolve();
    };
    const timer = setTimeout(done, ms);
    waiters?.push(done);
    if (signal?.aborted) done();
    else signal?.addEventListener("abort", done, { once: true });
  });
}

/** The error an aborted signal stands for: its reason when that is an Error, else an AbortError. */
export function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new DOMException("aborted", "AbortError");
}
