/**
 * The attributes of an opening tag that has them: `<tool_call name="x">` (the name is the tool,
 * the body its arguments) and `<function=x>` (the name follows the `=`). Read up to the tag's
 * `>`; `<tool_call name="x" />` is a call without arguments. A "tag" whose attributes run on
 * too long is prose that happens to contain `<tool_call `, and goes out as text.
 *
 * @module
 */
import type { Host, Reader } from "./types.ts";

/** Longest attribute text held. */
const MAX_ATTRS = 300;
const FUNCTION_OPENER = "<function=";
/** The `name` attribute, quoted or not. */
const NAME_ATTR = /\bname\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s/>]+))/;

/** Reads the attributes of `<tool_call ...>` or `<function=...>`. */
export class TagOpenReader implements Reader {
  #raw: string[] = [];
  #attrs = "";
  #functionTag = false;

  /** A reader writing to `host`. */
  constructor(readonly host: Host) {}

  /** `opener` (`<tool_call ` or `<function=`) was read. */
  start(opener: string): void {
    this.#raw = [opener];
    this.#attrs = "";
    this.#functionTag = opener === FUNCTION_OPENER;
  }

  /** Reads up to the tag's `>`, then hands over to the body. */
  read(s: string, i: number): number {
    const n = s.length;
    const gt = s.indexOf(">", i);
    const end = gt < 0 ? n : gt;
    const room = MAX_ATTRS - this.#attrs.length;
    if (end - i > room) {
      // Not a tag after all. It goes out as text up to the first character past the limit and
      // reading goes on from there: the same cut however the answer arrives in chunks.
      const stop = i + room + 1;
      this.#raw.push(s.slice(i, stop));
      this.host.release(this.#takeRaw(), "text");
      return stop;
    }
    this.#attrs += s.slice(i, end);
    if (gt < 0) {
      this.#raw.push(s.slice(i, n));
      return n;
    }
    this.#raw.push(s.slice(i, gt + 1));
    const attrs = this.#attrs;
    const name = this.#functionTag ? unquote(attrs.trim()) : nameAttr(attrs);
    if (attrs.trimEnd().endsWith("/")) {
      // <tool_call name="x" />: a call without arguments.
      const raw = this.#takeRaw();
      if (name) this.host.emit({ type: "calls", raw, calls: [{ name, args: {} }] });
      else this.host.emit({ type: "broken", raw, reason: "invalid", detail: "no tool name" });
      this.host.toText();
    } else if (this.#functionTag) {
      this.host.startFunction(this.#takeRaw(), name);
    } else {
      this.host.startTag(this.#takeRaw(), name, false);
    }
    return gt + 1;
  }

  /** A tag cut off is a broken call. */
  end(held: string): void {
    this.#raw.push(held);
    this.host.emit({
      type: "broken",
      raw: this.#takeRaw(),
      reason: "truncated",
      detail: "the answer ended inside the tool call's opening tag",
    });
  }

  #takeRaw(): string {
    const raw = this.#raw.join("");
    this.#raw = [];
    return raw;
  }
}

function unquote(s: string): string {
  return s.replace(/^["']|["']$/g, "");
}

function nameAttr(attrs: string): string | undefined {
  const m = NAME_ATTR.exec(attrs);
  return m ? (m[1] ?? m[2] ?? m[3]) : undefined;
}
