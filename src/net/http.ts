/**
 * The upstream HTTP client: the one place for proxies, timeouts and the mapping of network
 * failures and error responses to `GatewayError`s.
 *
 * Timeouts (seconds, from `server.timeouts`, overridable per call):
 * - `connect`: until the response headers arrive;
 * - `first-byte`: until the first byte of the body;
 * - `idle`: the longest silence between two body chunks.
 *
 * Requests leave through the provider's transport (`<provider>.transport`): Deno's fetch, or
 * the Chrome-impersonating one for sites behind Cloudflare. Both trust `server.ca-file`.
 *
 * @module
 */
import type { Config, Timeouts } from "../config/schema.ts";
import { GatewayError, upstreamFailed, upstreamTimeout } from "../openai/errors.ts";
import { redact } from "../util/mask.ts";
import { NdjsonError, readNdjson } from "./ndjson.ts";
import { type HttpClients, proxyFor } from "./proxy.ts";

export { HttpClients } from "./proxy.ts";
import { abortReason, linkedController } from "../util/signal.ts";
import { guardBody } from "./guard.ts";
import { ERROR_BODY_LIMIT, readCapped, snippet } from "./read.ts";

export { readBytes, readCapped, snippet } from "./read.ts";
import { mapStatus } from "./status.ts";

export { mapStatus } from "./status.ts";
import { fetchPublic, type PublicFile } from "./public_fetch.ts";
import type { Logger } from "../util/log.ts";
import { readSse, type SseEvent } from "./sse.ts";
import { chromeFetch, type TransportKind, transportOf } from "./transport/mod.ts";
import { openSocket, type SocketInit, type UpstreamSocket } from "./websocket.ts";

export type { SocketEnd, SocketInit, UpstreamSocket } from "./websocket.ts";

/** Options of one upstream call on top of `RequestInit`. */
export interface UpstreamInit extends Omit<RequestInit, "signal" | "client"> {
  /** Timeouts for this call in seconds (0 = none); missing ones come from the config. */
  timeouts?: Partial<Timeouts>;
  /** Extra abort signal for this call only. */
  signal?: AbortSignal;
}

/** Options of `Upstream`. */
export interface UpstreamOptions {
  /** The provider's id, used in error messages. */
  provider: string;
  config: Config;
  /** Aborts every call (the client went away). */
  signal: AbortSignal;
  /** The provider's own proxy (`false` = none); undefined uses the server's. */
  proxy?: string | false;
  /** The server's HTTP clients (one per proxy and CA bundle). */
  clients: HttpClients;
  /**
   * `fetch` (Deno's) or `chrome` (Chrome's TLS and HTTP/2 fingerprint, see
   * `transport/mod.ts`); undefined uses the provider's config section's `transport` key.
   */
  transport?: TransportKind;
}

/** An HTTP client for one provider and one request. */
export class Upstream {
  constructor(readonly options: UpstreamOptions) {}

  /**
   * A client for work that must finish even when the request is over or the client left
   * (deleting an upstream conversation): not tied to the request, bounded by `timeoutMs`.
   */
  detached(timeoutMs = 15_000): Upstream {
    return new Upstream({ ...this.options, signal: AbortSignal.timeout(timeoutMs) });
  }

  /** The provider id errors are reported under. */
  get provider(): string {
    return this.options.provider;
  }

  /** The server's HTTP clients (for websockets, which take a client themselves). */
  get clients(): HttpClients {
    return this.options.clients;
  }

  /** The HTTP client a connection to `target` uses (its proxy), or undefined for none. */
  clientFor(target: URL): Deno.HttpClient | undefined {
    const http = new URL(target.href.replace(/^ws/i, "http"));
    const proxy = proxyFor(http, this.options.config, this.options.proxy);
    return this.options.clients.get(proxy, this.options.config.server["ca-file"]);
  }

