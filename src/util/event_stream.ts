/**
 * The streamed response of every client API (Chat Completions, Messages, Responses): the
 * mechanics they share, with the bytes left to each API's writer.
 *
 * - The HTTP status is chosen when the first event arrives, so a failure before the upstream
 *   answered gets an honest error response (`failEarly`). A stream whose first event takes
 *   longer than the keep-alive interval is committed as 200 and kept alive.
 * - Each event is written as soon as it arrives: the body pulls, nothing is batched.
 * - Keep-alive bytes go out whenever the events are silent for the interval (one timer per
 *   stream, re-armed for the time left since the last write).
 * - A failure after the start is written by `fail`; a stream that ended is closed after `end`.
 * - When the client goes away the abort controller fires, which aborts the upstream request.
 *
 * @module
 */

/** How a streamed response ended, for the access log. */
export interface StreamEnd {
  /** The client went away. */
  aborted?: boolean;
  /** What failed after the stream started. */
  error?: unknown;
}

/** The API-specific part of a streamed response. */
export interface EventStreamOptions<E> {
  /** Milliseconds of silence before keep-alive bytes. */
  keepAliveMs: number;
  /** The keep-alive bytes (an SSE comment, or an API's ping event). */
  keepAlive: Uint8Array;
  /** Aborted when the client leaves; aborted here too when the body is cancelled. */
  abort: AbortController;
  /** Response headers (content type included). */
  headers: HeadersInit;
  /** Bytes that open the stream, written once when it commits. */
  start(): Uint8Array[];
  /** Bytes for one event (none for events that make no output). */
  render(ev: E): Uint8Array[];
  /** Bytes that close a complete stream. */
  end(): Uint8Array[];
  /** Bytes for a failure after the stream started. */
  fail(err: unknown): Uint8Array[];
  /** The response for a failure before anything was sent. */
  failEarly(err: unknown): Response;
  /** Called just before the streamed response is returned. */
  onCommit?(): void;
  /** Called once when the stream ended, failed, or the client left. */
  onEnd?(end: StreamEnd): void;
}

/** HTTP status of a request whose client left before the answer (nginx's convention). */
export const CLIENT_CLOSED = 499;

/** The headers of every streamed answer: SSE, never cached or buffered by a proxy. */
export const SSE_HEADERS: Readonly<Record<string, string>> = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache, no-transform",
  "x-accel-buffering": "no",
};

/** Joins byte arrays into one. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0];
  let size = 0;
  for (const p of parts) size += p.length;
  const out = new Uint8Array(size);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** Streams `events` as the response the options describe. */
export async function streamEvents<E>(
  events: AsyncIterable<E>,
  o: EventStreamOptions<E>,
): Promise<Response> {
  const it = events[Symbol.asyncIterator]();
  let ended = false;
  const end = (e: StreamEnd) => {
    if (ended) return;
    ended = true;
    o.onEnd?.(e);
  };

  // Wait for the first event, or commit to 200 after the keep-alive interval.
  let pending: Promise<IteratorResult<E>> | undefined = it.next();
  let first: IteratorResult<E> | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    first = await Promise.race([
      pending,
      new Promise<undefined>((r) => timer = setTimeout(() => r(undefined), o.keepAliveMs)),
    ]);
  } catch (err) {
    ended = true;
    return o.failEarly(err);
  } finally {
    clearTimeout(timer);
  }
  if (first) pending = undefined;

  let lastWrite = performance.now();
  let closed = false;
  let keepAlive: ReturnType<typeof setTimeout> | undefined;
  let ctrl!: ReadableStreamDefaultController<Uint8Array>;
  // After `cancel` (the client left) nothing more may be enqueued or closed.
  const write = (parts: Uint8Array[]) => {
    if (closed || parts.length === 0) return;
    ctrl.enqueue(concatBytes(parts));
    lastWrite = performance.now();
  };
  const armKeepAlive = () => {
    keepAlive = setTimeout(() => {
      if (closed) return;
      if (performance.now() - lastWrite >= o.keepAliveMs - 1) write([o.keepAlive]);
      armKeepAlive();
    }, Math.max(1, lastWrite + o.keepAliveMs - performance.now()));
  };
  const close = () => {
    clearTimeout(keepAlive);
    if (closed) return;
    closed = true;
    ctrl.close();
  };
  const finish = () => {
    write(o.end());
    end({});
    close();
  };

  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      ctrl = controller;
      const opening = o.start();
      if (!first) write([...opening, o.keepAlive]);
      else if (first.done) {
        write(opening);
        finish();
        return;
      } else write([...opening, ...o.render(first.value)]);
      armKeepAlive();
    },
    async pull() {
      try {
        while (true) {
          const r = await (pending ?? it.next());
          pending = undefined;
          if (r.done) return finish();
          // Events that make no output (usage) are taken in the same pull.
          const parts = o.render(r.value);
          if (parts.length > 0) return write(parts);
        }
      } catch (err) {
        if (o.abort.signal.aborted) {
          end({ aborted: true });
          close();
          return;
        }
        write(o.fail(err));
        end({ error: err });
        close();
      }
    },
    cancel() {
      // The client went away: stop the upstream and let the provider clean up.
      closed = true;
      clearTimeout(keepAlive);
      o.abort.abort(new DOMException("client disconnected", "AbortError"));
      end({ aborted: true });
      it.return?.().catch(() => {});
    },
  }, { highWaterMark: 0 });

  o.onCommit?.();
  return new Response(body, { status: 200, headers: o.headers });
}
