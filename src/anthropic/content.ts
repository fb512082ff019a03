/**
 * Content blocks of the Messages API → the internal (Chat Completions) messages.
 *
 * - A user message becomes its tool results (`tool` messages, first, as Chat Completions wants
 *   them right after the assistant's calls) and then a user message with the rest: text, images
 *   (base64 or URL), documents as text or files, and the images of tool results.
 * - An assistant message becomes one assistant message: text, `thinking` as `reasoning_content`
 *   with its signature, `tool_use` as `tool_calls` (ids mapped, `ids.ts`).
 * - A `system` message (Claude Code puts one inside `messages`) stays a system message.
 *
 * Blocks of a type nothing here can use (`server_tool_use`, `container_upload`, ...) and
 * `redacted_thinking` (Anthropic's encrypted reasoning, which no upstream here takes) are left
 * out and named in `notes`.
 *
 * @module
 */
import type { Message, MessageToolCall, UserPart } from "../openai/schema.ts";
import { toInternalId } from "./ids.ts";
import {
  type AnthropicMessage,
  type Block,
  documentBlock,
  imageBlock,
  parseAt,
  redactedThinkingBlock,
  textBlock,
  thinkingBlock,
  toolResultBlock,
  toolUseBlock,
} from "./schema.ts";

/** Where a block is, for error messages: `messages`, 3, `content`, 1. */
type Path = readonly (string | number)[];

/** What the translation of the messages found besides the messages. */
export interface ContentNotes {
  /** Block types left out, for the log line. */
  skipped: Set<string>;
  /** Tools a `tool_reference` block (tool search) made available. */
  referenced: Set<string>;
  /** Tool names the conversation already called. */
  called: Set<string>;
}

/** The text of a `text` block list or string (other blocks left out). */
export function plainText(content: string | readonly Block[], path: Path): string {
  if (typeof content === "string") return content;
  const out: string[] = [];
  content.forEach((b, i) => {
    if (b.type === "text") out.push(parseAt(textBlock, b, [...path, i]).text);
  });
  return out.join("\n\n");
}

function imagePart(b: Block, path: Path): UserPart | undefined {
  const img = parseAt(imageBlock, b, path);
  const s = img.source;
  if (s.type === "base64") {
    return { type: "image_url", image_url: { url: `data:${s.media_type};base64,${s.data}` } };
  }
  if (s.type === "url") return { type: "image_url", image_url: { url: s.url } };
  // A file of Anthropic's Files API: there is no such store here.
  return undefined;
}

function documentParts(b: Block, path: Path, notes: ContentNotes): UserPart[] {
  const doc = parseAt(documentBlock, b, path);
  const s = doc.source;
  const head = [doc.title, doc.context].filter((x) => x).join("\n");
  const text = (body: string): UserPart => ({
    type: "text",
    text: head ? `${head}\n\n${body}` : body,
  });
  switch (s.type) {
    case "text":
      return [text(s.data)];
    case "content":
      return [text(plainText(s.content, [...path, "source", "content"]))];
    case "base64":
      if (s.media_type.startsWith("text/")) return [text(decodeBase64Text(s.data))];
      // A PDF: Chat Completions' file part; upstreams that read files get it.
      return [{
        type: "file",
        file: {
          filename: doc.title ?? "document.pdf",
          file_data: `data:${s.media_type};base64,${s.data}`,
        },
      }];
    case "url":
      return [text(`Document: ${s.url}`)];
    default:
      notes.skipped.add("document (Files API)");
      return [];
  }
}

function decodeBase64Text(data: string): string {
  try {
    return new TextDecoder().decode(Uint8Array.from(atob(data), (c) => c.charCodeAt(0)));
  } catch {
    return data;
  }
}

/**
 * A tool result's text, and its images (which Chat Completions' tool messages cannot carry:
 * they go into the user message that follows).
 */
