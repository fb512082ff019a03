/**
 * The body of you.com's `POST /v1/agents/runs` for a request: `{agent, input, stream: true}`.
 * Agents take one prompt string, no message list: a lone user message goes as it is; a longer
 * conversation is written out with `Human:` / `Assistant:` turns (or the `<char_sequences>`
 * prefixes), system text first. Agents take text only: image URLs are written into the text as
 * `[image: <url>]`, a data URL is refused (400). The stream is asked for also when the client did
 * not ask for one (the answer is collected here). Sampling parameters are dropped: agents take
 * none.
 *
 * @module
 */
import { invalidRequest } from "../../openai/errors.ts";
import type { ChatRequest } from "../../openai/schema.ts";
import { HUMAN_ASSISTANT, renderTurns, toTurns, type Turn, withCharSequences } from "../combine.ts";

/** The body of `POST /v1/agents/runs`. */
export interface YouRunBody {
  agent: string;
  input: string;
  stream: true;
}

/** The prompt string for `req`'s conversation; a 400 when it holds nothing to send. */
export function youInput(
  req: ChatRequest,
  charSequences?: { user: string; assistant: string },
): string {
  const turns = toTurns(req.messages).map(withImageLines);
  if (turns.length === 0) {
    throw invalidRequest("The messages hold no text to send to you.com", "messages");
  }
  if (turns.length === 1 && turns[0].role === "user") return turns[0].text;
  return renderTurns(turns, withCharSequences(HUMAN_ASSISTANT, charSequences), false);
}

/** The body of `POST /v1/agents/runs` running `agent` on `req`. */
export function toYouRequest(
  req: ChatRequest,
  agent: string,
  charSequences?: { user: string; assistant: string },
): YouRunBody {
  return { agent, input: youInput(req, charSequences), stream: true };
}

/** A turn with its image URLs written into its text. */
function withImageLines(t: Turn): Turn {
  if (t.images.length === 0) return t;
  const lines = t.images.map((url) => {
    if (!/^https?:\/\//i.test(url)) {
      throw invalidRequest(
        "you.com's agents take text only: an image must be an http(s) URL (it is sent as a link), not a data URL",
        "messages",
      );
    }
    return `[image: ${url}]`;
  });
  return { ...t, text: [t.text, ...lines].filter((s) => s !== "").join("\n"), images: [] };
}
