/**
 * The driver of the readers: it owns the output, the tail held back between chunks and which
 * reader is active, and performs the hand-overs the readers ask for (`Host`). Each chunk is read
 * from where the last one stopped (only the short held tail is read again), so the work stays
 * linear in the answer's length whatever the chunk sizes.
 *
 * @module
 */
import { CodeReader } from "./code.ts";
import { endsLine } from "./chars.ts";
import { FenceHeadReader } from "./fence_head.ts";
import { FenceTailReader } from "./fence_tail.ts";
import { FunctionTagReader } from "./function_tag.ts";
import { JsonBlockReader } from "./json_block.ts";
import { OPENERS } from "./markup.ts";
import { TagReader } from "./tag.ts";
import { TagOpenReader } from "./tag_open.ts";
import { TasksReader } from "./tasks_block.ts";
import { TextReader } from "./text.ts";
import { ThinkReader } from "./think.ts";
import type { Host, ParseEvent, ParserOptions, Reader, ReleaseInto } from "./types.ts";

// Which reader is active. `push` calls each reader from its own `case`: with one call site for
// all of them (`current.read(...)`) the call is megamorphic, which measured ~5% slower on answers
// with many calls.
const TEXT = 0;
const THINK = 1;
const TASKS = 2;
const FENCE_HEAD = 3;
const CODE = 4;
const FENCE_TAIL = 5;
const JSON_BLOCK = 6;
const TAG_OPEN = 7;
const TAG = 8;
const FUNCTION_TAG = 9;
/** The answer ended: nothing more is read. */
const ENDED = 10;
type Mode =
  | typeof TEXT
  | typeof THINK
  | typeof TASKS
  | typeof FENCE_HEAD
  | typeof CODE
  | typeof FENCE_TAIL
  | typeof JSON_BLOCK
  | typeof TAG_OPEN
  | typeof TAG
  | typeof FUNCTION_TAG
  | typeof ENDED;

/** One answer's readers and output. */
export class Driver implements Host {
  #out: ParseEvent[] = [];
  #held = "";
  #sawCall = false;
  #mode: Mode = TEXT;
  readonly #text: TextReader;
  readonly #think: ThinkReader;
  readonly #tasks: TasksReader;
  readonly #fenceHead: FenceHeadReader;
  readonly #code: CodeReader;
  readonly #fenceTail: FenceTailReader;
  readonly #json: JsonBlockReader;
  readonly #tagOpen: TagOpenReader;
  readonly #tag: TagReader;
  readonly #function: FunctionTagReader;
  /** The readers by mode (for `end`). */
  readonly #readers: readonly Reader[];

