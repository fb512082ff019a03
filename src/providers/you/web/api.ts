/**
 * The you.com web API as its chat page uses it (legacy web mode): the quota
 * (`/api/user/getYouProState`), the upload of long conversations (`/api/get_nonce`, `/api/upload`,
 * `/api/instrumentation`) and the answer stream (`/api/streamingSearch`, SSE with `youChatToken`
 * and `youChatUpdate` deltas and `done`).
 *
 * Every call presents the account's cookies with the Cloudflare clearance and exactly the user
 * agent and `Accept-Language` that earned the clearance.
 *
 * @module
 */
import type { Clearance } from "../../../browser/mod.ts";
import { refusalOf } from "../../../net/cloudflare.ts";
import { expectType, readJson, type Upstream } from "../../../net/http.ts";
import { chromeUserAgent } from "../../../net/transport/mod.ts";
import { readSse, type SseEvent } from "../../../net/sse.ts";
import { GatewayError, upstreamFailed } from "../../../openai/errors.ts";
import { cookieHeader } from "./cookies.ts";
import type { ChatPair } from "./prompt.ts";

/**
 * The user agent used when no browser clearance is in force (`you.clearance: false`): the chrome
 * transport's own, so that the user agent and the TLS fingerprint tell one story.
 */
export const DEFAULT_USER_AGENT = chromeUserAgent();

/** The notices you.com puts in the answer when a mode's quota is gone (the answer follows). */
const QUOTA_NOTICES = [
  "#### Please log in to access GPT-4 mode.",
  "#### You've hit your free quota for GPT-4 mode.",
];

/** An account's remaining quota. */
export interface Quota {
  /** Calls left; `Infinity` for Pro and Team subscriptions. */
  remaining: number;
  /** `freemium`, `youpro` or `youpro_teams`. */
  plan: string;
  used?: number;
  max?: number;
}

/** A 429 telling the pool that this account's quota is used up. */
export class QuotaExhausted extends GatewayError {
  constructor(detail: string, retryAfter: number) {
    super(
      429,
      `you.com account quota exhausted (${detail})`,
      "rate_limit_error",
      "insufficient_quota",
      null,
      { retryAfter },
    );
  }
}

/** The response when its status is 2xx; else its error: Cloudflare's challenge or you.com's. */
async function expectOk(res: Response, host: string): Promise<Response> {
  if (res.status >= 200 && res.status < 300) return res;
  throw await refusalOf("you", res, host);
}

/** One account's view of the API for one request. */
export class YouApi {
  constructor(
    private readonly http: Upstream,
    private readonly base: string,
    private readonly secret: string,
    private readonly model: string,
    private readonly clearance?: Clearance,
    private readonly fallbackLang = "en-US,en;q=0.9",
  ) {}

