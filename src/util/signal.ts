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

/** The error an aborted signal stands for: its reason when that is an Error, else an AbortError. */
export function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new DOMException("aborted", "AbortError");
}
