/**
 * The claude.ai web API for one session key: the organization, the account's default model
 * (statsig), a conversation per request, its completion stream, and its deletion.
 *
 * Paths under `<base-url>/api`: `GET /organizations`, `GET /bootstrap/{org}/statsig`,
 * `POST /organizations/{org}/chat_conversations` (201), `POST .../{conv}/completion` (SSE),
 * `DELETE .../{conv}`.
 *
 * @module
 */
import { expectType, readJson, type Upstream, type UpstreamInit } from "../../net/http.ts";
import { readSse, type SseEvent } from "../../net/sse.ts";
import { type GatewayError, upstreamFailed } from "../../openai/errors.ts";
import { responseError } from "./errors.ts";

/** The browser claude.ai expects (a desktop Edge). */
const USER_AGENT =
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/114.0.0.0 Safari/537.36 Edg/114.0.1823.79";

/** claude.ai's own origin, sent as Origin/Referer whatever base URL is configured. */
const SITE = "https://claude.ai";

/** What a session key's account looks like, cached for a while. */
export interface AccountInfo {
  org: string;
  at: number;
  /** From statsig, fetched when first needed. */
  defaultModel?: string;
  pro?: boolean;
}

const ACCOUNT_TTL_MS = 10 * 60_000;

/** The `Cookie` header for a session key given bare or as a cookie string. */
export function cookieHeader(secret: string): string {
  const s = secret.trim();
  return s.includes("sessionKey=") ? s : `sessionKey=${s}`;
}

/** The body of a completion request. */
export interface CompletionBody {
  rendering_mode: "raw";
  files: never[];
  timezone: string;
  model: string;
  prompt: string;
  attachments: {
    extracted_content: string;
    file_name: string;
    file_size: number;
    file_type: string;
  }[];
}

/** Builds the completion body the original sent: the conversation as a `paste.txt` attachment. */
export function completionBody(model: string, conversation: string): CompletionBody {
  return {
    rendering_mode: "raw",
    files: [],
    timezone: "America/New_York",
    model,
    // claude.ai refuses an empty prompt; the conversation itself is the attachment.
    prompt: " ",
    attachments: [{
      extracted_content: conversation,
      file_name: "paste.txt",
      file_size: new TextEncoder().encode(conversation).length,
      file_type: "text/plain",
    }],
  };
}

/** The claude.ai API seen through one session key. */
export class ClaudeWeb {
  readonly #key: string;

  constructor(
    readonly http: Upstream,
    readonly baseUrl: string,
    readonly secret: string,
    /** Account facts by base URL and session key, kept by the provider across requests. */
    private readonly accounts: Map<string, AccountInfo>,
  ) {
    this.#key = `${baseUrl} ${secret}`;
  }

  #headers(extra: Record<string, string> = {}): Record<string, string> {
    return {
      cookie: cookieHeader(this.secret),
      origin: SITE,
      referer: `${SITE}/`,
      "accept-language": "en-US,en;q=0.9",
      "user-agent": USER_AGENT,
      ...extra,
    };
  }

  /** The error of a refused call; a refused session key's cached account facts are dropped. */
  async #refused(res: Response, model?: string): Promise<GatewayError> {
    if (res.status === 401 || res.status === 403) this.accounts.delete(this.#key);
    return await responseError(res, model);
  }

  async #json<T>(url: string, init: UpstreamInit, expect: number, model?: string): Promise<T> {
    const res = await this.http.fetch(url, init);
    if (res.status !== expect) throw await this.#refused(res, model);
    return await readJson<T>("claude", res);
  }

  async #account(): Promise<AccountInfo> {
    const hit = this.accounts.get(this.#key);
    if (hit && Date.now() - hit.at < ACCOUNT_TTL_MS) return hit;
    const orgs = await this.#json<{ uuid?: unknown }[]>(
      `${this.baseUrl}/api/organizations`,
      { headers: this.#headers() },
      200,
    );
    const org = Array.isArray(orgs) ? orgs[0]?.uuid : undefined;
    if (typeof org !== "string" || org === "") {
      throw upstreamFailed("claude", "the account has no organization");
    }
    const info: AccountInfo = { org, at: Date.now() };
    this.accounts.set(this.#key, info);
    return info;
  }

  /** The organization id (the first organization of the account). */
  async organization(): Promise<string> {
    return (await this.#account()).org;
  }

  /** The account's default model and whether it is a Pro account (from statsig). */
  async defaults(): Promise<{ model?: string; pro: boolean }> {
    const info = await this.#account();
    if (info.pro === undefined) {
      const res = await this.http.fetch(`${this.baseUrl}/api/bootstrap/${info.org}/statsig`, {
        headers: this.#headers(),
      });
      if (res.status !== 200) throw await this.#refused(res);
      const text = await res.text();
      info.defaultModel = /"value":\{"model":"(claude-[^"]+)"\}/.exec(text)?.[1];
      info.pro = text.includes(`"custom":{"isPro":true,`);
    }
    return { model: info.defaultModel, pro: info.pro };
  }

  /** Creates a conversation (claude.ai answers 201) and returns its id. */
  async createConversation(org: string, model?: string): Promise<string> {
    const body: Record<string, string> = { name: "", uuid: crypto.randomUUID() };
    if (model) body.model = model;
    const conv = await this.#json<{ uuid?: unknown }>(
      `${this.baseUrl}/api/organizations/${org}/chat_conversations`,
      {
        method: "POST",
        headers: this.#headers({ "content-type": "application/json" }),
        body: JSON.stringify(body),
      },
      201,
      model,
    );
    if (typeof conv?.uuid !== "string" || conv.uuid === "") {
      throw upstreamFailed("claude", "conversation created without a uuid");
    }
    return conv.uuid;
  }

  /** Sends the completion request and returns its events. */
  async completion(
    org: string,
    conv: string,
    body: CompletionBody,
  ): Promise<AsyncGenerator<SseEvent>> {
    const res = await this.http.fetch(
      `${this.baseUrl}/api/organizations/${org}/chat_conversations/${conv}/completion`,
      {
        method: "POST",
        headers: this.#headers({
          "content-type": "application/json",
          accept: "text/event-stream",
          referer: SITE,
        }),
        body: JSON.stringify(body),
      },
    );
    if (res.status !== 200) throw await this.#refused(res, body.model);
    await expectType("claude", res, ["text/event-stream"]);
    return readSse(res.body!);
  }

  /** Deletes a conversation; `http` should be a detached client (see `Upstream.detached`). */
  async deleteConversation(http: Upstream, org: string, conv: string): Promise<void> {
    const res = await http.fetch(
      `${this.baseUrl}/api/organizations/${org}/chat_conversations/${conv}`,
      {
        method: "DELETE",
        headers: this.#headers({
          "content-type": "application/json",
          referer: `${SITE}/chat/${conv}`,
        }),
        body: JSON.stringify(conv),
      },
    );
    await res.body?.cancel();
    if (res.status >= 300) throw new Error(`delete answered ${res.status}`);
  }
}
