/**
 * The external signing service (`coze.sign-url`, which has no default): it makes msTokens (`GET /report` gives a report
 * URL and payload; `POST <url>/web/report` answers with `Set-Cookie: msToken=...`) and signs chat
 * payloads (`POST /?msToken=` gives `X-Bogus` and `_signature`). msTokens it made are kept per
 * credential for a while so that each request does not cost two more round trips.
 *
 * @module
 */
import { snippet, type Upstream, type UpstreamInit } from "../../../net/http.ts";
import { GatewayError, upstreamFailed } from "../../../openai/errors.ts";

/** The signature of one chat request. */
export interface Signature {
  bogus: string;
  signature: string;
}

interface SignAnswer {
  ok?: boolean;
  msg?: string;
  data?: Record<string, unknown>;
}

/** How long a made msToken is reused. */
const TOKEN_TTL_MS = 10 * 60_000;
/** Most credentials whose msToken is remembered. */
const TOKEN_CACHE_MAX = 1000;

/** Remembered msTokens by signing service and cookie (kept by the provider). */
type Tokens = Map<string, { token: string; until: number }>;

/** A remembered msToken for `key`, if still fresh. */
function cachedMsToken(tokens: Tokens, key: string): string | undefined {
  const hit = tokens.get(key);
  if (!hit) return undefined;
  if (hit.until > Date.now()) return hit.token;
  tokens.delete(key);
  return undefined;
}

function remember(tokens: Tokens, key: string, token: string): void {
  if (tokens.size >= TOKEN_CACHE_MAX) tokens.delete(tokens.keys().next().value!);
  tokens.set(key, { token, until: Date.now() + TOKEN_TTL_MS });
}

/** The signing service of one request. */
export class Signer {
  constructor(
    private readonly http: Upstream,
    private readonly configured: string | undefined,
    private readonly tokens: Tokens,
  ) {}

  /** The service's URL; the web mode has no default one (the original's host is gone). */
  get signUrl(): string {
    if (this.configured) return this.configured;
    throw new GatewayError(
      500,
      "coze web mode needs a request-signing service: set coze.sign-url (there is no default; " +
        "the original's host is gone), or use Coze's API (coze.mode: api, coze.tokens)",
      "server_error",
      "sign_url_missing",
    );
  }

  /**
   * An msToken for `cookie` (or "" for the web SDK): a remembered one, else a new one from the
   * report, reporting `old` as the current one.
   */
  async msToken(cookie: string, old = ""): Promise<string> {
    const key = `${this.signUrl}\n${cookie}`;
    const cached = cachedMsToken(this.tokens, key);
    if (cached) return cached;
    const report = await this.#call(`${this.signUrl}/report`, { method: "GET" });
    const { url, ...payload } = report;
    if (typeof url !== "string" || !/^https?:\/\//.test(url)) {
      throw upstreamFailed("coze", "the signing service's /report gave no report url");
    }
    const res = await this.http.fetch(
      `${url.replace(/\/+$/, "")}/web/report?msToken=${encodeURIComponent(old)}`,
      {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(payload),
      },
    );
    const text = await res.text();
    const token = setCookieValue(res.headers, "msToken");
    if (res.status !== 200 || !token) {
      throw upstreamFailed(
        "coze",
        `refreshing the msToken failed: the report host answered ${res.status} ${
          token ? "" : "without setting msToken"
        }: ${snippet(text) || "no body"}`,
      );
    }
    remember(this.tokens, key, token);
    return token;
  }

  /** Forgets the msToken made for `cookie` (after a failure, so the next try makes a new one). */
  forget(cookie: string): void {
    this.tokens.delete(`${this.configured}\n${cookie}`);
  }

  /** Signs `body` (the exact JSON text that will be sent) for `msToken`. */
  async sign(body: string, msToken: string): Promise<Signature> {
    const data = await this.#call(`${this.signUrl}?msToken=${encodeURIComponent(msToken)}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
    if (typeof data.bogus !== "string" || typeof data.signature !== "string") {
      throw upstreamFailed("coze", "the signing service answered without bogus and signature");
    }
    return { bogus: data.bogus, signature: data.signature };
  }

  async #call(url: string, init: UpstreamInit): Promise<Record<string, unknown>> {
    // Its failures are the gateway's dependency failing (502), never the client's 404 or 401.
    const res = await this.http.fetch(url, init);
    const text = await res.text();
    let answer: SignAnswer | undefined;
    try {
      answer = JSON.parse(text);
    } catch {
      answer = undefined;
    }
    if (
      res.status !== 200 || answer?.ok !== true || !answer.data || typeof answer.data !== "object"
    ) {
      const path = new URL(url).pathname;
      throw upstreamFailed(
        "coze",
        `the signing service (${path}) answered ${res.status}: ${
          answer?.msg || snippet(text) || "no body"
        }`,
      );
    }
    return answer.data;
  }
}

/** The value a response's `Set-Cookie` headers give cookie `name`. */
export function setCookieValue(headers: Headers, name: string): string | undefined {
  for (const line of headers.getSetCookie()) {
    const first = line.split(";")[0];
    const eq = first.indexOf("=");
    if (eq > 0 && first.slice(0, eq).trim() === name) {
      const value = first.slice(eq + 1).trim();
      if (value) return value;
    }
  }
  return undefined;
}