  /**
   * Sends a request. Resolves with the response whatever its status (see `ok`), its body
   * guarded by the first-byte and idle timeouts. Network failures become 502, timeouts 504.
   */
  async fetch(url: string | URL, init: UpstreamInit = {}): Promise<Response> {
    const { config, provider } = this.options;
    const t = { ...config.server.timeouts, ...init.timeouts };
    const target = new URL(url);
    const proxy = proxyFor(target, config, this.options.proxy);
    const connect = new AbortController();
    const signal = linkedController([this.options.signal, init.signal, connect.signal]).signal;
    const timer = t.connect > 0
      ? setTimeout(
        () => connect.abort(new DOMException("connect", "TimeoutError")),
        t.connect * 1000,
      )
      : undefined;
    const caFile = config.server["ca-file"];
    const chrome = (this.options.transport ?? transportOf(config, provider)) === "chrome" &&
      target.protocol === "https:";
    let client: Deno.HttpClient | undefined;
    try {
      if (caFile) Deno.statSync(caFile);
      if (!chrome) client = this.options.clients.get(proxy, caFile);
    } catch (err) {
      clearTimeout(timer);
      throw new GatewayError(
        500,
        `server.ca-file '${caFile}' cannot be used: ${errText(err)}`,
        "server_error",
        "ca_file_unreadable",
      );
    }
    let res: Response;
    try {
      res = chrome
        ? await chromeFetch(target, init as RequestInit, { signal, proxy, caFile })
        : await fetch(target, { ...init, signal, client } as RequestInit);
    } catch (err) {
      if (err instanceof GatewayError) throw err;
      if (connect.signal.aborted) {
        throw upstreamTimeout(provider, `no response from ${target.host} within ${t.connect}s`);
      }
      if (this.options.signal.aborted || init.signal?.aborted) throw abortReason(signal);
      const via = proxy ? ` via proxy ${redact(proxy)}` : "";
      throw upstreamFailed(provider, `cannot reach ${target.host}${via}: ${errText(err)}`, err);
    } finally {
      clearTimeout(timer);
    }
    if (!res.body) return res;
    const body = guardBody(
      res.body,
      t["first-byte"],
      t.idle,
      () => upstreamTimeout(provider, `${target.host} went silent`),
      signal,
      (err) =>
        err instanceof GatewayError ? err : upstreamFailed(
          provider,
          `${target.host} broke off the answer: ${errText(err)}`,
          err,
        ),
    );
    return new Response(body, {
      status: res.status,
      statusText: res.statusText,
      headers: res.headers,
    });
  }

  /**
   * Opens a websocket with the same transport, proxy, CA bundle, timeouts and abort signal as
   * this client's requests (see `websocket.ts`).
   */
  socket(url: string | URL, init: SocketInit): Promise<UpstreamSocket> {
    return openSocket(new URL(url), init, this.options);
  }

  /**
   * Fetches a URL a client supplied through the SSRF guard (`public_fetch.ts`) with this
   * client's config, proxy choice and abort signal.
   */
  fetchPublic(
    url: string,
    options: { field: string; maxBytes: number; log?: Logger },
  ): Promise<PublicFile> {
    return fetchPublic(url, {
      ...options,
      config: this.options.config,
      clients: this.options.clients,
      proxy: this.options.proxy,
      signal: this.options.signal,
    });
  }

  /** Sends a request and returns the response when its status is 2xx; else throws `httpError`. */
  async ok(url: string | URL, init: UpstreamInit = {}): Promise<Response> {
    const res = await this.fetch(url, init);
    if (res.status >= 200 && res.status < 300) return res;
    throw await httpError(this.provider, res);
  }

  /** A 2xx JSON response's body. A non-JSON body is a 502 quoting its start. */
  async json<T = unknown>(url: string | URL, init: UpstreamInit = {}): Promise<T> {
    const res = await this.ok(url, init);
    return await readJson<T>(this.provider, res);
  }

  /** A 2xx event stream's events. A body of another type is a 502 quoting its start. */
  async sse(url: string | URL, init: UpstreamInit = {}): Promise<AsyncGenerator<SseEvent>> {
    const res = await this.ok(url, init);
    await expectType(this.provider, res, ["text/event-stream"]);
    return readSse(res.body!);
  }

  /** A 2xx NDJSON stream's values. */
  async ndjson(url: string | URL, init: UpstreamInit = {}): Promise<AsyncGenerator<unknown>> {
    const res = await this.ok(url, init);
    await expectType(this.provider, res, [
      "application/stream+json",
      "application/x-ndjson",
      "application/jsonl",
      "application/json",
      "text/plain",
    ]);
    return upstreamNdjson(this.provider, res.body!);
  }
}

