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
    const keep = at >= 0 ? 0 : partialMatchAtEnd(s, CLOSER, i);
    const body = (at >= 0 ? at : s.length - keep) - i;
    const room = MAX_TASKS - this.#length;
    if (body > room) {
      // Too long for a plan: text up to the first character past the limit, and reading goes
      // on from there (the same cut however the answer arrives in chunks).
      const stop = i + room + 1;
      this.#raw.push(s.slice(i, stop));
      this.host.release(this.#takeRaw(), "text");
      return stop;
    }
    if (at >= 0) {
      const next = at + CLOSER.length;
      this.#raw.push(s.slice(i, next));
      this.#finish();
      return next;
    }
    this.#raw.push(s.slice(i, s.length - keep));
    this.#length += body;
    this.host.hold(s.slice(s.length - keep));
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
