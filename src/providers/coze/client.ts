/**
 * The coze.com web API of one request: conversations (`get_message_list`, `clear_message`,
 * `create_section`), the signed chat stream, the owner's draft bot (`get_bot_info`, `update`) and
 * the anonymous web SDK (`onboarding`, `web_chat`). Every call carries `?msToken=`; cookie calls
 * carry the credential's cookie with that msToken.
 *
 * @module
 */
import type { Config } from "../../config/schema.ts";
import {
  httpErrorOf,
  jsonOrUndefined,
  readCapped,
  readJson,
  snippet,
  type Upstream,
} from "../../net/http.ts";
import { upstreamFailed } from "../../openai/errors.ts";
import type { Logger } from "../../util/log.ts";
import { cookieHeader, type CozeCredential } from "./cookie.ts";
import { errorOfBody } from "./errors.ts";
import type { CozeBot } from "./model.ts";
import { Signer } from "./sign.ts";
import type { CozeState } from "./state.ts";

/** The browser Coze's web API expects. */
export const USER_AGENT =
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.0.0 Safari/537.36 Edg/123.0.0.0";

/** The origins Coze checks (fixed: a mirror in `base-url` still talks to coze.com's pages). */
const WEB_ORIGIN = "https://www.coze.com";
const SDK_ORIGIN = "https://api.coze.com";

/** One prior turn for the web SDK's `chat_history`. */
export interface HistoryTurn {
  role: "user" | "assistant";
  content: string;
}

/** The model settings owner mode writes into the draft bot. */
export interface DraftSettings {
  temperature: number;
  top_p: number;
  frequency_penalty: number;
  presence_penalty: number;
  max_tokens: number;
}

const ID_CHARS = "1234567890abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_";

/** A random id like the web client's `local_message_id` (21 characters). */
export function localMessageId(n = 21): string {
  const bytes = crypto.getRandomValues(new Uint8Array(n));
  let out = "";
  for (const b of bytes) out += ID_CHARS[b % ID_CHARS.length];
  return out;
}

/** A random numeric device id, as the web client sends. */
function deviceId(): string {
  const r = crypto.getRandomValues(new Uint32Array(1))[0] % 999_999_999;
  return String(r + Math.floor(Date.now() / 1000));
}

/** Talks to Coze for one request with one credential (or none, for the web SDK). */
export class CozeSession {
  readonly #signer: Signer;
  readonly #base: string;
  readonly #sdk: string;
  #msToken?: string;

  constructor(
    private readonly http: Upstream,
    config: Config,
    private readonly cred: CozeCredential,
    private readonly bot: CozeBot,
    private readonly log: Logger,
    private readonly state: CozeState,
  ) {
    this.#signer = new Signer(http, config.coze["sign-url"], state.tokens);
    this.#base = config.coze["base-url"];
    this.#sdk = config.coze["websdk-url"];
  }

  /** The msToken: the credential's own, else one the signing service makes. */
  async msToken(): Promise<string> {
    if (this.#msToken) return this.#msToken;
    this.#msToken = this.cred.msToken ?? await this.#signer.msToken(this.cred.cookie);
    return this.#msToken;
  }

  /** Forgets a made msToken after a failure, so that the next attempt makes a new one. */
  forgetToken(): void {
    if (!this.cred.msToken) this.#signer.forget(this.cred.cookie);
  }

  #headers(referer: string, origin = WEB_ORIGIN): Record<string, string> {
    return {
      "user-agent": USER_AGENT,
      cookie: cookieHeader(this.cred.cookie, this.#msToken ?? ""),
      origin,
      referer,
      "content-type": "application/json",
    };
  }

  /** POSTs JSON to coze.com and returns the body; a non-zero `code` is thrown as its error. */
  async #post(
    path: string,
    body: unknown,
    referer: string,
    what: string,
    http = this.http,
  ): Promise<Record<string, unknown>> {
    const msToken = await this.msToken();
    const res = await http.ok(`${this.#base}${path}?msToken=${encodeURIComponent(msToken)}`, {
      method: "POST",
      headers: this.#headers(referer),
      body: JSON.stringify(body),
    });
    const answer = await readJson<Record<string, unknown>>(http.provider, res);
    const err = errorOfBody(what, answer);
    if (err) throw err;
    if (!answer || typeof answer !== "object") {
      throw upstreamFailed("coze", `${what} answered ${snippet(JSON.stringify(answer))}`);
    }
    return answer;
  }

