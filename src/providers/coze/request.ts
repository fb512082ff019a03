/**
 * The body of Coze's `POST /v3/chat` for a request (the coze-openapi `/v3/chat` schema):
 *
 * - `bot_id` and `user_id` (both required; the request's `user` field, else `coze.user-id`);
 * - `stream: true`, also for clients that did not ask for a stream (the answer is collected
 *   here): Coze's non-streamed flow needs `auto_save_history: true` to read the answer back;
 * - `auto_save_history: false`: nothing of the request stays in the bot's conversations;
 * - `additional_messages`: the conversation, the last message the query, the earlier ones
 *   context. Users' messages are `question`s, the assistant's `answer`s; system text goes as a
 *   user-side context message where it stood (Coze has no system role: the bot's own prompt is
 *   set in Coze); tool results as user text naming the tool. Images become `object_string`
 *   content (`file_url`, or the `file_id` of an uploaded data URL). At most 100 messages: the
 *   earliest are folded into one context message rather than dropped.
 *
 * Sampling parameters are dropped: the model and its settings are the bot's.
 *
 * @module
 */
import { invalidRequest } from "../../openai/errors.ts";
import type { ChatRequest } from "../../openai/schema.ts";
import { toTurns, type Turn } from "../combine.ts";

/** One message of `additional_messages`. */
export interface CozeMessage {
  role: "user" | "assistant";
  type: "question" | "answer";
  content: string;
  content_type: "text" | "object_string";
}

/** The body of `POST /v3/chat`. */
export interface CozeChatBody {
  bot_id: string;
  user_id: string;
  stream: true;
  auto_save_history: false;
  additional_messages: CozeMessage[];
}

/** What `toCozeRequest` needs besides the request. */
export interface CozeRequestOptions {
  botId: string;
  /** `user_id` when the request names no `user`. */
  userId: string;
  /** File ids of uploaded data-URL images, by URL (missing ones are shown as placeholders). */
  files?: ReadonlyMap<string, string>;
}

/** The most messages Coze takes in `additional_messages`. */
export const MAX_MESSAGES = 100;

/** The turns of `req` that go to Coze; a 400 when there is nothing to send. */
export function cozeTurns(req: ChatRequest): Turn[] {
  const turns = toTurns(req.messages);
  if (turns.length === 0) {
    throw invalidRequest("The messages hold no text to send to coze", "messages");
  }
  return turns;
}

/** The body of `POST /v3/chat` for `req`. */
export function toCozeRequest(req: ChatRequest, o: CozeRequestOptions): CozeChatBody {
  const turns = cozeTurns(req);
  const kept = turns.length > MAX_MESSAGES ? fold(turns) : turns;
  const user = typeof req.user === "string" && req.user.trim() !== "" ? req.user : o.userId;
  return {
    bot_id: o.botId,
    user_id: user,
    stream: true,
    auto_save_history: false,
    additional_messages: kept.map((t) => message(t, o.files)),
  };
}

/** One turn as a Coze message. */
function message(t: Turn, files?: ReadonlyMap<string, string>): CozeMessage {
  if (t.role === "assistant") {
    return { role: "assistant", type: "answer", content: t.text, content_type: "text" };
  }
  if (t.images.length === 0) {
    return { role: "user", type: "question", content: t.text, content_type: "text" };
  }
  const parts: Record<string, string>[] = t.text === "" ? [] : [{ type: "text", text: t.text }];
  for (const url of t.images) {
    if (!url.startsWith("data:")) parts.push({ type: "image", file_url: url });
    else parts.push({ type: "image", file_id: files?.get(url) ?? "(uploaded image)" });
  }
  return {
    role: "user",
    type: "question",
    content: JSON.stringify(parts),
    content_type: "object_string",
  };
}

/**
 * The turns within Coze's limit: the earliest ones written out as one user-side context message
 * (images as their URLs), the latest 99 kept as they are.
 */
function fold(turns: readonly Turn[]): Turn[] {
  const cut = turns.length - (MAX_MESSAGES - 1);
  const text = turns.slice(0, cut).map((t) => {
    const images = t.images.filter((u) => !u.startsWith("data:")).map((u) => `[image: ${u}]`);
    return [`[${t.role}]`, t.text, ...images].filter((s) => s !== "").join("\n");
  }).join("\n\n");
  return [
    { role: "user", text: `[earlier conversation]\n${text}`, images: [] },
    ...turns.slice(cut),
  ];
}