  /** The site's host, for error messages. */
  get #host(): string {
    return new URL(this.base).host;
  }

  /** The headers every call carries. */
  headers(extra: Record<string, string> = {}): Record<string, string> {
    return {
      cookie: cookieHeader(this.secret, this.model, this.clearance?.cookies),
      "user-agent": this.clearance?.userAgent ?? DEFAULT_USER_AGENT,
      "accept-language": this.clearance?.lang ?? this.fallbackLang,
      origin: this.base,
      referer: `${this.base}/`,
      ...extra,
    };
  }

  /** The account's quota (`getYouProState`). */
  async quota(): Promise<Quota> {
    const res = await expectOk(
      await this.http.fetch(`${this.base}/api/user/getYouProState`, {
        headers: this.headers({ accept: "application/json" }),
        timeouts: { connect: 10, "first-byte": 10, idle: 10 },
      }),
      this.#host,
    );
    const body = await readJson<{
      freemium?: { max_calls?: number; used_calls?: number };
      subscriptions?: { service?: string }[];
      org_subscriptions?: { service?: string }[];
    }>("you", res);
    if (!body || typeof body !== "object") {
      throw upstreamFailed("you", "getYouProState answered without a JSON object");
    }
    if (body.subscriptions?.some((s) => s?.service === "youpro")) {
      return { remaining: Infinity, plan: "youpro" };
    }
    if (body.org_subscriptions?.some((s) => s?.service === "youpro_teams")) {
      return { remaining: Infinity, plan: "youpro_teams" };
    }
    const max = Number(body.freemium?.max_calls ?? 0);
    const used = Number(body.freemium?.used_calls ?? 0);
    return { remaining: max - used, plan: "freemium", used, max };
  }

  /**
   * Uploads `text` as `messages.txt` and returns the `userFiles` value naming it: a nonce, the
   * multipart upload with that nonce, then the instrumentation ping the web app sends.
   */
  async upload(text: string): Promise<string> {
    const referer = `${this.base}/?chatMode=custom`;
    const nonceRes = await expectOk(
      await this.http.fetch(`${this.base}/api/get_nonce`, {
        headers: this.headers({ accept: "application/json, text/plain, */*", referer }),
      }),
      this.#host,
    );
    const nonce = (await nonceRes.text()).trim().replace(/^"|"$/g, "");
    if (!nonce) throw upstreamFailed("you", "get_nonce answered with an empty nonce");

    const form = new FormData();
    form.append("file", new Blob([text], { type: "text/plain" }), "messages.txt");
    const res = await expectOk(
      await this.http.fetch(`${this.base}/api/upload`, {
        method: "POST",
        headers: this.headers({ accept: "multipart/form-data", "x-upload-nonce": nonce, referer }),
        body: form,
      }),
      this.#host,
    );
    const uploaded = await readJson<{ filename?: string; user_filename?: string }>("you", res);
    if (!uploaded?.filename) {
      throw upstreamFailed("you", "upload answered without a file name");
    }
    await this.#instrument(referer);
    const size = new TextEncoder().encode(text).length;
    return JSON.stringify([{
      user_filename: "messages.txt",
      filename: uploaded.filename,
      size: String(size),
    }]);
  }

  /** The ping the web app sends after a file drop; its failure changes nothing. */
  async #instrument(referer: string): Promise<void> {
    try {
      const res = await this.http.fetch(`${this.base}/api/instrumentation`, {
        method: "POST",
        headers: this.headers({
          "content-type": "application/json",
          accept: "application/json, text/plain, */*",
          referer,
        }),
        body: JSON.stringify({
          metricName: "file_upload_client_info_file_drop",
          documentVisibilityState: "visible",
          metricType: "info",
          value: 1,
        }),
        timeouts: { connect: 5, "first-byte": 5, idle: 5 },
      });
      await res.body?.cancel();
    } catch {
      // Only telemetry.
    }
  }

  /** Opens the answer stream for `query` with `chat` history (and an uploaded file). */
  async stream(query: string, chat: ChatPair[], userFiles?: string): Promise<Response> {
    const chatId = crypto.randomUUID();
    const turnId = crypto.randomUUID();
    const q = new URLSearchParams({
      q: query,
      page: "1",
      count: "10",
      safeSearch: "Off",
      mkt: "zh-HK",
      domain: "youchat",
      use_personalization_extraction: "false",
      queryTraceId: chatId,
      chatId,
      conversationTurnId: turnId,
      selectedChatMode: "custom",
    });
    if (userFiles) q.set("userFiles", userFiles);
    q.set("selectedAiModel", this.model);
    q.set("traceId", `${chatId}|${turnId}|${new Date().toISOString()}`);
    q.set("incognito", "true");
    q.set("pastChatLength", String(chat.length));
    q.set("chat", JSON.stringify(chat));
    const res = await this.http.fetch(`${this.base}/api/streamingSearch?${q}`, {
      headers: this.headers({
        accept: "text/event-stream",
        referer: `${this.base}/search?fromSearchBar=true&tbm=youchat&chatMode=custom&cid=${chatId}`,
      }),
    });
    if (res.status !== 200) throw await refusalOf("you", res, this.#host);
    await expectType("you", res, ["text/event-stream"]);
    return res;
  }
}

/**
 * The answer's text deltas from a `streamingSearch` body, until `done`: `youChatToken` deltas and
 * the `t` text of `youChatUpdate` events (the agent modes answer with those); updates without
 * text (progress notes) are skipped, an `error` event is thrown. Quota notices are dropped
 * (you.com answers with its fallback model after them); `onNotice` hears of them. Returns whether
 * `done` arrived.
 */
export async function* answerDeltas(
  body: ReadableStream<Uint8Array>,
  onNotice?: (notice: string) => void,
): AsyncGenerator<string, boolean> {
  const events = readSse(body);
  try {
    while (true) {
      let next: IteratorResult<SseEvent>;
      try {
        next = await events.next();
      } catch (err) {
        if (err instanceof GatewayError || (err as Error)?.name === "AbortError") throw err;
        throw upstreamFailed("you", `the answer stream broke: ${(err as Error)?.message ?? err}`);
      }
      if (next.done) break;
      const ev = next.value;
      if (ev.event === "done") return true;
      if (ev.event === "error") {
        throw upstreamFailed(
          "you",
          `the answer stream reported an error: ${ev.data.slice(0, 300)}`,
        );
      }
      if (ev.event !== "youChatToken" && ev.event !== "youChatUpdate") continue;
      let token: unknown;
      try {
        const data = JSON.parse(ev.data) as { youChatToken?: unknown; t?: unknown };
        token = ev.event === "youChatToken" ? data.youChatToken : data.t;
      } catch {
        throw upstreamFailed(
          "you",
          `a ${ev.event} event that is not JSON: ${ev.data.slice(0, 100)}`,
        );
      }
      if (typeof token !== "string" || token === "") continue;
      if (QUOTA_NOTICES.some((n) => token.startsWith(n))) {
        onNotice?.(token as string);
        continue;
      }
      yield token;
    }
    return false;
  } finally {
    await events.return(undefined);
  }
}
