/**
 * How a conversation reaches you.com. Short conversations go in the `streamingSearch` query: the
 * history as question/answer pairs (`chat`) and the last user turn as `q`. Long ones (at least
 * `you.file-tokens` tokens, or too long for a URL) are written out as one text with role markers,
 * uploaded as `messages.txt`, and `q` becomes the `you.notice` line.
 *
 * @module
 */
import type { Message } from "../../../openai/schema.ts";
import { countTokens } from "../../../util/tokens.ts";
import {
  HUMAN_ASSISTANT,
  renderTurns,
  toTurns,
  type Turn,
  withCharSequences,
} from "../../combine.ts";

/** One earlier exchange as you.com's `chat` parameter takes it. */
export interface ChatPair {
  question: string;
  answer: string;
}

/** What one request sends. */
export interface YouPrompt {
  /** The `q` parameter. */
  query: string;
  /** Earlier exchanges (empty when the conversation goes as a file). */
  chat: ChatPair[];
  /** The whole conversation as uploaded text, when it is too long for the query. */
  file?: string;
  /** Tokens of everything sent (for `usage`). */
  tokens: number;
}

/** Options of `buildPrompt`. */
export interface PromptOptions {
  /** Conversations of at least this many tokens go as a file. */
  fileTokens: number;
  /** `q` when the conversation goes as a file. */
  notice: string;
  /** `<char_sequences>` role prefixes for the file text. */
  charSequences?: { user: string; assistant: string };
  /** Longest query (q and chat, URL-encoded) before the file is used instead. */
  urlLimit?: number;
}

/**
 * Cloudflare refuses URLs beyond 16 KB; the query stays well under it with the other parameters.
 */
export const URL_LIMIT = 12_000;

/** Filler for the missing half of an exchange (a conversation starting with the assistant). */
const FILLER = "ok ~";

/** `q` when the conversation ends with the assistant: carry on with its answer. */
export const CONTINUE = "Continue.";

/** Builds what a request sends for `messages`. */
export function buildPrompt(messages: readonly Message[], options: PromptOptions): YouPrompt {
  const turns = toTurns(messages);
  const total = turns.reduce((n, t) => n + countTokens(t.text), 0);
  if (total < options.fileTokens) {
    const short = asPairs(turns);
    // As the URL carries it: a lone surrogate goes as U+FFFD (encodeURIComponent would throw).
    const size = encodeURIComponent(short.query.toWellFormed()).length +
      encodeURIComponent(JSON.stringify(short.chat)).length;
    if (size <= (options.urlLimit ?? URL_LIMIT)) {
      return { ...short, tokens: total };
    }
  }
  const file = renderTurns(turns, withCharSequences(HUMAN_ASSISTANT, options.charSequences));
  return {
    query: options.notice,
    chat: [],
    file,
    tokens: countTokens(file) + countTokens(options.notice),
  };
}

/** Writes the prompt as text (for `<echo />`). */
export function describePrompt(prompt: YouPrompt): string {
  if (prompt.file !== undefined) {
    return `[file messages.txt]\n${prompt.file}\n\n[q]\n${prompt.query}`;
  }
  const history = prompt.chat.map((p) => `[question]\n${p.question}\n\n[answer]\n${p.answer}`);
  return [...history, `[q]\n${prompt.query}`].join("\n\n");
}

/**
 * Turns as pairs. System text joins the user side (you.com has no system role); the last user
 * turn is the query.
 */
function asPairs(turns: readonly Turn[]): { query: string; chat: ChatPair[] } {
  const sides: { user: boolean; text: string }[] = [];
  for (const t of turns) {
    const user = t.role !== "assistant";
    const last = sides[sides.length - 1];
    if (last && last.user === user) last.text = `${last.text}\n\n${t.text}`;
    else sides.push({ user, text: t.text });
  }
  let query = CONTINUE;
  if (sides.length > 0 && sides[sides.length - 1].user) query = sides.pop()!.text;
  const chat: ChatPair[] = [];
  // Sides alternate after merging, so a pair is a user side and the assistant side after it.
  let i = 0;
  while (i < sides.length) {
    const question = sides[i].user ? sides[i++].text : FILLER;
    const answer = i < sides.length && !sides[i].user ? sides[i++].text : FILLER;
    chat.push({ question, answer });
  }
  return { query, chat };
}
