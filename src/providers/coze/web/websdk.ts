/**
 * Coze's anonymous web SDK (legacy web mode, `coze/<bot>-...-w`): `onboarding` gives a user id
 * for the bot, then `web_chat` answers with the earlier turns as `chat_history`. No cookie and no
 * signature; the msToken comes from the signing service.
 *
 * @module
 */
import { readJson, type Upstream } from "../../../net/http.ts";
import { upstreamFailed } from "../../../openai/errors.ts";
import type { HistoryTurn } from "./client.ts";
import { errorOfBody } from "./errors.ts";
import type { CozeBot } from "./model.ts";
import { deviceId, localMessageId, SDK_ORIGIN, streamOrError, USER_AGENT } from "./wire.ts";

/** The web SDK of one request for one bot. */
export class WebSdk {
  constructor(
    private readonly http: Upstream,
    private readonly sdkUrl: string,
    private readonly bot: CozeBot,
    private readonly msToken: () => Promise<string>,
  ) {}

  /** The anonymous user id the web SDK gives for the bot (`onboarding`). */
  async webSdkUser(): Promise<string> {
    const msToken = await this.msToken();
    const q = new URLSearchParams({ source: "web_sdk", bot_id: this.bot.botId, msToken });
    const res = await this.http.ok(`${this.sdkUrl}/open_api/v1/bot/onboarding?${q}`, {
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
      `${this.sdkUrl}/open_api/v1/web_chat?msToken=${encodeURIComponent(msToken)}`,
      {
        method: "POST",
        headers: {
          "user-agent": USER_AGENT,
          cookie: `msToken=${msToken}`,
          origin: SDK_ORIGIN,
          referer: `${SDK_ORIGIN}/open-platform/sdk/chatapp`,
          "content-type": "application/json",
        },
        body: JSON.stringify(this.webChatPayload(user, history, query)),
      },
    );
    return await streamOrError(res, "web_chat");
  }
}
