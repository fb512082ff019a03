/**
 * Shared plumbing of fake upstreams: a `Deno.serve` on 127.0.0.1 with a random port that records
 * every request it receives.
 *
 * @module
 */

/** A request as a fake received it. */
export interface Recorded {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Headers;
  body: string;
  /** The parsed JSON body, when the body is JSON. */
  json?: unknown;
  /** Resolves when the client went away before the response was complete. */
  aborted: Promise<void>;
  /** True once the client went away before the response was complete. */
  wasAborted: boolean;
  /** Milliseconds (performance.now) when the client went away. */
  abortedAt?: number;
}

/** A running fake. */
export interface Fake {
  /** `http://127.0.0.1:<port>` */
  origin: string;
  port: number;
  requests: Recorded[];
  close(): Promise<void>;
}

/** Starts a fake whose `handler` answers each recorded request (`record: false` keeps none). */
export function serveFake(
  handler: (req: Request, rec: Recorded) => Response | Promise<Response>,
  options: { record?: boolean } = {},
): Promise<Fake> {
  const requests: Recorded[] = [];
  let resolvePort!: (port: number) => void;
  const portReady = new Promise<number>((r) => resolvePort = r);
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen: ({ port }) => resolvePort(port),
  }, async (req) => {
    const url = new URL(req.url);
    const body = req.body ? await req.text() : "";
    let json: unknown;
    try {
      json = body ? JSON.parse(body) : undefined;
    } catch {
      json = undefined;
    }
    let onAbort!: () => void;
    const rec: Recorded = {
      method: req.method,
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      body,
      json,
      aborted: new Promise<void>((r) => onAbort = r),
      wasAborted: false,
    };
    req.signal.addEventListener("abort", () => {
      rec.wasAborted = true;
      rec.abortedAt = performance.now();
      onAbort();
    });
    if (options.record !== false) requests.push(rec);
    return await handler(req, rec);
  });
  return portReady.then((port) => ({
    origin: `http://127.0.0.1:${port}`,
    port,
    requests,
    close: () => server.shutdown(),
  }));
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A JSON response. */
export function json(body: unknown, status = 200, headers: HeadersInit = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

/**
 * A streamed body: each part is written with `delayMs` between parts; stops (and records it)
 * when the client goes away.
 */
export function streamParts(
  parts: AsyncIterable<string> | Iterable<string>,
  contentType: string,
  delayMs = 0,
  status = 200,
  headers: HeadersInit = {},
): Response {
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    async start(controller) {
      try {
        for await (const part of parts) {
          if (delayMs > 0) await sleep(delayMs);
          controller.enqueue(encoder.encode(part));
        }
        controller.close();
      } catch {
        // The client went away.
      }
    },
  });
  return new Response(body, { status, headers: { "content-type": contentType, ...headers } });
}

/** A recorded request whose abort the fake can also report itself (its answer was cancelled). */
export interface GateRecorded extends Recorded {
  /** Marks the request aborted (behind the TLS gate, a cancelled body is how a fake sees it). */
  markAborted(): void;
}

/**
 * Records one request the way `serveFake` does, for fakes that receive requests from elsewhere
 * (behind the TLS gate): its body read, its abort noticed. Behind the gate the request's signal
 * does not fire when the client leaves; the response body's `cancel` does, so the fake reports
 * it with `markAborted`.
 */
export async function recordRequest(req: Request): Promise<GateRecorded> {
  const url = new URL(req.url);
  const body = req.body ? await req.text() : "";
  let json: unknown;
  try {
    json = body ? JSON.parse(body) : undefined;
  } catch {
    json = undefined;
  }
  let onAbort!: () => void;
  const rec: GateRecorded = {
    method: req.method,
    path: url.pathname,
    query: url.searchParams,
    headers: req.headers,
    body,
    json,
    aborted: new Promise<void>((r) => onAbort = r),
    wasAborted: false,
    markAborted() {
      if (rec.wasAborted) return;
      rec.wasAborted = true;
      rec.abortedAt = performance.now();
      onAbort();
    },
  };
  req.signal.addEventListener("abort", () => rec.markAborted());
  return rec;
}
