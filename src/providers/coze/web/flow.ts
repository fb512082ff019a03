/**
 * The two ways of getting an answer from a Coze bot, as streams of answer deltas:
 * - with a cookie (normal and owner mode): conversation, [draft update], signed chat, then the
 *   section and the clean-up of the conversation in the background;
 * - through the anonymous web SDK: onboarding, then `web_chat` with the history.
 *
 * @module
 */
import type { Upstream } from "../../../net/http.ts";
import type { ChatContext } from "../../types.ts";
import { CozeSession, type DraftSettings, type HistoryTurn } from "./client.ts";
import type { CozeCredential } from "./cookie.ts";
import type { CozeBot } from "./model.ts";
import type { CozeState } from "../state.ts";
import { readAnswer } from "./stream.ts";
import { WebSdk } from "./websdk.ts";

/** Owner mode's settings for the draft bot. */
export interface OwnerDraft {
  settings: DraftSettings;
  system: string;
}

/** What a cookie chat needs. */
export interface CookieChat {
  http: Upstream;
  ctx: Pick<ChatContext, "config" | "log">;
  cred: CozeCredential;
  bot: CozeBot;
  query: string;
  state: CozeState;
  /** Owner mode: what to write into the draft bot first. */
  owner?: OwnerDraft;
  /** Called once the chat request is under way (owner mode releases the bot's lock). */
  onIssued?: () => void;
  /** The `referer` of the chat request. */
  referer?: string;
}

/** Answers `query` with a cookie; yields the answer's deltas. */
export async function* cookieChat(o: CookieChat): AsyncGenerator<string> {
  const session = new CozeSession(o.http, o.ctx.config, o.cred, o.bot, o.ctx.log, o.state);
  let conversation: string | undefined;
  let started = false;
  try {
    conversation = await session.conversation();
    if (o.owner) {
      const model = await session.botModel();
      await session.applyDraft(model, o.owner.settings, o.owner.system);
    }
    const body = await session.chat(conversation, o.query, o.referer);
    started = true;
    o.onIssued?.();
    session.createSection(conversation);
    yield* readAnswer(body);
  } catch (err) {
    session.forgetToken();
    throw err;
  } finally {
    // The messages of this request leave the account's conversation, whatever happened.
    if (started && conversation) session.clear(conversation);
  }
}

/** What a web SDK chat needs. */
export interface WebSdkChat {
  http: Upstream;
  ctx: Pick<ChatContext, "config" | "log">;
  bot: CozeBot;
  history: HistoryTurn[];
  query: string;
  state: CozeState;
}

/** Answers `query` through the web SDK (no cookie); yields the answer's deltas. */
export async function* webSdkChat(o: WebSdkChat): AsyncGenerator<string> {
  const session = new CozeSession(
    o.http,
    o.ctx.config,
    { cookie: "" },
    o.bot,
    o.ctx.log,
    o.state,
  );
  const sdk = new WebSdk(o.http, o.ctx.config.coze["websdk-url"], o.bot, () => session.msToken());
  try {
    const user = await sdk.webSdkUser();
    const body = await sdk.webChat(user, o.history, o.query);
    yield* readAnswer(body);
  } catch (err) {
    session.forgetToken();
    throw err;
  }
}
