/**
 * Reads Coze's chat stream (`/api/conversation/chat` and the web SDK's `web_chat`): lines
 * `event:message` / `data:{json}` (no space after the colon), `event:done` at the end. The
 * bot's text is the `content` of `message.role == "assistant"`, `message.type == "answer"`
 * events, one delta each; other types (verbose, follow_up, function calls) are not for the
 * client. A line `{"code":...}` or a `data:` object with a non-zero code is a refusal, and a
 * stream that ends without `event:done` is an error.
 *
 * @module
 */
import { readLines } from "../../../net/lines.ts";
import { upstreamFailed } from "../../../openai/errors.ts";
import { errorOfBody, isLimitText, limitError } from "./errors.ts";

interface StreamMessage {
  code?: unknown;
  msg?: unknown;
  message?: { role?: string; type?: string; content?: string };
}

/** How much of an answer's start is searched for a limit notice. */
const HEAD_CHARS = 400;

/** Yields the answer deltas of a chat stream; throws the refusals it carries. */
export async function* readAnswer(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  // The start of the answer, to find a limit notice that came in pieces.
  let head = "";
  for await (const raw of readLines(body)) {
    const line = raw.trim();
    if (line === "") continue;
    if (line.startsWith("event:")) {
      if (line.slice(6).trim() === "done") return;
      continue;
    }
    let payload: string;
    if (line.startsWith("data:")) payload = line.slice(5).trim();
    else if (line.startsWith('{"code":')) payload = line;
    else continue;
    if (!payload.startsWith("{")) continue;
    let msg: StreamMessage;
    try {
      msg = JSON.parse(payload);
    } catch {
      throw upstreamFailed("coze", `unreadable stream line: ${payload.slice(0, 200)}`);
    }
    if (!msg.message) {
      const err = errorOfBody("chat stream", msg);
      if (err) throw err;
      continue;
    }
    const { role, type, content } = msg.message;
    if (role !== "assistant" || typeof content !== "string") continue;
    if (type === "answer") {
      if (content === "") continue;
      // Coze sends its limit notice as the answer (in one message, so that nothing reached the
      // client yet and the pool can try another account).
      if (head.length < HEAD_CHARS) {
        head += content;
        if (isLimitText(head)) throw limitError(head);
      }
      yield content;
    } else if (type === "tool_response" && content.startsWith("Failed:")) {
      throw upstreamFailed("coze", `a tool of the bot failed: ${content.slice(0, 300)}`);
    }
  }
  // The body ended without `event:done`: the answer was cut off, never a finished one.
  throw upstreamFailed("coze", "the chat stream ended without its done event");
}