/** `readNdjson` with a line that is not JSON reported as the upstream's failure (502). */
async function* upstreamNdjson(
  provider: string,
  body: ReadableStream<Uint8Array>,
): AsyncGenerator<unknown> {
  try {
    yield* readNdjson(body);
  } catch (err) {
    if (err instanceof NdjsonError) throw upstreamFailed(provider, err.message, err);
    throw err;
  }
}

/** Makes the clients of one request: every provider's calls share `config` and `signal`. */
export function upstreamFactory(
  config: Config,
  signal: AbortSignal,
  clients: HttpClients,
): (provider: string, proxy?: string | false, transport?: TransportKind) => Upstream {
  return (provider, proxy, transport) =>
    new Upstream({ provider, config, signal, proxy, clients, transport });
}

/** Reads a JSON body; a body that is not JSON is a 502 quoting its start. */
export async function readJson<T>(provider: string, res: Response): Promise<T> {
  const text = await res.text();
  try {
    return JSON.parse(text) as T;
  } catch {
    throw upstreamFailed(
      provider,
      `status ${res.status} with a body that is not JSON (${
        res.headers.get("content-type") ?? "no content type"
      }): ${snippet(text)}`,
    );
  }
}

/** Throws a 502 quoting the body's start when the response's content type is none of `types`. */
export async function expectType(provider: string, res: Response, types: string[]): Promise<void> {
  const ct = (res.headers.get("content-type") ?? "").toLowerCase();
  if (types.some((t) => ct.includes(t))) return;
  const text = await readCapped(res, 2048);
  throw upstreamFailed(
    provider,
    `expected ${types[0]} but got ${ct || "no content type"} (status ${res.status}): ${
      snippet(text)
    }`,
  );
}

/**
 * Turns an error response into a `GatewayError`: the upstream's message (from the usual JSON
 * error shapes or the raw text) with an honest status. 401/403/404/429 keep their status;
 * 400/413/422 mean the request was refused (400/413); timeouts become 504; the rest 502.
 */
export async function httpError(provider: string, res: Response): Promise<GatewayError> {
  return httpErrorOf(provider, res, await readCapped(res, ERROR_BODY_LIMIT));
}

/** `httpError` for a response whose body was already read (with `readCapped`) as `text`. */
export function httpErrorOf(provider: string, res: Response, text: string): GatewayError {
  const detail = errorMessageOf(text) ?? (snippet(text) || res.statusText || "no body");
  const status = mapStatus(res.status);
  const retryAfter = parseRetryAfter(res.headers.get("retry-after"));
  const err = new GatewayError(
    status,
    `${provider} upstream answered ${res.status}: ${detail}`,
    undefined,
    status === 429 ? "rate_limit_exceeded" : null,
    null,
    { retryAfter },
  );
  err.upstreamStatus = res.status;
  return err;
}

/** Seconds from a `Retry-After` header (delta seconds or an HTTP date). */
export function parseRetryAfter(value: string | null): number | undefined {
  if (!value) return undefined;
  const n = Number(value);
  if (Number.isFinite(n) && n >= 0) return n;
  const t = Date.parse(value);
  if (Number.isNaN(t)) return undefined;
  return Math.max(0, Math.ceil((t - Date.now()) / 1000));
}

/** The JSON value of `text`, or undefined when it is not JSON (an error page, a cut-off body). */
export function jsonOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Finds the message in the usual error body shapes (OpenAI, Google, Anthropic, plain). */
export function errorMessageOf(text: string): string | undefined {
  let body = jsonOrUndefined(text);
  if (Array.isArray(body)) body = body[0];
  if (!body || typeof body !== "object") return undefined;
  const b = body as Record<string, unknown>;
  const e = b.error;
  // `{"error":"Forbidden","message":"account suspended"}`: both say something.
  if (typeof e === "string") return typeof b.message === "string" ? `${e}: ${b.message}` : e;
  if (e && typeof e === "object") {
    const m = (e as Record<string, unknown>).message;
    if (typeof m === "string") return m;
  }
  for (const k of ["message", "msg", "detail"]) {
    if (typeof b[k] === "string") return b[k] as string;
  }
  return undefined;
}

function errText(err: unknown): string {
  const e = err as Error;
  const msg = e?.message ?? String(err);
  const cause = (e?.cause as Error | undefined)?.message;
  return cause && !msg.includes(cause) ? `${msg} (${cause})` : msg;
}
