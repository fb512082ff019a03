/**
 * What the parser's readers share: the events they produce, the options of the request, the
 * `Reader` shape each of them has, and the `Host` (the driver) they write to and hand over to.
 * Readers know the host only through this interface, so no reader imports another.
 *
 * @module
 */
import type { RawCall } from "../calls.ts";

/** What the parser finds in an answer, in order. */
export type ParseEvent =
  | { type: "text"; text: string }
  /** One block holding one or more calls (names and arguments not yet checked). */
  | { type: "calls"; raw: string; calls: RawCall[] }
  /** A block that was meant as a call but cannot be read. */
  | { type: "broken"; raw: string; reason: "truncated" | "invalid"; detail: string }
  /** A `<tasks>` plan (tasks mode). */
  | { type: "tasks"; raw: string; value: unknown }
  /** The model started writing a tool's result: nothing after this belongs to the answer. */
  | { type: "end" };

/** What the parser needs to know about the request. */
export interface ParserOptions {
  /** True when `name` stands for a declared tool. */
  isTool(name: string): boolean;
  /** Read `<tasks>` plans (tasks mode); otherwise `<tasks>` is text. */
  tasks?: boolean;
}

/** The part of the parser that is active while the answer is in one kind of block. */
export interface Reader {
  /**
   * Reads `s` from `i` (less than `s.length`); returns where it stopped: the end of `s`, or the
   * position from which the reader it handed over to goes on.
   */
  read(s: string, i: number): number;
  /** The answer ended inside this reader's block; `held` is what it held back last. */
  end(held: string): void;
}

/** Where reading goes on after text released by `Host.release`. */
export type ReleaseInto =
  /** Plain text. */
  | "text"
  /** Plain text inside an inline code span (the released text opened one). */
  | "span"
  /** The ordinary code block the released text opened. */
  | "code";

/** What readers see of the driver: the output, the held-back tail, and the hand-overs. */
export interface Host {
  readonly options: ParserOptions;
  /** Whether a call (read or broken) came before: a tool result after one ends the answer. */
  readonly sawCall: boolean;
  /** Passes text on. */
  text(text: string): void;
  /** Emits a block (calls, broken, tasks). */
  emit(event: ParseEvent): void;
  /** Keeps the end of the current chunk for the next one (it could become markup). */
  hold(tail: string): void;

  /** Plain text goes on mid-line, after a block. */
  toText(): void;
  /** What was held as a possible block is text after all: passes it on, then reads `into`. */
  release(raw: string, into: ReleaseInto): void;
  /** A call block ended: plain text goes on, or the rest of its code fence when `fenced`. */
  afterBlock(fenced: boolean): void;
  /** The start of the tag `marker` (one of the openers) at `at`: returns where reading goes on. */
  open(marker: string, at: number): number;
  /** A code fence (```) opened at a line start. */
  startFence(): void;
  /** A JSON value starts (its first character is next); `prefix` is what was held before it. */
  startJson(prefix: string, fenced: boolean): void;
  /** The body of a `<tool_call>` block starts; `prefix` is everything up to its opening tag's end. */
  startTag(prefix: string, name: string | undefined, fenced: boolean): void;
  /** The body of a `<function=name>` block starts; `prefix` is its opening tag. */
  startFunction(prefix: string, name: string | undefined): void;
  /** A tool result started after a call: emits the end, ignores the rest. */
  endAnswer(): void;
}
