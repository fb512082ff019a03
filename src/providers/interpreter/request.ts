/**
 * What one request sends to open-interpreter 0.4: only the last message, which must be the
 * user's (the server keeps the conversation itself; upstreams-2026 section 10, oi-main
 * `async_core.py` `chat_completion`). Its text parts are joined; inline images (`data:` URLs) go
 * as images, linked ones are named by URL in the text (the interpreter can fetch them).
 *
 * - `/openai/chat/completions`: `{model, messages: [{role: "user", content}], stream: true}`,
 *   the content a string, or text and `image_url` parts when there are images.
 * - The websocket: LMC chunks between `{"role":"user","start":true}` and
 *   `{"role":"user","end":true}`: `{"role":"user","type":"message","content":...}` and one
 *   `{"role":"user","type":"image","format":"base64.<type>","content":<base64>}` per image.
 *
 * @module
 */
import { invalidRequest } from "../../openai/errors.ts";
import type { ChatRequest } from "../../openai/schema.ts";

/** The last user message as the interpreter takes it. */
export interface InterpreterInput {
  /** The text, with linked images named by URL. */
  text: string;
  /** Inline images: the `data:` URL, its image type and base64. */
  images: { url: string; type: string; base64: string }[];
}

const DATA_URL = /^data:image\/([A-Za-z0-9.+-]+);base64,(.*)$/s;

/** The last message of `req`, which must be the user's. */
export function toInterpreterInput(req: ChatRequest): InterpreterInput {
  const i = req.messages.length - 1;
  const last = req.messages[i];
  if (!last || last.role !== "user") {
    throw invalidRequest(
      "open-interpreter answers the last message, which must be the user's (it keeps the " +
        "conversation itself)",
      `messages[${Math.max(0, i)}].role`,
    );
  }
  if (typeof last.content === "string") return { text: last.content, images: [] };
  const lines: string[] = [];
  const images: InterpreterInput["images"] = [];
  for (const [j, part] of last.content.entries()) {
    if (part.type === "text") lines.push(part.text);
    else if (part.type === "image_url") {
      const url = part.image_url.url;
      const inline = DATA_URL.exec(url);
      if (inline) images.push({ url, type: inline[1].toLowerCase(), base64: inline[2] });
      else if (/^https?:\/\//i.test(url)) lines.push(`*image*: ${url}`);
      else {
        throw invalidRequest(
          "open-interpreter takes images as data:image/...;base64 or http(s) URLs",
          `messages[${i}].content[${j}].image_url.url`,
        );
      }
    } else {
      throw invalidRequest(
        `open-interpreter takes text and images, not '${part.type}' parts`,
        `messages[${i}].content[${j}].type`,
      );
    }
  }
  const text = lines.join("\n");
  if (text.trim() === "" && images.length === 0) {
    throw invalidRequest("The last message is empty", `messages[${i}].content`);
  }
  return { text, images };
}

/** The body of `POST /openai/chat/completions`. */
export function toOpenAiRoute(input: InterpreterInput, model: string) {
  const content = input.images.length === 0 ? input.text : [
    ...(input.text ? [{ type: "text", text: input.text }] : []),
    ...input.images.map((img) => ({ type: "image_url", image_url: { url: img.url } })),
  ];
  return { model, messages: [{ role: "user", content }], stream: true };
}

/** The LMC chunks of one user message over the websocket, start and end included. */
export function toLmc(input: InterpreterInput): Record<string, unknown>[] {
  const chunks: Record<string, unknown>[] = [{ role: "user", start: true }];
  if (input.text) chunks.push({ role: "user", type: "message", content: input.text });
  for (const img of input.images) {
    chunks.push({ role: "user", type: "image", format: `base64.${img.type}`, content: img.base64 });
  }
  chunks.push({ role: "user", end: true });
  return chunks;
}

/** The LMC command that stops the interpreter's run (sent when the client leaves). */
export const STOP_COMMAND: readonly Record<string, unknown>[] = [
  { role: "user", type: "command", start: true },
  { role: "user", type: "command", content: "stop" },
  { role: "user", type: "command", end: true },
];
