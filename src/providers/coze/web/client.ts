/**
 * The coze.com web API of one request (legacy web mode): conversations (`get_message_list`,
 * `clear_message`, `create_section`), the signed chat stream and the owner's draft bot
 * (`get_bot_info`, `update`). Every call carries `?msToken=` and the credential's cookie with that
 * msToken. The web SDK is in `websdk.ts`.
 *
 * @module
 */
import type { Config } from "../../../config/schema.ts";
import { readJson, snippet, type Upstream } from "../../../net/http.ts";
import { upstreamFailed } from "../../../openai/errors.ts";
import type { Logger } from "../../../util/log.ts";
import { cookieHeader, type CozeCredential } from "./cookie.ts";
import { errorOfBody } from "./errors.ts";
import type { CozeBot } from "./model.ts";
import { Signer } from "./sign.ts";
import type { CozeState } from "../state.ts";
import { deviceId, localMessageId, streamOrError, USER_AGENT, WEB_ORIGIN } from "./wire.ts";

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

/** Talks to Coze for one request with one credential (none for the web SDK's msToken). */
export class CozeSession {
  readonly #signer: Signer;
  readonly #base: string;
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
    this.#base = config.coze["web-url"];
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

  #headers(referer: string): Record<string, string> {
    return {
      "user-agent": USER_AGENT,
      cookie: cookieHeader(this.cred.cookie, this.#msToken ?? ""),
      origin: WEB_ORIGIN,
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
}