  /** The bot's conversation of this account (`get_message_list`). */
  async conversation(): Promise<string> {
    const answer = await this.#post(
      "/api/conversation/get_message_list",
      {
        cursor: "0",
        count: 15,
        draft_mode: false,
        bot_id: this.bot.botId,
        scene: this.bot.scene,
        biz_kind: "",
        insert_history_message_list: [],
      },
      `${WEB_ORIGIN}/store/bot`,
      "get_message_list",
    );
    const id = answer.conversation_id;
    if (typeof id !== "string" || id === "") {
      throw upstreamFailed("coze", "get_message_list gave no conversation_id");
    }
    return id;
  }

  /** The draft bot's model name (owner mode); tried three times as the web client does. */
  async botModel(): Promise<string> {
    let last: unknown;
    for (let i = 0; i < 3; i++) {
      try {
        const answer = await this.#post(
          "/api/draftbot/get_bot_info",
          {
            bot_id: this.bot.botId,
            space_id: this.bot.version,
          },
          `${WEB_ORIGIN}/`,
          "get_bot_info",
        );
        const data = answer.data as { work_info?: { other_info?: unknown } } | undefined;
        const other = data?.work_info?.other_info;
        if (typeof other !== "string") {
          throw upstreamFailed("coze", "get_bot_info gave no work_info.other_info");
        }
        const model = (JSON.parse(other) as { model?: unknown }).model;
        if (typeof model !== "string") {
          throw upstreamFailed("coze", "get_bot_info's other_info names no model");
        }
        return model;
      } catch (err) {
        last = err;
        const status = (err as { status?: number }).status;
        // Refusals about the account or the bot do not change on a second try.
        if (status === 401 || status === 403 || this.http.options.signal.aborted) throw err;
        if (err instanceof SyntaxError) {
          last = upstreamFailed("coze", "get_bot_info's other_info is not JSON");
        }
      }
    }
    throw last;
  }

  /** Writes the model settings, then the system prompt, into the draft bot (owner mode). */
  async applyDraft(model: string, settings: DraftSettings, system: string): Promise<void> {
    const otherInfo = {
      model,
      temperature: settings.temperature,
      top_p: settings.top_p,
      frequency_penalty: settings.frequency_penalty,
      presence_penalty: settings.presence_penalty,
      max_tokens: settings.max_tokens,
      response_format: 0,
      model_style: 0,
      ShortMemPolicy: { HistoryRound: 3 },
    };
    await this.#post(
      "/api/draftbot/update",
      {
        bot_id: this.bot.botId,
        space_id: this.bot.version,
        work_info: { other_info: JSON.stringify(otherInfo) },
      },
      `${WEB_ORIGIN}/`,
      "draftbot update (model settings)",
    );
    const prompts = [
      { prompt_type: 1, data: system, record_id: "" },
      { prompt_type: 2, data: "" },
      { prompt_type: 3, data: "" },
    ];
    await this.#post(
      "/api/draftbot/update",
      {
        bot_id: this.bot.botId,
        space_id: this.bot.version,
        work_info: { system_info_all: JSON.stringify(prompts) },
      },
      `${WEB_ORIGIN}/`,
      "draftbot update (system prompt)",
    );
  }

  /** The body of a chat request for `query` in `conversationId`. */
  chatPayload(conversationId: string, query: string): Record<string, unknown> {
    const owner = this.bot.mode === "owner";
    const body: Record<string, unknown> = {
      query,
      local_message_id: localMessageId(),
      extra: {},
      scene: this.bot.scene,
    };
    if (!owner) body.bot_version = this.bot.version;
    Object.assign(body, {
      bot_id: this.bot.botId,
      conversation_id: conversationId,
      draft_mode: owner,
      stream: true,
      chat_history: [],
      mention_list: [],
      device_id: deviceId(),
      content_type: "text",
    });
    if (owner) body.space_id = this.bot.version;
    return body;
  }

  /** Sends the signed chat request; resolves with the streaming response once it started. */
  async chat(conversationId: string, query: string, referer = `${WEB_ORIGIN}/store/bot`) {
    const msToken = await this.msToken();
    const body = JSON.stringify(this.chatPayload(conversationId, query));
    const sig = await this.#signer.sign(body, msToken);
    const q = new URLSearchParams({
      msToken,
      "X-Bogus": sig.bogus,
      _signature: sig.signature,
    });
    const res = await this.http.fetch(`${this.#base}/api/conversation/chat?${q}`, {
      method: "POST",
      headers: this.#headers(referer),
      body,
    });
    return await streamOrError(res, "chat");
  }

  /** Runs clean-up work after a request without holding the client; failures are logged. */
  #background(work: Promise<unknown>, what: string): void {
    this.state.background.track(
      work,
      (err) => this.log.warn(`coze: ${what} failed: ${(err as Error).message}`),
    );
  }

  /** Deletes the conversation's messages after the answer (in the background). */
  clear(conversationId: string): void {
    const http = this.http.detached();
    this.#background(
      this.#post(
        "/api/conversation/clear_message",
        {
          bot_id: this.bot.botId,
          conversation_id: conversationId,
          scene: this.bot.scene,
        },
        `${WEB_ORIGIN}/store/bot`,
        "clear_message",
        http,
      ),
      "clear_message",
    );
  }

  /** Starts a new section of the conversation (in the background, as the web client does). */
  createSection(conversationId: string): void {
    const http = this.http.detached();
    this.#background(
      this.#post(
        "/api/conversation/create_section",
        {
          insert_history_message_list: [],
          conversation_id: conversationId,
          scene: this.bot.scene,
        },
        `${WEB_ORIGIN}/store/bot`,
        "create_section",
        http,
      ),
      "create_section",
    );
  }

  /** The anonymous user id the web SDK gives for the bot (`onboarding`). */
  async webSdkUser(): Promise<string> {
    const msToken = await this.msToken();
    const q = new URLSearchParams({ source: "web_sdk", bot_id: this.bot.botId, msToken });
    const res = await this.http.ok(`${this.#sdk}/open_api/v1/bot/onboarding?${q}`, {
      method: "GET",
      headers: { "user-agent": USER_AGENT },
    });
    const answer = await readJson<Record<string, unknown>>(this.http.provider, res);
    const err = errorOfBody("web sdk onboarding", answer);
    if (err) throw err;
    if (typeof answer?.user_id !== "string" || answer.user_id === "") {
      throw upstreamFailed("coze", "web sdk onboarding gave no user_id");
    }
    return answer.user_id;
  }

  /** The body of a web SDK chat. */
  webChatPayload(user: string, history: HistoryTurn[], query: string): Record<string, unknown> {
    const chatHistory = history.map((t, index) => {
      const id = deviceId();
      return {
        bot_id: this.bot.botId,
        content: t.content,
        content_obj: t.content,
        content_type: "text",
        extra_info: { local_message_id: localMessageId() },
        index,
        is_finish: true,
        mention_list: [],
        message_id: id,
        preset_bot: "",
        reply_id: id,
        role: t.role,
        section_id: "999",
        type: t.role === "assistant" ? "answer" : "ack",
      };
    });
    return {
      query,
      local_message_id: localMessageId(),
      extra: {},
      scene: this.bot.scene,
      bot_id: this.bot.botId,
      conversation_id: localMessageId(),
      draft_mode: false,
      stream: true,
      chat_history: chatHistory,
      mention_list: [],
      device_id: deviceId(),
      content_type: "text",
      user,
    };
  }

  /** Sends a web SDK chat (no cookie, no signature). */
  async webChat(user: string, history: HistoryTurn[], query: string) {
    const msToken = await this.msToken();
    const res = await this.http.fetch(
      `${this.#sdk}/open_api/v1/web_chat?msToken=${encodeURIComponent(msToken)}`,
      {
        method: "POST",
        headers: this.#headers(`${SDK_ORIGIN}/open-platform/sdk/chatapp`, SDK_ORIGIN),
        body: JSON.stringify(this.webChatPayload(user, history, query)),
      },
    );
    return await streamOrError(res, "web_chat");
  }
}

/**
 * The body of a chat response that is a 200 event stream. A JSON answer (Coze refuses with
 * `{"code":...,"msg":...}` and status 200) becomes its error; other statuses map as usual.
 */
async function streamOrError(
  res: Response,
  what: string,
): Promise<ReadableStream<Uint8Array>> {
  const type = (res.headers.get("content-type") ?? "").toLowerCase();
  if (res.status === 200 && type.includes("text/event-stream") && res.body) return res.body;
  // As much as `httpError` reads of an error body: a block page cannot fill the memory.
  const text = await readCapped(res);
  const err = errorOfBody(what, jsonOrUndefined(text));
  if (err) throw err;
  if (res.status < 200 || res.status >= 300) throw httpErrorOf("coze", res, text);
  throw upstreamFailed(
    "coze",
    `${what} answered ${res.status} ${
      type || "without a content type"
    } instead of an event stream: ${snippet(text)}`,
  );
}
