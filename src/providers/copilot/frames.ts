/**
 * The chat socket's frames: JSON objects, several of them concatenated in one frame (reference
 * section 1, "Stream format"), and, defensively, an object split over two frames. The splitter
 * scans each character once, keeping only the object in progress; it never re-parses what it has
 * read.
 *
 * @module
 */

/** A frame that is not a sequence of JSON objects. */
export class FrameError extends Error {
  override name = "FrameError";
}

/** SignalR's record separator, which a frame may still end with (skipped like blanks). */
const RECORD_SEPARATOR = String.fromCharCode(0x1e);

/** The largest object accepted (a preview image's base64 is the largest thing seen). */
export const MAX_OBJECT = 32 * 1024 * 1024;

/** Splits a stream of text into top-level JSON objects. */
export class JsonObjectSplitter {
  #buf = "";
  #depth = 0;
  #inString = false;
  #escape = false;
  #start = -1;

  constructor(private readonly max = MAX_OBJECT) {}

  /** Feeds text; returns the objects completed by it, parsed. */
  push(text: string): Record<string, unknown>[] {
    const out: Record<string, unknown>[] = [];
    const base = this.#buf.length;
    this.#buf += text;
    for (let i = base; i < this.#buf.length; i++) {
      const c = this.#buf[i];
      if (this.#depth === 0) {
        if (c === "{") {
          this.#depth = 1;
          this.#start = i;
        } else if (c !== RECORD_SEPARATOR && !/\s/.test(c)) {
          throw new FrameError(`unexpected '${c}' between JSON objects`);
        }
        continue;
      }
      if (this.#inString) {
        if (this.#escape) this.#escape = false;
        else if (c === "\\") this.#escape = true;
        else if (c === '"') this.#inString = false;
        continue;
      }
      if (c === '"') this.#inString = true;
      else if (c === "{" || c === "[") this.#depth++;
      else if (c === "}" || c === "]") {
        this.#depth--;
        if (this.#depth === 0) {
          out.push(parseObject(this.#buf.slice(this.#start, i + 1)));
          this.#start = -1;
        }
      }
    }
    // Keep only the object in progress.
    if (this.#depth === 0) this.#buf = "";
    else if (this.#start > 0) {
      this.#buf = this.#buf.slice(this.#start);
      this.#start = 0;
    }
    if (this.#buf.length > this.max) {
      throw new FrameError(`a JSON object longer than ${this.max} characters`);
    }
    return out;
  }

  /** True when an object has started and not ended. */
  get pending(): boolean {
    return this.#depth > 0;
  }
}

function parseObject(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new FrameError(`a frame is not JSON (${(err as Error).message}): ${text.slice(0, 80)}`);
  }
  if (!value || typeof value !== "object" || Array.isArray(value)) {
    throw new FrameError(`a frame holds ${Array.isArray(value) ? "an array" : typeof value}`);
  }
  return value as Record<string, unknown>;
}
