/**
 * The claude.ai web API for one session key (reference section 2). Paths under `<base-url>/api`:
 *
 * - `GET /bootstrap` (a null `account` means a dead session key) and `GET /organizations` (the
 *   organization that can chat, its plan and flags), cached per key for a while;
 * - `POST /organizations/{org}/chat_conversations` `{uuid, name: "", is_temporary: true}`: a
 *   temporary ("incognito") conversation, which claude.ai does not keep, so nothing is deleted;
 * - `PUT /organizations/{org}/chat_conversations/{conv}` `{settings: {paprika_mode}}`: extended
 *   thinking on (paid plans);
 * - `POST .../{conv}/completion` (`text/event-stream`).
 *
 * No User-Agent of its own: the chrome transport sends Chrome's, which is what Cloudflare must see
 * beside Chrome's handshake. Redirects are not followed: a 3xx is Cloudflare blocking the address.
 *
 * @module
 */
import { expectType, readJson, type Upstream, type UpstreamInit } from "../../net/http.ts";
import { readSse, type SseEvent } from "../../net/sse.ts";
import { type GatewayError, upstreamFailed } from "../../openai/errors.ts";
import { accountFrom, checkBootstrap, type ClaudeAccount, sessionCookie } from "./account.ts";
import { responseError } from "./errors.ts";
import type { CompletionBody } from "./request.ts";

/** An account's facts and when they were read. */
export interface CachedAccount {
  account: ClaudeAccount;
  at: number;
}

/** How long account facts are reused before bootstrap is asked again. */
const ACCOUNT_TTL_MS = 10 * 60_000;

/** The most accounts whose facts are kept (clients may bring keys of their own). */
const ACCOUNTS_KEPT = 256;

/** The claude.ai API seen through one session key. */
export class ClaudeWeb {
  readonly #key: string;
  readonly #site: string;

  constructor(
    readonly http: Upstream,
    readonly baseUrl: string,
    readonly secret: string,
    /** Account facts by base URL and session key, kept by the provider across requests. */
    private readonly accounts: Map<string, CachedAccount>,
  ) {
    this.#key = `${baseUrl} ${secret}`;
    this.#site = new URL(baseUrl).origin;
  }

  #headers(referer: string, extra: Record<string, string> = {}): Record<string, string> {
    return {
      cookie: sessionCookie(this.secret),
      origin: this.#site,
      referer: `${this.#site}/${referer}`,
      "accept-language": "en-US,en;q=0.9",
      ...extra,
    };
  }

  /** One call; a refusal is mapped (and a refused key's cached facts dropped). */
  async #call(url: string, init: UpstreamInit, model?: string): Promise<Response> {
    const res = await this.http.fetch(url, { ...init, redirect: "manual" });
    if (res.status >= 200 && res.status < 300) return res;
    throw await this.#refused(res, model);
  }

  async #refused(res: Response, model?: string): Promise<GatewayError> {
    const err = await responseError(res, model);
    if (err.status === 401 || err.status === 403 || err.status === 429) this.forget();
    return err;
  }

  /** Forgets the cached facts of this key (it was refused, or its plan may have changed). */
  forget(): void {
    this.accounts.delete(this.#key);
  }

  /** The account's facts: bootstrap, then the organization that can chat. */
  async account(): Promise<ClaudeAccount> {
    const hit = this.accounts.get(this.#key);
    if (hit && Date.now() - hit.at < ACCOUNT_TTL_MS) return hit.account;
    const headers = this.#headers("new");
    const boot = await this.#call(`${this.baseUrl}/api/bootstrap`, { headers });
    checkBootstrap(await readJson("claude", boot));
    const orgs = await this.#call(`${this.baseUrl}/api/organizations`, { headers });
    const account = accountFrom(await readJson("claude", orgs));
    this.accounts.delete(this.#key);
    if (this.accounts.size >= ACCOUNTS_KEPT) {
      this.accounts.delete(this.accounts.keys().next().value!);
    }
    this.accounts.set(this.#key, { account, at: Date.now() });
    return account;
  }

  /** Creates a temporary conversation and returns its id (the one the gateway chose). */
  async createConversation(org: string): Promise<string> {
    const uuid = crypto.randomUUID();
    const res = await this.#call(`${this.baseUrl}/api/organizations/${org}/chat_conversations`, {
      method: "POST",
      headers: this.#headers("new?incognito", { "content-type": "application/json" }),
      body: JSON.stringify({ uuid, name: "", is_temporary: true }),
    });
    const conv = await readJson<{ uuid?: unknown }>("claude", res);
    if (conv && typeof conv.uuid === "string" && conv.uuid !== uuid) {
      throw upstreamFailed("claude", "the conversation was created under another uuid");
    }
    return uuid;
  }

  /** Turns extended thinking on for a conversation (paid plans). */
  async setThinking(org: string, conv: string): Promise<void> {
    const res = await this.#call(
      `${this.baseUrl}/api/organizations/${org}/chat_conversations/${conv}`,
      {
        method: "PUT",
        headers: this.#headers(`chat/${conv}`, { "content-type": "application/json" }),
        body: JSON.stringify({ settings: { paprika_mode: "extended" } }),
      },
    );
    await res.body?.cancel();
  }

  /** Sends the completion request and returns its events. */
  async completion(
    org: string,
    conv: string,
    body: CompletionBody,
    model?: string,
  ): Promise<AsyncGenerator<SseEvent>> {
    const res = await this.#call(
      `${this.baseUrl}/api/organizations/${org}/chat_conversations/${conv}/completion`,
      {
        method: "POST",
        headers: this.#headers(`chat/${conv}`, {
          "content-type": "application/json",
          accept: "text/event-stream",
        }),
        body: JSON.stringify(body),
      },
      model,
    );
    await expectType("claude", res, ["text/event-stream"]);
    return readSse(res.body!);
  }
}
