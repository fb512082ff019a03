/**
 * Turns the ChatHub's messages into text deltas: type 1 `update`s carry the **whole** text so far
 * of each bot message (the new part is emitted), type 2 is the final result (errors, throttling,
 * the "new topic" notice), type 3 ends the invocation (with `error` when it failed), type 7 closes
 * the connection.
 *
 * @module
 */
import type { SignalRMessage } from "../../net/signalr.ts";
import { MessageType } from "../../net/signalr.ts";
import { GatewayError, upstreamFailed } from "../../openai/errors.ts";
import type { FinishReason } from "../types.ts";
import { resultError } from "./conversation.ts";

/** Message types that are Bing's own work, not the answer. */
const INTERNAL: ReadonlySet<string> = new Set([
  "InternalSearchQuery",
  "InternalSearchResult",
  "InternalLoaderMessage",
]);

/** Texts of Bing's "let's change the topic" refusal. */
const REFUSAL = /That’s on me|That's on me|different topic/;

interface HubTextMessage {
  text?: unknown;
  author?: unknown;
  messageType?: unknown;
  messageId?: unknown;
  contentOrigin?: unknown;
  spokenText?: unknown;
}

/** The error for Bing refusing to answer. */
export function refusal(text: string): GatewayError {
  return new GatewayError(
    400,
    `bing refused to answer: ${text}`,
    "invalid_request_error",
    "content_filter",
  );
}

/** Reads one invocation's messages. */
export class BingAnswer {
  /** True once the invocation is over. */
  done = false;
  /** How the answer ended when not plainly. */
  finish?: FinishReason;
  /** True once any text was emitted. */
  produced = false;
  /** `throttling` of the final result, when given. */
  throttling?: { max: number; used: number };
  /** Emitted length per bot message. */
  #emitted = new Map<string, number>();
  #texts = new Map<string, string>();

  /** The new text of `msg` (empty when none). Throws the mapped error of a failed answer. */
  push(msg: SignalRMessage): string {
    if (this.done) return "";
    switch (msg.type) {
      case MessageType.Invocation:
        return msg.target === "update" ? this.#update(msg.arguments) : "";
      case MessageType.StreamItem:
        return this.#final(msg.item);
      case MessageType.Completion:
        this.done = true;
        if (typeof msg.error === "string" && msg.error) {
          throw upstreamFailed("bing", `ChatHub error: ${msg.error}`);
        }
        return "";
      case MessageType.Close:
        this.done = true;
        if (typeof msg.error === "string" && msg.error) {
          throw upstreamFailed("bing", `ChatHub closed: ${msg.error}`);
        }
        return "";
      default:
        return "";
    }
  }

  #update(args: unknown[] | undefined): string {
    const arg = args?.[0] as { messages?: HubTextMessage[] } | undefined;
    let out = "";
    for (const m of arg?.messages ?? []) out += this.#message(m);
    return out;
  }

  /** The new part of one bot message (cumulative text). */
  #message(m: HubTextMessage): string {
    if (typeof m.text !== "string") return "";
    if (m.author !== undefined && m.author !== "bot") return "";
    if (typeof m.messageType === "string" && INTERNAL.has(m.messageType)) return "";
    if (m.messageType === "Disengaged") return "";
    if (m.contentOrigin === "Apology" || (!this.produced && REFUSAL.test(m.text))) {
      if (!this.produced) throw refusal(m.text);
      // Bing withdrew the answer mid-way: end here with what was sent.
      this.finish = "content_filter";
      this.done = true;
      return "";
    }
    const key = typeof m.messageId === "string" ? m.messageId : "";
    const sent = this.#emitted.get(key) ?? 0;
    // A message that is not the first bot message starts on a new line.
    const sep = sent === 0 && this.produced && !this.#texts.has(key) ? "\n" : "";
    this.#texts.set(key, m.text);
    if (m.text.length <= sent) return "";
    this.#emitted.set(key, m.text.length);
    const delta = sep + m.text.slice(sent);
    if (delta !== "") this.produced = true;
    return delta;
  }

  #final(item: unknown): string {
    this.done = true;
    const it = (item ?? {}) as {
      result?: { value?: string; message?: string };
      messages?: HubTextMessage[];
      throttling?: {
        maxNumUserMessagesInConversation?: number;
        numUserMessagesInConversation?: number;
      };
    };
    const t = it.throttling;
    if (t && typeof t.maxNumUserMessagesInConversation === "number") {
      this.throttling = {
        max: t.maxNumUserMessagesInConversation,
        used: t.numUserMessagesInConversation ?? 0,
      };
    }
    const value = it.result?.value ?? "Success";
    if (value !== "Success") {
      throw resultError(value, it.result?.message, "ChatHub answered");
    }
    const bots = (it.messages ?? []).filter((m) => m.author === "bot");
    if (!this.produced) {
      // No answer streamed: the last bot message that is not a disengagement and has a spoken
      // text is Bing's "new topic" notice (the original's rule).
      for (let i = bots.length - 1; i >= 0; i--) {
        const m = bots[i];
        if (m.messageType !== "Disengaged" && typeof m.spokenText === "string" && m.spokenText) {
          throw refusal(m.spokenText);
        }
      }
    }
    let out = "";
    // Text the updates did not deliver (a final message longer than what was streamed).
    for (const m of bots) {
      if (typeof m.messageType === "string" && m.messageType !== "Chat") continue;
      const key = typeof m.messageId === "string" ? m.messageId : "";
      if (!this.#texts.has(key) && this.produced) continue;
      out += this.#message(m);
    }
    if (!this.produced) {
      if (this.throttling && this.throttling.used > this.throttling.max) {
        throw resultError("Throttled", "the conversation limit is reached", "ChatHub answered");
      }
      throw upstreamFailed("bing", "the answer was empty");
    }
    return out;
  }
}
