/**
 * The `chrome` transport: one HTTPS request with Chrome's TLS ClientHello, HTTP/2 SETTINGS,
 * pseudo-header and header order, made by `wreq-js` (Rust `wreq` on BoringSSL, the library
 * clewdr uses for claude.ai) with its Chrome 147 profile. Returns a web `Response` whose body
 * streams chunk by chunk as the upstream sends them.
 *
 * Each request gets its own library transport (connection pool) and loopback relay
 * (`relay.ts`): when the request ends, is aborted, or its body is cancelled, the relay closes
 * every socket the request opened, so the upstream sees the disconnect at once.
 *
 * Extra trusted CAs (`server.ca-file`): the library reads BoringSSL's default verify paths
 * (`SSL_CERT_FILE`) beside its bundled Mozilla roots when it builds a transport, synchronously.
 * The variable is set for that call only and restored before any other code runs, so nothing else
 * in the process (Deno's own TLS, Chromium) sees it.
 *
 * @module
 */
import { abortReason } from "../../util/signal.ts";
import { loadWreq, transportUnavailable, type Wreq } from "./native.ts";
import { CHROME_PROFILE } from "./profile.ts";
import { openRelay, type Relay } from "./relay.ts";

/** Per-request settings of the chrome transport. */
export interface ChromeRequestOptions {
  /** Aborts the request and closes its connection. */
  signal: AbortSignal;
  /** Outbound proxy URL (http, https, socks5, socks5h; with or without credentials). */
  proxy?: string;
  /** A PEM bundle of extra trusted CAs. */
  caFile?: string;
}

/** A library transport built with `caFile` trusted (see the module doc). */
function createTransport(wreq: Wreq, proxy: string | undefined, caFile: string | undefined) {
  const before = Deno.env.get("SSL_CERT_FILE");
  if (caFile) Deno.env.set("SSL_CERT_FILE", caFile);
  try {
    // The native call inside reads the variable before the first `await`.
    return wreq.createTransport({
      ...CHROME_PROFILE,
      proxy,
      trustStore: "combined",
      poolMaxIdlePerHost: 0,
    });
  } finally {
    if (caFile) {
      if (before === undefined) Deno.env.delete("SSL_CERT_FILE");
      else Deno.env.set("SSL_CERT_FILE", before);
    }
  }
}

/** A request body as the library takes it (it reads no streams). */
async function bodyOf(
  body: BodyInit | null | undefined,
): Promise<string | Uint8Array | FormData | URLSearchParams | undefined> {
  if (body === null || body === undefined) return undefined;
  if (typeof body === "string" || body instanceof FormData || body instanceof URLSearchParams) {
    return body;
  }
  if (body instanceof Uint8Array) return body;
  return new Uint8Array(await new Response(body).arrayBuffer());
}

/** Statuses whose response has no body (a `Response` refuses one). */
const NULL_BODY: ReadonlySet<number> = new Set([101, 103, 204, 205, 304]);

/** Wraps the library's body so that its end, an error or a cancel closes the request's sockets. */
function ownedBody(
  body: ReadableStream<Uint8Array>,
  release: () => void,
  signal: AbortSignal,
): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (done) {
          release();
          controller.close();
        } else {
          controller.enqueue(value);
        }
      } catch (err) {
        release();
        controller.error(signal.aborted ? abortReason(signal) : err);
      }
    },
    cancel(reason) {
      release();
      return reader.cancel(reason).catch(() => {});
    },
  }, { highWaterMark: 0 });
}

/**
 * Sends one request with Chrome's fingerprint. Network failures reject (the caller maps them);
 * a missing `--allow-ffi` or native library rejects with a 502 `GatewayError`.
 */
export async function chromeFetch(
  url: URL,
  init: RequestInit,
  options: ChromeRequestOptions,
): Promise<Response> {
  const { signal } = options;
  if (signal.aborted) throw abortReason(signal);
  const wreq = await loadWreq();
  const body = await bodyOf(init.body);
  let relay: Relay | undefined;
  let transport: ReturnType<Wreq["createTransport"]> | undefined;
  const release = () => {
    signal.removeEventListener("abort", release);
    relay?.close();
    transport?.then((t) => t.close()).catch(() => {});
  };
  signal.addEventListener("abort", release, { once: true });
  try {
    relay = openRelay(options.proxy);
    transport = createTransport(wreq, relay?.proxyUrl ?? options.proxy, options.caFile);
    let t: Awaited<typeof transport>;
    try {
      t = await transport;
    } catch (err) {
      throw transportUnavailable(
        `the library refused its settings: ${(err as Error).message}`,
        err,
      );
    }
    const res = await wreq.fetch(url.href, {
      method: init.method ?? "GET",
      headers: [...new Headers(init.headers)],
      body,
      redirect: init.redirect,
      signal,
      transport: t,
      // Timeouts are the caller's (connect via `signal`, first byte and idle via `guardBody`).
      timeout: 0,
    });
    const headers = new Headers();
    // The raw header list keeps each Set-Cookie apart; the library's Headers joins them with
    // commas (which breaks cookie values). `headersInit` is that list (wreq-js 2.3.1, pinned).
    const raw = (res as unknown as { headersInit?: [string, string][] }).headersInit;
    for (const [k, v] of Array.isArray(raw) ? raw : res.headers.toTuples()) headers.append(k, v);
    const hasBody = res.body && !NULL_BODY.has(res.status) && init.method !== "HEAD";
    if (!hasBody) {
      await res.body?.cancel().catch(() => {});
      release();
    }
    const stream = res.body as unknown as ReadableStream<Uint8Array> | null;
    return new Response(hasBody ? ownedBody(stream!, release, signal) : null, {
      status: res.status,
      statusText: res.statusText,
      headers,
    });
  } catch (err) {
    release();
    if (signal.aborted) throw abortReason(signal);
    throw err;
  }
}
