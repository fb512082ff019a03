/**
 * A `<tasks>` plan (tasks mode only): a JSON list of the tool calls the model intends, read whole
 * up to `</tasks>` and emitted as one event (its value is undefined when it cannot be read). A
 * plan longer than the limit is not one: it goes out as text. A plan the answer cuts off is
 * dropped.
 *
 * @module
 */
import { partialMatchAtEnd } from "../../util/partial.ts";
import { LooseJsonError, parseLooseJson } from "../json.ts";
import type { Host, Reader } from "./types.ts";

const OPENER = "<tasks>";
const CLOSER = "</tasks>";
/** Longest plan held. */
const MAX_TASKS = 16_384;

/** Reads a `<tasks>` block. */
export class TasksReader implements Reader {
  #raw: string[] = [];
  #length = 0;

  /** A reader writing to `host`. */
  constructor(readonly host: Host) {}

  /** The opening tag was read. */
  start(): void {
    this.#raw = [OPENER];
    this.#length = 0;
  }

  /** Reads on to the closing tag. */
  read(s: string, i: number): number {
    const at = s.indexOf(CLOSER, i);
    if (at >= 0) {
      const next = at + CLOSER.length;
      this.#raw.push(s.slice(i, next));
      this.#finish();
      return next;
    }
    const keep = partialMatchAtEnd(s, CLOSER, i);
    const tail = s.slice(s.length - keep);
    this.#raw.push(s.slice(i, s.length - keep));
    this.#length += s.length - keep - i;
    if (this.#length > MAX_TASKS) {
      this.#raw.push(tail);
      this.host.release(this.#takeRaw(), "text");
    } else {
      this.host.hold(tail);
    }
    return s.length;
  }

  /** A plan cut off is dropped. */
  end(): void {}

  #takeRaw(): string {
    const raw = this.#raw.join("");
    this.#raw = [];
    return raw;
  }

  #finish(): void {
    const raw = this.#takeRaw();
    let value: unknown;
    try {
      value = parseLooseJson(raw.slice(OPENER.length, raw.length - CLOSER.length));
    } catch (err) {
      if (!(err instanceof LooseJsonError)) throw err;
    }
    this.host.emit({ type: "tasks", raw, value });
    this.host.toText();
  }
}