function toolResultContent(
  content: string | readonly Block[] | undefined,
  path: Path,
  notes: ContentNotes,
): { text: string; images: UserPart[] } {
  if (content === undefined) return { text: "", images: [] };
  if (typeof content === "string") return { text: content, images: [] };
  const texts: string[] = [];
  const images: UserPart[] = [];
  content.forEach((b, i) => {
    const at = [...path, i];
    if (b.type === "text") texts.push(parseAt(textBlock, b, at).text);
    else if (b.type === "image") {
      const part = imagePart(b, at);
      if (part) images.push(part);
    } else if (b.type === "document") {
      for (const p of documentParts(b, at, notes)) {
        if (p.type === "text") texts.push(p.text);
        else images.push(p);
      }
    } else if (b.type === "tool_reference" && typeof b.tool_name === "string") {
      // Tool search (client side): the named deferred tool is offered from now on.
      notes.referenced.add(b.tool_name);
      texts.push(`Tool loaded: ${b.tool_name}`);
    } else if (b.type === "search_result" && Array.isArray(b.content)) {
      const title = typeof b.title === "string" ? b.title : "";
      const source = typeof b.source === "string" ? b.source : "";
      const body = plainText(b.content as Block[], [...at, "content"]);
      texts.push([title, source, body].filter((x) => x).join("\n"));
    } else notes.skipped.add(`${b.type} (in a tool result)`);
  });
  return { text: texts.join("\n\n"), images };
}

function userMessages(m: AnthropicMessage, path: Path, notes: ContentNotes): Message[] {
  if (typeof m.content === "string") return [{ role: "user", content: m.content }];
  const tools: Message[] = [];
  const parts: UserPart[] = [];
  const resultImages: UserPart[] = [];
  m.content.forEach((b, i) => {
    const at = [...path, "content", i];
    switch (b.type) {
      case "text":
        parts.push({ type: "text", text: parseAt(textBlock, b, at).text });
        break;
      case "image": {
        const part = imagePart(b, at);
        if (part) parts.push(part);
        else notes.skipped.add("image (Files API)");
        break;
      }
      case "document":
        parts.push(...documentParts(b, at, notes));
        break;
      case "tool_result": {
        const r = parseAt(toolResultBlock, b, at);
        const { text, images } = toolResultContent(r.content, [...at, "content"], notes);
        tools.push({
          role: "tool",
          tool_call_id: toInternalId(r.tool_use_id),
          content: r.is_error ? `Error: ${text}` : text,
        });
        resultImages.push(...images);
        break;
      }
      default:
        notes.skipped.add(b.type);
    }
  });
  const rest = [...parts, ...resultImages];
  if (rest.length === 0) return tools;
  const allText = rest.every((p) => p.type === "text");
  const content = allText ? rest.map((p) => (p as { text: string }).text).join("\n\n") : rest;
  return [...tools, { role: "user", content }];
}

function assistantMessage(m: AnthropicMessage, path: Path, notes: ContentNotes): Message {
  if (typeof m.content === "string") return { role: "assistant", content: m.content };
  const text: string[] = [];
  const reasoning: string[] = [];
  let signature: string | undefined;
  const calls: MessageToolCall[] = [];
  m.content.forEach((b, i) => {
    const at = [...path, "content", i];
    switch (b.type) {
      case "text":
        text.push(parseAt(textBlock, b, at).text);
        break;
      case "thinking": {
        const t = parseAt(thinkingBlock, b, at);
        reasoning.push(t.thinking);
        if (t.signature) signature = t.signature;
        break;
      }
      case "redacted_thinking":
        parseAt(redactedThinkingBlock, b, at);
        notes.skipped.add("redacted_thinking");
        break;
      case "tool_use": {
        const u = parseAt(toolUseBlock, b, at);
        notes.called.add(u.name);
        calls.push({
          id: toInternalId(u.id),
          type: "function",
          function: { name: u.name, arguments: JSON.stringify(u.input) },
        });
        break;
      }
      default:
        notes.skipped.add(b.type);
    }
  });
  const out: Message = {
    role: "assistant",
    content: text.length > 0 ? text.join("") : calls.length > 0 ? null : "",
  };
  if (calls.length > 0) out.tool_calls = calls;
  if (reasoning.length > 0) out.reasoning_content = reasoning.join("");
  if (signature) out.reasoning_signature = signature;
  return out;
}

/** The internal messages of the conversation `messages` (system prompt not included). */
export function toMessages(
  messages: readonly AnthropicMessage[],
  notes: ContentNotes,
): Message[] {
  const out: Message[] = [];
  messages.forEach((m, i) => {
    const path = ["messages", i];
    if (m.role === "user") out.push(...userMessages(m, path, notes));
    else if (m.role === "assistant") out.push(assistantMessage(m, path, notes));
    else out.push({ role: "system", content: plainText(m.content, [...path, "content"]) });
  });
  return out;
}