  /** A driver for one answer of a request with `options`. */
  constructor(readonly options: ParserOptions) {
    this.#text = new TextReader(this, options.tasks ? [...OPENERS, "<tasks>"] : OPENERS);
    this.#think = new ThinkReader(this);
    this.#tasks = new TasksReader(this);
    this.#fenceHead = new FenceHeadReader(this);
    this.#code = new CodeReader(this);
    this.#fenceTail = new FenceTailReader(this);
    this.#json = new JsonBlockReader(this);
    this.#tagOpen = new TagOpenReader(this);
    this.#tag = new TagReader(this);
    this.#function = new FunctionTagReader(this);
    this.#readers = [
      this.#text,
      this.#think,
      this.#tasks,
      this.#fenceHead,
      this.#code,
      this.#fenceTail,
      this.#json,
      this.#tagOpen,
      this.#tag,
      this.#function,
    ];
  }

  /** Reads the next piece of the answer. */
  push(chunk: string): ParseEvent[] {
    const s = this.#held === "" ? chunk : this.#held + chunk;
    this.#held = "";
    let i = 0;
    while (i < s.length) {
      switch (this.#mode) {
        case TEXT:
          i = this.#text.read(s, i);
          break;
        case THINK:
          i = this.#think.read(s, i);
          break;
        case TASKS:
          i = this.#tasks.read(s, i);
          break;
        case FENCE_HEAD:
          i = this.#fenceHead.read(s, i);
          break;
        case CODE:
          i = this.#code.read(s, i);
          break;
        case FENCE_TAIL:
          i = this.#fenceTail.read(s, i);
          break;
        case JSON_BLOCK:
          i = this.#json.read(s, i);
          break;
        case TAG_OPEN:
          i = this.#tagOpen.read(s, i);
          break;
        case TAG:
          i = this.#tag.read(s, i);
          break;
        case FUNCTION_TAG:
          i = this.#function.read(s, i);
          break;
        case ENDED:
          i = s.length;
          break;
      }
    }
    return this.#take();
  }

  /** The answer is complete: flushes what is held. */
  end(): ParseEvent[] {
    const held = this.#held;
    this.#held = "";
    if (this.#mode !== ENDED) this.#readers[this.#mode].end(held);
    this.#mode = ENDED;
    return this.#take();
  }

  #take(): ParseEvent[] {
    const out = this.#out;
    if (out.length === 0) return out;
    this.#out = [];
    return out;
  }

  // --- Host: output ---

  /** Whether a call (read or broken) came before. */
  get sawCall(): boolean {
    return this.#sawCall;
  }

  /** Passes text on, joined to text right before it. */
  text(text: string): void {
    if (text === "") return;
    const last = this.#out[this.#out.length - 1];
    if (last?.type === "text") last.text += text;
    else this.#out.push({ type: "text", text });
  }

  /** Emits a block. */
  emit(event: ParseEvent): void {
    if (event.type === "calls" || event.type === "broken") this.#sawCall = true;
    this.#out.push(event);
  }

  /** Keeps `tail` for the next chunk. */
  hold(tail: string): void {
    this.#held = tail;
  }

  // --- Host: hand-overs ---

  /** Plain text goes on mid-line. */
  toText(): void {
    this.#text.resume();
    this.#mode = TEXT;
  }

  /** Held text is text after all. */
  release(raw: string, into: ReleaseInto): void {
    this.text(raw);
    if (into === "code") {
      this.#code.start(endsLine(raw));
      this.#mode = CODE;
      return;
    }
    this.#text.after(raw, into === "span");
    this.#mode = TEXT;
  }

  /** A call block ended. */
  afterBlock(fenced: boolean): void {
    if (fenced) {
      this.#fenceTail.start();
      this.#mode = FENCE_TAIL;
    } else {
      this.toText();
    }
  }

  /** The opener `marker` starts at `at`. */
  open(marker: string, at: number): number {
    const next = at + marker.length;
    switch (marker) {
      case "<think>":
      case "<thinking>":
        this.text(marker);
        this.#text.after(marker);
        this.#think.start(marker);
        this.#mode = THINK;
        return next;
      case "<tasks>":
        this.#tasks.start();
        this.#mode = TASKS;
        return next;
      case "<tool_call ":
      case "<function=":
        this.#tagOpen.start(marker);
        this.#mode = TAG_OPEN;
        return next;
      default:
        this.startTag(marker, undefined, false);
        return next;
    }
  }

  /** A code fence opened. */
  startFence(): void {
    this.#fenceHead.start();
    this.#mode = FENCE_HEAD;
  }

  /** A JSON value starts. */
  startJson(prefix: string, fenced: boolean): void {
    this.#json.start(prefix, fenced);
    this.#mode = JSON_BLOCK;
  }

  /** A `<tool_call>` body starts. */
  startTag(prefix: string, name: string | undefined, fenced: boolean): void {
    this.#tag.start(prefix, name, fenced);
    this.#mode = TAG;
  }

  /** A `<function=x>` body starts. */
  startFunction(prefix: string, name: string | undefined): void {
    this.#function.start(prefix, name);
    this.#mode = FUNCTION_TAG;
  }

  /** A tool result after a call: the answer ends. */
  endAnswer(): void {
    this.#out.push({ type: "end" });
    this.#mode = ENDED;
  }
}
