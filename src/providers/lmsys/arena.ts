/**
 * Reading the arena's chat output: the bot's text in the chatbot value, the typing cursor, and the
 * texts FastChat's web server writes into the chat instead of an answer (moderation, rate limit,
 * network errors, `(error_code: N)`).
 *
 * @module
 */
import { GatewayError, upstreamFailed } from "../../openai/errors.ts";

/** The typing cursor FastChat appends while the answer streams. */
export const CURSOR = "▌";

/** The last bot message of a gradio chatbot value (pairs or `{role, content}` messages). */
export function botText(chatbot: unknown): string | undefined {
  if (!Array.isArray(chatbot) || chatbot.length === 0) return undefined;
  const last = chatbot[chatbot.length - 1];
  if (Array.isArray(last)) return textOf(last[1]);
  // `type="messages"` chatbots: the last assistant message.
  for (let i = chatbot.length - 1; i >= 0; i--) {
    const m = chatbot[i] as { role?: unknown; content?: unknown } | null;
    if (m && typeof m === "object" && m.role === "assistant") return textOf(m.content);
    if (m && typeof m === "object" && m.role === "user") return undefined;
  }
  return undefined;
}

function textOf(v: unknown): string | undefined {
  if (typeof v === "string") return v;
  if (v && typeof v === "object" && typeof (v as { text?: unknown }).text === "string") {
    return (v as { text: string }).text;
  }
  return undefined;
}

/** True for the placeholder shown before the first token (an HTML cursor span, or nothing). */
export function isPlaceholder(text: string | undefined): boolean {
  if (text === undefined) return true;
  const t = text.trim();
  return t === "" || t === CURSOR || /^<span class=["']?cursor/.test(t);
}

/** The answer so far: the placeholder is no text, the trailing cursor is dropped. */
export function answerText(text: string | undefined): string {
  if (isPlaceholder(text)) return "";
  return text!.endsWith(CURSOR) ? text!.slice(0, -CURSOR.length) : text!;
}

/** The error an arena text stands for, or undefined when it is an ordinary answer. */
export function arenaError(text: string): GatewayError | undefined {
  if (/\$MODERATION\$|CONTENT MODERATION GUIDELINES/.test(text)) {
    return new GatewayError(
      400,
      `lmsys refused the prompt: ${firstLine(text)}`,
      "invalid_request_error",
      "content_policy_violation",
    );
  }
  if (/RATE LIMIT OF THIS MODEL IS REACHED/i.test(text)) {
    return new GatewayError(
      429,
      `lmsys rate limit: ${firstLine(text)}`,
      "rate_limit_error",
      "rate_limit_exceeded",
      null,
      { retryAfter: 60 },
    );
  }
  if (/CONVERSATION LENGTH LIMIT/i.test(text)) {
    return new GatewayError(
      400,
      `lmsys refused the conversation: ${firstLine(text)}`,
      "invalid_request_error",
      "context_length_exceeded",
    );
  }
  if (/NETWORK ERROR DUE TO HIGH TRAFFIC|\(error_code: \d+/.test(text)) {
    return upstreamFailed("lmsys", `the arena reported an error: ${oneLine(text)}`);
  }
  return undefined;
}

function firstLine(text: string): string {
  return text.replace(/\*\*/g, "").trim().split("\n")[0].trim();
}

function oneLine(text: string): string {
  const t = text.replace(/\*\*/g, "").replace(/\s+/g, " ").trim();
  return t.length > 300 ? t.slice(0, 300) + "…" : t;
}

/**
 * Holds back output that may be the start of a refusal phrase and fails once a phrase appears:
 * the original's "SECURITY POLICY INTERCEPTION" check, without sending the phrase first.
 */
export class RefusalGuard {
  #held = "";
  constructor(private readonly phrases: readonly string[]) {}

  /** Takes new text; returns what is safe to send now. Throws when a phrase appeared. */
  push(text: string): string {
    const all = this.#held + text;
    for (const p of this.phrases) {
      if (p && all.includes(p)) {
        throw new GatewayError(
          502,
          `lmsys: SECURITY POLICY INTERCEPTION (the model's answer contains '${p}'; ` +
            "see lmsys.refusals)",
          "upstream_error",
          "security_policy",
        );
      }
    }
    let hold = 0;
    for (const p of this.phrases) {
      for (let k = Math.min(p.length - 1, all.length); k > hold; k--) {
        if (all.endsWith(p.slice(0, k))) {
          hold = k;
          break;
        }
      }
    }
    this.#held = all.slice(all.length - hold);
    return all.slice(0, all.length - hold);
  }

  /** The text still held when the answer ended. */
  end(): string {
    const h = this.#held;
    this.#held = "";
    return h;
  }
}
