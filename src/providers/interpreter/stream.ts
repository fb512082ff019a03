/**
 * open-interpreter's streamed messages (`{role, type, format, content, start, end}`) as
 * `ChatEvent`s: the assistant's messages as text; with `interpreter.echo-code`, the code it runs
 * and the console output as fenced blocks.
 *
 * @module
 */
import { upstreamFailed } from "../../openai/errors.ts";
import type { ChatEvent } from "../types.ts";

/** One streamed message of the interpreter. */
export interface InterpreterChunk {
  role?: string;
  type?: string;
  format?: string;
  content?: unknown;
  start?: boolean;
  end?: boolean;
  error?: unknown;
}

/** Turns the interpreter's messages into events. */
export class InterpreterMapper {
  /** The block whose fence is open (`code` or `console`), if any. */
  #open?: string;
  /** Whether any text went out, and whether the next message needs a blank line first. */
  #wrote = false;
  #gap = false;

  constructor(readonly echoCode: boolean) {}

  /** The events of one message; an error message throws. */
  *map(chunk: InterpreterChunk): Generator<ChatEvent> {
    if (chunk.error !== undefined || chunk.type === "error") {
      const detail = typeof chunk.error === "string"
        ? chunk.error
        : JSON.stringify(chunk.error ?? chunk.content);
      throw upstreamFailed("interpreter", `the interpreter reported an error: ${detail}`);
    }
    const content = typeof chunk.content === "string" ? chunk.content : "";
    if (chunk.type === "message" && chunk.role === "assistant") {
      yield* this.#close();
      // A new message after earlier output starts a new paragraph.
      if (chunk.start && this.#wrote) this.#gap = true;
      if (content) {
        if (this.#gap) yield* this.#text("\n\n");
        this.#gap = false;
        yield* this.#text(content);
      }
      return;
    }
    const block = chunk.type === "code" && chunk.role === "assistant"
      ? "code"
      : chunk.type === "console" && chunk.format === "output"
      ? "console"
      : undefined;
    if (!block || !this.echoCode) return;
    if (chunk.start || this.#open !== block) {
      yield* this.#close();
      this.#open = block;
      const lang = block === "code" ? chunk.format ?? "" : "text";
      yield* this.#text(`${this.#wrote ? "\n" : ""}\`\`\`${lang}\n`);
    }
    if (content) yield* this.#text(content);
    if (chunk.end) yield* this.#close();
  }

  *#text(text: string): Generator<ChatEvent> {
    this.#wrote = true;
    yield { type: "text", text };
  }

  *#close(): Generator<ChatEvent> {
    if (!this.#open) return;
    this.#open = undefined;
    this.#gap = true;
    yield* this.#text("\n```");
  }

  /** Closes a fence the interpreter left open. */
  *end(): Generator<ChatEvent> {
    yield* this.#close();
  }
}
