/**
 * open-interpreter's output as `ChatEvent`s.
 *
 * Websocket (LMC chunks `{role, type, format, content, start, end}`): the assistant's messages
 * are the answer; with `interpreter.echo-code` the code it runs comes as fenced blocks, with
 * `interpreter.echo-console` the computer's console output too (the original showed messages and
 * code only); `active_line`, reviews and images of the computer stay out. A `confirmation` (code
 * waiting for approval) is told as the OpenAI route tells it.
 *
 * OpenAI route (`chat.completion.chunk` deltas): the server writes code inline as fenced
 * Markdown, its fences each a chunk of their own (`` ```python\n `` and `` \n```\n ``); without
 * `echo-code` those blocks are held back and dropped (given back if no closing fence comes, in
 * case it was no code block after all). The console never reaches this route.
 *
 * @module
 */
import { upstreamFailed } from "../../openai/errors.ts";
import type { ChatEvent } from "../types.ts";

/** One LMC chunk of the interpreter. */
export interface LmcChunk {
  role?: string;
  type?: string;
  format?: string;
  content?: unknown;
  start?: boolean;
  end?: boolean;
  id?: string;
}

/** What the OpenAI route says when code waits for approval (`auto_run` off). */
export const CONFIRMATION = "Do you want to run this code?";

/** What to show besides the assistant's messages. */
export interface EchoOptions {
  code: boolean;
  console: boolean;
}

/** Turns the interpreter's LMC chunks into events. */
export class LmcMapper {
  /** The block whose fence is open (`code` or `console`), if any. */
  #open?: string;
  /** Whether any text went out, and whether the next message needs a blank line first. */
  #wrote = false;
  #gap = false;
  /** Whether the last text ended a line (a closing fence then needs no line break first). */
  #atLineStart = true;

  constructor(readonly echo: EchoOptions) {}

  /** The events of one chunk. */
  *map(chunk: LmcChunk): Generator<ChatEvent> {
    const content = typeof chunk.content === "string" ? chunk.content : "";
    if (chunk.role === "assistant" && chunk.type === "message") {
      yield* this.#close();
      // A new message after earlier output starts a new paragraph.
      if (chunk.start && this.#wrote) this.#gap = true;
      if (content) yield* this.#paragraph(content);
      return;
    }
    if (chunk.type === "confirmation") {
      yield* this.#close();
      if (this.#wrote) this.#gap = true;
      yield* this.#paragraph(CONFIRMATION);
      return;
    }
    const block = chunk.role === "assistant" && chunk.type === "code" && this.echo.code
      ? "code"
      : chunk.role === "computer" && chunk.type === "console" && chunk.format === "output" &&
          this.echo.console
      ? "console"
      : undefined;
    if (!block) {
      // A console chunk's end (or a code block's) closes an open fence of that kind.
      if (chunk.end && this.#open && chunk.type === (this.#open === "code" ? "code" : "console")) {
        yield* this.#close();
      }
      return;
    }
    if (chunk.start || this.#open !== block) {
      yield* this.#close();
      this.#open = block;
      const lang = block === "code" ? chunk.format ?? "" : "text";
      yield* this.#text(`${this.#wrote ? "\n\n" : ""}\`\`\`${lang}\n`);
    }
    if (content) yield* this.#text(content);
    if (chunk.end) yield* this.#close();
  }

  *#paragraph(text: string): Generator<ChatEvent> {
    if (this.#gap) yield* this.#text("\n\n");
    this.#gap = false;
    yield* this.#text(text);
  }

  *#text(text: string): Generator<ChatEvent> {
    this.#wrote = true;
    this.#atLineStart = text.endsWith("\n");
    yield { type: "text", text };
  }

  *#close(): Generator<ChatEvent> {
    if (!this.#open) return;
    this.#open = undefined;
    this.#gap = true;
    yield* this.#text(this.#atLineStart ? "```" : "\n```");
  }

  /** Closes a fence the interpreter left open. */
  *end(): Generator<ChatEvent> {
    yield* this.#close();
  }
}

/** Code held back at most (then it is given back and no longer filtered). */
const HOLD_LIMIT = 1024 * 1024;

const FENCE_OPEN = /^```[\w+#.-]*\n$/;
const FENCE_CLOSE = "\n```\n";

/** Filters the OpenAI route's content deltas: code blocks kept or dropped per `echo-code`. */
export class InlineCodeFilter {
  #held: string[] | undefined;
  #heldSize = 0;
  #wrote = false;
  #gap = false;

  constructor(readonly echoCode: boolean) {}

  /** The text of one delta to pass on ("" for none). */
  push(delta: string): string {
    if (this.#held) {
      if (delta === FENCE_CLOSE) {
        this.#held = undefined;
        this.#gap = this.#wrote;
        return "";
      }
      this.#held.push(delta);
      this.#heldSize += delta.length;
      if (this.#heldSize > HOLD_LIMIT) return this.#release();
      return "";
    }
    if (FENCE_OPEN.test(delta)) {
      if (!this.echoCode) {
        this.#held = [delta];
        this.#heldSize = delta.length;
        return "";
      }
      // The server glues the fence to the text before it; Markdown needs it on its own line.
      const out = (this.#wrote ? "\n\n" : "") + delta;
      this.#wrote = true;
      return out;
    }
    if (delta === "") return "";
    const out = (this.#gap ? "\n\n" : "") + delta;
    this.#gap = false;
    this.#wrote = true;
    return out;
  }

  /** What is still held at the end (a fence that never closed was no code block). */
  end(): string {
    return this.#held ? this.#release() : "";
  }

  #release(): string {
    const text = this.#held!.join("");
    this.#held = undefined;
    this.#wrote = true;
    return text;
  }
}

/** One `data:` payload of the OpenAI route: its content delta (or "" for none). */
export function deltaOf(data: string): string {
  let chunk: unknown;
  try {
    chunk = JSON.parse(data);
  } catch {
    throw upstreamFailed("interpreter", `a stream chunk that is not JSON: ${data.slice(0, 200)}`);
  }
  const c = chunk as {
    error?: unknown;
    choices?: { delta?: { content?: unknown } }[];
  };
  if (!c || typeof c !== "object") {
    throw upstreamFailed(
      "interpreter",
      `a stream chunk that is not an object: ${data.slice(0, 200)}`,
    );
  }
  if (c.error !== undefined) {
    const e = c.error as { message?: unknown };
    const message = typeof e === "string" ? e : typeof e?.message === "string" ? e.message : data;
    throw upstreamFailed("interpreter", `the interpreter reported an error: ${message}`);
  }
  const content = c.choices?.[0]?.delta?.content;
  return typeof content === "string" ? content : "";
}
