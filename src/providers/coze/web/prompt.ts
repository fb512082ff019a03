/**
 * The prompt Coze gets: the conversation flattened into one query with role tags
 * (`<|system|>\n...<|end|>\n<|user|>\n...<|end|>\n<|assistant|>`), role names from
 * `<char_sequences>`; images of user messages as `*image*: <url>` lines, data URLs first uploaded
 * to the image host (`coze.upload-url`). Text passes through untouched (`%` included).
 *
 * @module
 */
import type { Upstream } from "../../../net/http.ts";
import { invalidRequest, upstreamFailed } from "../../../openai/errors.ts";
import { decodeDataUrl } from "../files.ts";
import type { ChatRequest } from "../../../openai/schema.ts";
import { type PromptStyle, renderTurns, toTurns, type Turn } from "../../combine.ts";

/** The role-tag style of Coze prompts, with `<char_sequences>` role names if given. */
export function cozeStyle(seq?: { user: string; assistant: string }): PromptStyle {
  const user = seq?.user || "user";
  const assistant = seq?.assistant || "assistant";
  return {
    prefix: { system: "<|system|>\n", user: `<|${user}|>\n`, assistant: `<|${assistant}|>\n` },
    suffix: "<|end|>",
    separator: "\n",
    tail: `\n<|${assistant}|>`,
  };
}

/** The conversation of a request, with the leading system text split off when asked. */
export interface Conversation {
  turns: Turn[];
  /** The leading system turn's text (owner mode writes it into the bot), when split off. */
  system?: string;
}

/** The turns of `req`; `splitSystem` takes a leading system turn out as the bot's prompt. */
export function conversationOf(req: ChatRequest, splitSystem: boolean): Conversation {
  const turns = toTurns(req.messages);
  if (splitSystem && turns[0]?.role === "system") {
    return { turns: turns.slice(1), system: turns[0].text };
  }
  return { turns };
}

/** Maps an image URL of the request to the URL written into the prompt. */
export type ImageUrls = (url: string) => string;

/** Writes images as the prompt shows them before upload (for `<echo />` and token counts). */
export const placeholderImages: ImageUrls = (url) => {
  if (!url.startsWith("data:")) return url;
  const type = /^data:([^;,]+)/.exec(url)?.[1] ?? "image";
  return `(uploaded ${type})`;
};

/** A turn's text with its images as `*image*: <url>` blocks. */
export function turnText(turn: Turn, images: ImageUrls): string {
  if (turn.images.length === 0) return turn.text;
  const blocks = turn.images.map((u) => `*image*: ${images(u)}\n----`);
  return [turn.text, ...blocks].filter((s) => s !== "").join("\n\n");
}

/** The query for a conversation: every turn in role tags, inviting the assistant's answer. */
export function renderQuery(
  turns: readonly Turn[],
  style: PromptStyle,
  images: ImageUrls,
): string {
  return renderTurns(turns.map((t) => ({ ...t, text: turnText(t, images) })), style);
}

/**
 * Uploads the data-URL images of `turns` to the image host and returns the mapping to use in
 * the prompt; http(s) URLs stay as they are, other schemes are refused.
 */
export async function uploadImages(
  turns: readonly Turn[],
  http: Upstream,
  uploadUrl: string,
): Promise<ImageUrls> {
  const uploaded = new Map<string, string>();
  for (const turn of turns) {
    for (const url of turn.images) {
      if (uploaded.has(url)) continue;
      if (/^https?:\/\//i.test(url)) continue;
      if (!url.startsWith("data:")) {
        throw invalidRequest("Image URLs must be http(s) or data: URLs", "messages");
      }
      const { type, bytes, ext } = decodeDataUrl(url);
      const form = new FormData();
      form.append("image", new Blob([bytes as BlobPart], { type }), `1.${ext}`);
      const answer = await http.json<{ URL?: unknown }>(`${uploadUrl}/upload`, {
        method: "POST",
        headers: { authorization: "Bearer 123" },
        body: form,
      });
      if (typeof answer?.URL !== "string" || answer.URL === "") {
        throw upstreamFailed("coze", "the image host answered without a URL");
      }
      uploaded.set(url, answer.URL);
    }
  }
  return (url) => uploaded.get(url) ?? url;
}
