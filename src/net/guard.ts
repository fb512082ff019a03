/**
 * Upstream body timeouts: a watchdog per body for the first byte and the silence between chunks,
 * and the abort of the request reaching the body.
 *
 * @module
 */
import { abortReason } from "../util/signal.ts";

/**
 * A guarded body's reader and clock, for readers that take chunks straight from it (`readText`)
 * instead of through the wrapper stream: one stream layer less per chunk on the hot path.
 */
export interface BodyGuard {
  /** The reader of the upstream body (owned by the guard). */
  readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  /** Records that a chunk arrived (restarts the idle clock). */
  touch(): void;
  /** The timeout error once the guard fired; reads then end and this is what to throw. */
  failure(): Error | undefined;
  /** Stops the clock and cancels the upstream body. */
  cancel(reason?: unknown): Promise<void>;
  /**
   * The error to report for a failed read: the abort's reason when the request was aborted, else
   * the upstream's failure (a dropped connection is the upstream's fault, never ours).
   */
  readError(err: unknown): Error;
}

/** Where `guardBody` keeps a body's guard on the stream it returns. */
const GUARD = Symbol("body guard");

/** The guard of a body made by `guardBody`, or undefined for any other stream. */
export function guardOf(body: ReadableStream<Uint8Array>): BodyGuard | undefined {
  return (body as { [GUARD]?: BodyGuard })[GUARD];
}

/**
 * Wraps a body so that waiting longer than the first-byte limit (for the first chunk) or the idle
 * limit (between chunks) fails the read with the error `onTimeout` makes and cancels the upstream.
 * One watchdog timer per body, re-armed only when it fires early: no timer work per chunk.
 *
 * When `signal` aborts, the body is cancelled here and reads fail with its reason. Deno's fetch
 * does not do this reliably itself: its request's signal follows the caller's weakly, and once
 * the response object is collected (a wrapped body outlives it) an abort no longer reaches the
 * body, so the upstream would keep streaming after the client left.
 */
export function guardBody(
  body: ReadableStream<Uint8Array>,
  firstByte: number,
  idle: number,
  onTimeout: () => Error,
  signal?: AbortSignal,
  onReadError: (err: unknown) => Error = (err) => err as Error,
): ReadableStream<Uint8Array> {
  const readError = (err: unknown): Error =>
    signal?.aborted ? abortReason(signal) : failed ?? onReadError(err);
  const reader = body.getReader();
  let deadline = firstByte > 0 ? performance.now() + firstByte * 1000 : Infinity;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let finished = false;
  let failed: Error | undefined;
  let ctrl!: ReadableStreamDefaultController<Uint8Array>;
  const fail = (err: Error) => {
    stop();
    failed = err;
    reader.cancel(err).catch(() => {});
    ctrl.error(err);
  };
  const onAbort = () => {
    if (!finished) fail(abortReason(signal!));
  };
  const stop = () => {
    finished = true;
    clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
  };
  let armedFor = Infinity;
  const arm = () => {
    if (finished || deadline === Infinity) return;
    armedFor = deadline;
    timer = setTimeout(() => {
      const left = deadline - performance.now();
      if (left > 1) return arm();
      fail(onTimeout());
    }, Math.max(0, deadline - performance.now()));
  };
  const touch = () => {
    deadline = idle > 0 ? performance.now() + idle * 1000 : Infinity;
    if (idle <= 0) clearTimeout(timer);
    else if (deadline < armedFor) {
      // The idle limit is shorter than the first-byte one: the timer must fire sooner.
      clearTimeout(timer);
      arm();
    }
  };
  const wrapper = new ReadableStream<Uint8Array>({
    start(controller) {
      ctrl = controller;
      if (signal?.aborted) return onAbort();
      signal?.addEventListener("abort", onAbort, { once: true });
      arm();
    },
    async pull(controller) {
      try {
        const result = await reader.read();
        if (finished) return;
        if (result.done) {
          stop();
          controller.close();
          return;
        }
        touch();
        controller.enqueue(result.value);
      } catch (err) {
        if (finished) return;
        stop();
        controller.error(readError(err));
      }
    },
    cancel(reason) {
      stop();
      return reader.cancel(reason);
    },
  }, { highWaterMark: 0 });
  (wrapper as { [GUARD]?: BodyGuard })[GUARD] = {
    reader,
    touch,
    failure: () => failed,
    cancel: (reason) => {
      stop();
      return reader.cancel(reason);
    },
    readError,
  };
  return wrapper;
}
