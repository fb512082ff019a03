/**
 * The streaming reader of a model's answer in the emulation's format: text passes on as it
 * comes, tool-call blocks come out as calls. It holds back only what could still become markup:
 * the start of a tag (`<tool_c`), a code fence at the start of a line until its first JSON key
 * shows whether it is a call, a JSON object at the start of a line likewise. Each character is
 * looked at a bounded number of times, so the work is linear in the answer's length whatever
 * the chunk sizes.
 *
 * Recognised calls (see docs/toolcall.md):
 * - `<tool_call>{"name": ..., "arguments": {...}}</tool_call>`, several blocks in a row, several
 *   objects or a list in one block, a `<tool_calls>` wrapper, a fence inside the block, a missing
 *   closing tag, `<tool_call name="x">{args}</tool_call>`, `<tool_call>x\n{args}</tool_call>`;
 * - `<function=x>{args}</function>` and `<function=x><parameter=p>v</parameter></function>`;
 * - a fenced or bare JSON object or list at the start of a line whose first key is a call key and
 *   whose name (when it comes first) is a declared tool.
 *
 * Markup inside `<think>` blocks is text. After a call, `<tool_result` or `<tool_response` (the
 * model writing the answer of the tool itself) ends the answer.
 *
 * @module
 */
import { CALL_FIRST_KEYS, callsFromValue, NAME_FIRST_KEYS, type RawCall } from "./calls.ts";
import { isIdentPart, LooseJsonError, parseLooseJson, readLooseJson } from "./json.ts";
import { partialMatchAtEnd } from "../util/partial.ts";

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

type Mode =
  | "text"
  | "fenceInfo"
  | "fenceHead"
  | "json"
  | "fenceAfter"
  | "fenceSkip"
  | "tagAttrs"
  | "tag"
  | "think"
  | "code"
  | "tasks"
  | "ended";

const LT = 60, BACKTICK = 96, NL = 10, CR = 13, SP = 32, TAB = 9;
const LBRACE = 123, RBRACE = 125, LBRACKET = 91, RBRACKET = 93, DQ = 34, SQ = 39, BSL = 92;

const TAG_OPENERS = ["<tool_call>", "<tool_calls>", "<tool_call ", "<function="];
const RESULT_TAGS = ["<tool_result", "<tool_response"];
const OPENERS = [...TAG_OPENERS, "<think>", "<thinking>", ...RESULT_TAGS];
const TOOL_CALL_CLOSERS = ["</tool_call>", "</tool_calls>", "</function_call>"];
/** What ends a `<tool_call>` block at the top level of its body. */
const TAG_STOPS = [...TOOL_CALL_CLOSERS, ...TAG_OPENERS, ...RESULT_TAGS];

/** Limits on what is held back while undecided. */
const MAX_FENCE_INFO = 40;
const MAX_FENCE_GAP = 200;
const MAX_UNDECIDED_JSON = 300;
const MAX_TAG_ATTRS = 300;
const MAX_TAG_PROSE = 200;
const MAX_TASKS = 16_384;

const PARTIAL = 1;
const NEXT_MARK = /[<\n`]/g;
const NEXT_NL = /\n/g;

/** Whether a code fence (```) starts at `i`: true, false, or `PARTIAL` when `s` ends inside one. */
function fenceAt(s: string, i: number): boolean | typeof PARTIAL {
  if (s.length - i < 3) return "```".startsWith(s.slice(i)) ? PARTIAL : false;
  return s.startsWith("```", i);
}

/** The full opener at `i`, `PARTIAL` when the text ends inside one, or undefined. */
function matchAt(
  s: string,
  i: number,
  list: readonly string[],
): string | typeof PARTIAL | undefined {
  let partial = false;
  const rest = s.length - i;
  for (const o of list) {
    if (rest >= o.length) {
      if (s.startsWith(o, i)) return o;
    } else if (!partial && o.startsWith(s.slice(i))) {
      partial = true;
    }
  }
  return partial ? PARTIAL : undefined;
}

function isWs(c: number): boolean {
  return c === SP || c === NL || c === CR || c === TAB;
}

/** Tracks strings and nesting of a JSON text one character at a time. */
class Scanner {
  depth = 0;
  quote = 0;
  esc = false;

  reset(): void {
    this.depth = 0;
    this.quote = 0;
    this.esc = false;
  }

  /** Feeds one character; returns true when it closed the outermost value. */
  feed(c: number): boolean {
    if (this.quote !== 0) {
      if (this.esc) this.esc = false;
      else if (c === BSL) this.esc = true;
      else if (c === this.quote) this.quote = 0;
      return false;
    }
    if (c === DQ || c === SQ) this.quote = c;
    else if (c === LBRACE || c === LBRACKET) this.depth++;
    else if (c === RBRACE || c === RBRACKET) {
      this.depth--;
      return this.depth === 0;
    }
    return false;
  }
}

type FirstKey =
  | "start"
  | "arr"
  | "key"
  | "keyStr"
  | "keyIdent"
  | "colon"
  | "val"
  | "name"
  | "byName"
  | "byKey";

/** The streaming parser of one answer. */
export class ToolCallParser {
  #mode: Mode = "text";
  #hold = "";
  #lineStart = true;
  /** Inside an inline code span of the current line. */
  #inCode = false;
  #sawCall = false;
  #out: ParseEvent[] = [];
  readonly #openers: readonly string[];

  /** Raw text of the block being read (for fallbacks and error messages). */
  #raw: string[] = [];
  /** The block being read is inside a code fence. */
  #fenced = false;
  #fenceInfo = 0;
  #gap = 0;

  #scan = new Scanner();
  // First-key detection of a JSON block.
  #fk: FirstKey = "start";
  #key = "";
  #name = "";
  #undecided = 0;
  #jsonStart = 0;

  // Tag state.
  #tagName?: string;
  #tagClosers: string[] = [];
  #tagOpener = "";
  #valueDone = false;
  #prose = 0;
  #attrs = "";
  #thinkCloser = "";
  #tasksLen = 0;

  constructor(readonly options: ParserOptions) {
    this.#openers = options.tasks ? [...OPENERS, "<tasks>"] : OPENERS;
  }

  /** Reads the next piece of the answer. */
  push(chunk: string): ParseEvent[] {
    const s = this.#hold === "" ? chunk : this.#hold + chunk;
    this.#hold = "";
    let i = 0;
    while (i < s.length) {
      switch (this.#mode) {
        case "text":
          i = this.#text(s, i);
          break;
        case "fenceInfo":
          i = this.#fenceInfoStep(s, i);
          break;
        case "fenceHead":
          i = this.#fenceHead(s, i);
          break;
        case "json":
          i = this.#json(s, i);
          break;
        case "fenceAfter":
          i = this.#fenceAfter(s, i);
          break;
        case "fenceSkip":
          i = this.#fenceSkip(s, i);
          break;
        case "tagAttrs":
          i = this.#tagAttrs(s, i);
          break;
        case "tag":
          i = this.#tag(s, i);
          break;
        case "think":
          i = this.#think(s, i);
          break;
        case "code":
          i = this.#code(s, i);
          break;
        case "tasks":
          i = this.#tasks(s, i);
          break;
        case "ended":
          i = s.length;
          break;
      }
    }
    return this.#take();
  }

  /** The answer is complete: flushes what is held. */
  end(): ParseEvent[] {
    const held = this.#hold;
    this.#hold = "";
    switch (this.#mode) {
      case "text":
      case "think":
      case "code":
        this.#emitText(held);
        break;
      case "fenceInfo":
      case "fenceHead":
        this.#emitText(this.#rawText() + held);
        break;
      case "json":
        if (!this.#decided()) this.#emitText(this.#rawText() + held);
        else this.#broken("truncated", "the answer ended inside the tool call's JSON");
        break;
      case "tagAttrs":
        this.#raw.push(held);
        this.#broken("truncated", "the answer ended inside the tool call's opening tag");
        break;
      case "tag":
        this.#raw.push(held);
        if (this.#tagOpener !== "<function=" && (this.#scan.depth > 0 || this.#scan.quote !== 0)) {
          this.#broken("truncated", "the answer ended before the tool call was complete");
        } else {
          this.#finishTag(true);
        }
        break;
      case "tasks":
      case "fenceAfter":
      case "fenceSkip":
      case "ended":
        break;
    }
    this.#mode = "ended";
    return this.#take();
  }

  #take(): ParseEvent[] {
    const out = this.#out;
    if (out.length === 0) return out;
    this.#out = [];
    return out;
  }

  #emitText(text: string): void {
    if (text === "") return;
    const last = this.#out[this.#out.length - 1];
    if (last?.type === "text") last.text += text;
    else this.#out.push({ type: "text", text });
  }

  #rawText(): string {
    const t = this.#raw.join("");
    this.#raw = [];
    return t;
  }

  /** What was held for the block is not markup after all: it goes out as text. */
  #rawAsText(): void {
    const t = this.#rawText();
    this.#emitText(t);
    this.#after(t);
  }

  #broken(reason: "truncated" | "invalid", detail: string): void {
    this.#sawCall = true;
    this.#out.push({ type: "broken", raw: this.#rawText(), reason, detail });
  }

  /** Marks the text state after text that ends with `text`. */
  #after(text: string): void {
    if (text === "") return;
    this.#lineStart = text.charCodeAt(text.length - 1) === NL;
    this.#inCode = false;
  }

  // --- plain text ---

  #text(s: string, i: number): number {
    const n = s.length;
    const start = i;
    while (i < n) {
      if (!this.#lineStart) {
        // Mid-line only "<", backticks (inline code) and the line end matter.
        const c0 = s.charCodeAt(i);
        if (c0 !== LT && c0 !== NL && c0 !== BACKTICK) {
          let j = n;
          if (i + 1 < n) {
            NEXT_MARK.lastIndex = i + 1;
            if (NEXT_MARK.exec(s)) j = NEXT_MARK.lastIndex - 1;
          }
          i = j;
          if (i >= n) break;
        }
      }
      const c = s.charCodeAt(i);
      if (c === LT && !this.#inCode) {
        const m = matchAt(s, i, this.#openers);
        if (m === PARTIAL) {
          this.#emitText(s.slice(start, i));
          this.#hold = s.slice(i);
          return n;
        }
        if (m !== undefined) {
          if (RESULT_TAGS.includes(m)) {
            if (this.#sawCall) {
              this.#emitText(s.slice(start, i));
              this.#mode = "ended";
              this.#out.push({ type: "end" });
              return n;
            }
          } else {
            this.#emitText(s.slice(start, i));
            return this.#open(m, i);
          }
        }
      } else if (c === BACKTICK) {
        if (this.#lineStart) {
          const fence = fenceAt(s, i);
          if (fence === PARTIAL) {
            this.#emitText(s.slice(start, i));
            this.#hold = s.slice(i);
            return n;
          }
          if (fence) {
            this.#emitText(s.slice(start, i));
            this.#raw = ["```"];
            this.#mode = "fenceInfo";
            this.#fenceInfo = 0;
            return i + 3;
          }
        }
        // A tag inside inline code (`<tool_call>`) is text.
        this.#inCode = !this.#inCode;
      } else if ((c === LBRACE || c === LBRACKET) && this.#lineStart) {
        this.#emitText(s.slice(start, i));
        this.#startJson(false);
        return i;
      }
      if (c === NL) {
        this.#lineStart = true;
        this.#inCode = false;
      } else if (c !== SP && c !== TAB && c !== CR) {
        this.#lineStart = false;
      }
      i++;
    }
    this.#emitText(s.slice(start, n));
    return n;
  }

  #open(m: string, i: number): number {
    const next = i + m.length;
    switch (m) {
      case "<think>":
      case "<thinking>":
        this.#emitText(m);
        this.#after(m);
        this.#thinkCloser = m === "<think>" ? "</think>" : "</thinking>";
        this.#mode = "think";
        return next;
      case "<tasks>":
        this.#raw = [m];
        this.#tasksLen = 0;
        this.#mode = "tasks";
        return next;
      case "<tool_call ":
      case "<function=":
        this.#raw = [m];
        this.#tagOpener = m;
        this.#attrs = "";
        this.#mode = "tagAttrs";
        return next;
      default:
        this.#raw = [m];
        this.#startTag(m, undefined);
        return next;
    }
  }

  // --- code fences ---

  #fenceInfoStep(s: string, i: number): number {
    const n = s.length;
    const start = i;
    while (i < n) {
      const c = s.charCodeAt(i);
      if (c === NL) {
        this.#raw.push(s.slice(start, i + 1));
        this.#mode = "fenceHead";
        this.#gap = 0;
        return i + 1;
      }
      if (c === BACKTICK || ++this.#fenceInfo > MAX_FENCE_INFO) {
        // Inline code or a long first line: not a block this parser cares about.
        this.#raw.push(s.slice(start, i));
        this.#rawAsText();
        // The opening ``` began an inline code span.
        this.#inCode = c === BACKTICK;
        this.#mode = "text";
        return i;
      }
      i++;
    }
    this.#raw.push(s.slice(start, n));
    return n;
  }

  #fenceHead(s: string, i: number): number {
    const n = s.length;
    const start = i;
    while (i < n) {
      const c = s.charCodeAt(i);
      if (isWs(c) && ++this.#gap <= MAX_FENCE_GAP) {
        i++;
        continue;
      }
      this.#raw.push(s.slice(start, i));
      if (c === LBRACE || c === LBRACKET) {
        this.#startJson(true);
        return i;
      }
      if (c === LT) {
        const m = matchAt(s, i, ["<tool_call>", "<tool_calls>"]);
        if (m === PARTIAL) {
          this.#hold = s.slice(i);
          return n;
        }
        if (m !== undefined) {
          this.#raw.push(m);
          this.#startTag(m, undefined);
          this.#fenced = true;
          return i + m.length;
        }
      }
      // An ordinary code block: it goes out as text, untouched until its closing fence.
      this.#rawAsText();
      this.#mode = "code";
      return i;
    }
    this.#raw.push(s.slice(start, n));
    return n;
  }

  #code(s: string, i: number): number {
    const n = s.length;
    const start = i;
    while (i < n) {
      if (!this.#lineStart) {
        NEXT_NL.lastIndex = i;
        i = NEXT_NL.exec(s) ? NEXT_NL.lastIndex - 1 : n;
        if (i >= n) break;
      }
      const c = s.charCodeAt(i);
      if (c === BACKTICK && this.#lineStart) {
        const fence = fenceAt(s, i);
        if (fence === PARTIAL) {
          this.#emitText(s.slice(start, i));
          this.#hold = s.slice(i);
          return n;
        }
        if (fence) {
          this.#emitText(s.slice(start, i + 3));
          this.#mode = "text";
          this.#lineStart = false;
          return i + 3;
        }
      }
      if (c === NL) this.#lineStart = true;
      else if (c !== SP && c !== TAB && c !== CR) this.#lineStart = false;
      i++;
    }
    this.#emitText(s.slice(start, n));
    return n;
  }

  #fenceAfter(s: string, i: number): number {
    const n = s.length;
    while (i < n) {
      const c = s.charCodeAt(i);
      if (isWs(c) || c === 44) {
        i++;
        continue;
      }
      if (c === BACKTICK) {
        const fence = fenceAt(s, i);
        if (fence === PARTIAL) {
          this.#hold = s.slice(i);
          return n;
        }
        if (fence) {
          this.#mode = "text";
          this.#lineStart = false;
          return i + 3;
        }
      }
      if (c === LBRACE || c === LBRACKET) {
        this.#startJson(true);
        return i;
      }
      this.#mode = "fenceSkip";
      return i;
    }
    return n;
  }

  #fenceSkip(s: string, i: number): number {
    const at = s.indexOf("```", i);
    if (at >= 0) {
      this.#mode = "text";
      this.#lineStart = false;
      return at + 3;
    }
    const tail = s.endsWith("``") ? 2 : s.endsWith("`") ? 1 : 0;
    this.#hold = s.slice(s.length - tail);
    return s.length;
  }

  // --- a JSON object or list at the start of a line or a fence ---

  #startJson(fenced: boolean): void {
    this.#mode = "json";
    this.#fenced = fenced;
    this.#scan.reset();
    this.#fk = "start";
    this.#key = "";
    this.#name = "";
    this.#undecided = 0;
    this.#jsonStart = this.#raw.reduce((a, r) => a + r.length, 0);
  }

  #decided(): boolean {
    return this.#fk === "byName" || this.#fk === "byKey";
  }

  /** Rejects the block: what was held goes out as text. */
  #rejectJson(s: string, start: number, i: number): number {
    this.#raw.push(s.slice(start, i));
    this.#rawAsText();
    this.#mode = this.#fenced ? "code" : "text";
    return i;
  }

  /** Advances the first-key check by one character; returns the decision. */
  #firstKey(c: number, inString: boolean, closedString: boolean): "more" | "yes" | "no" {
    switch (this.#fk) {
      case "start":
        this.#fk = c === LBRACKET ? "arr" : "key";
        return "more";
      case "arr":
        if (isWs(c)) return "more";
        if (c === LBRACE) {
          this.#fk = "key";
          return "more";
        }
        return "no";
      case "key":
        if (isWs(c)) return "more";
        if (c === DQ || c === SQ) {
          this.#fk = "keyStr";
          return "more";
        }
        if (isIdentPart(c)) {
          this.#fk = "keyIdent";
          this.#key = String.fromCharCode(c);
          return "more";
        }
        return "no";
      case "keyStr":
        if (closedString) {
          this.#fk = "colon";
          return "more";
        }
        this.#key += String.fromCharCode(c);
        return this.#key.length > 40 ? "no" : "more";
      case "keyIdent":
        if (isIdentPart(c)) {
          this.#key += String.fromCharCode(c);
          return this.#key.length > 40 ? "no" : "more";
        }
        this.#fk = "colon";
        return this.#firstKey(c, inString, closedString);
      case "colon":
        if (isWs(c)) return "more";
        if (c === 58) {
          this.#fk = "val";
          return CALL_FIRST_KEYS.has(this.#key) ? "more" : "no";
        }
        return "no";
      case "val":
        if (isWs(c)) return "more";
        if (c === DQ || c === SQ) {
          if (NAME_FIRST_KEYS.has(this.#key) || this.#key === "function") {
            this.#fk = "name";
            return "more";
          }
          return "no";
        }
        if ((c === LBRACE || c === LBRACKET) && !NAME_FIRST_KEYS.has(this.#key)) {
          this.#fk = "byKey";
          return "yes";
        }
        return "no";
      case "name":
        if (closedString) {
          if (!this.options.isTool(this.#name)) return "no";
          this.#fk = "byName";
          return "yes";
        }
        if (inString) this.#name += String.fromCharCode(c);
        return this.#name.length > 128 ? "no" : "more";
    }
    return "no";
  }

  #json(s: string, i: number): number {
    const n = s.length;
    const start = i;
    while (i < n) {
      const c = s.charCodeAt(i);
      const wasQuote = this.#scan.quote;
      const closed = this.#scan.feed(c);
      if (!this.#decided()) {
        const inString = wasQuote !== 0 && this.#scan.quote !== 0;
        const closedString = wasQuote !== 0 && this.#scan.quote === 0;
        const d = this.#firstKey(c, inString, closedString);
        if (d === "no" || (d === "more" && ++this.#undecided > MAX_UNDECIDED_JSON)) {
          return this.#rejectJson(s, start, i);
        }
      }
      i++;
      if (closed) {
        // Decided or not, a complete value is read as a whole.
        this.#raw.push(s.slice(start, i));
        this.#finishJson();
        return i;
      }
    }
    this.#raw.push(s.slice(start, n));
    return n;
  }

  #finishJson(): void {
    const raw = this.#raw.join("");
    const json = raw.slice(this.#jsonStart);
    let calls: RawCall[] | undefined;
    let error: LooseJsonError | undefined;
    try {
      calls = callsFromValue(parseLooseJson(json));
    } catch (err) {
      if (!(err instanceof LooseJsonError)) throw err;
      error = err;
    }
    const decided = this.#decided();
    const byName = this.#fk === "byName";
    if (calls && (byName || calls.every((c) => c.name && this.options.isTool(c.name)))) {
      this.#raw = [];
      this.#sawCall = true;
      this.#out.push({ type: "calls", raw, calls });
      this.#mode = this.#fenced ? "fenceAfter" : "text";
      this.#lineStart = false;
      return;
    }
    if (decided && error) {
      this.#broken("invalid", `the tool call's JSON cannot be read (${error.message})`);
      this.#mode = this.#fenced ? "fenceAfter" : "text";
      this.#lineStart = false;
      return;
    }
    // Looked like data, not a call: it is text.
    this.#raw = [];
    this.#emitText(raw);
    this.#after(raw);
    this.#mode = this.#fenced ? "code" : "text";
  }

  // --- <tool_call> blocks ---

  #startTag(opener: string, name: string | undefined): void {
    this.#mode = "tag";
    this.#fenced = false;
    this.#tagName = name;
    this.#tagOpener = opener;
    this.#tagClosers = opener === "<function=" ? ["</function>"] : TOOL_CALL_CLOSERS;
    this.#scan.reset();
    this.#valueDone = false;
    this.#prose = 0;
  }

  #tagAttrs(s: string, i: number): number {
    const n = s.length;
    const gt = s.indexOf(">", i);
    const end = gt < 0 ? n : gt;
    this.#attrs += s.slice(i, end);
    if (this.#attrs.length > MAX_TAG_ATTRS) {
      // Not a tag after all.
      this.#raw.push(s.slice(i, end));
      this.#rawAsText();
      this.#mode = "text";
      return end;
    }
    if (gt < 0) {
      this.#raw.push(s.slice(i, n));
      return n;
    }
    this.#raw.push(s.slice(i, gt + 1));
    const attrs = this.#attrs;
    let name: string | undefined;
    if (this.#tagOpener === "<function=") {
      name = attrs.trim().replace(/^["']|["']$/g, "");
    } else {
      const m = /\bname\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s/>]+))/.exec(attrs);
      name = m ? (m[1] ?? m[2] ?? m[3]) : undefined;
    }
    if (attrs.trimEnd().endsWith("/")) {
      // <tool_call name="x" />: a call without arguments.
      const raw = this.#rawText();
      this.#sawCall = true;
      if (name) this.#out.push({ type: "calls", raw, calls: [{ name, args: {} }] });
      else this.#out.push({ type: "broken", raw, reason: "invalid", detail: "no tool name" });
      this.#mode = "text";
      this.#lineStart = false;
      return gt + 1;
    }
    this.#startTag(this.#tagOpener, name);
    return gt + 1;
  }

  #tag(s: string, i: number): number {
    if (this.#tagOpener === "<function=") return this.#functionTag(s, i);
    const n = s.length;
    const scan = this.#scan;
    let start = i;
    while (i < n) {
      const c = s.charCodeAt(i);
      if (scan.quote !== 0 || scan.depth > 0) {
        if (scan.feed(c)) this.#valueDone = true;
        i++;
        continue;
      }
      if (c === LT) {
        const m = matchAt(s, i, TAG_STOPS);
        if (m === PARTIAL) {
          this.#raw.push(s.slice(start, i));
          this.#hold = s.slice(i);
          return n;
        }
        if (m !== undefined) {
          if (this.#tagClosers.includes(m)) {
            this.#raw.push(s.slice(start, i + m.length));
            this.#finishTag(false);
            return i + m.length;
          }
          if (TAG_OPENERS.includes(m) && !this.#valueDone && this.#prose === 0) {
            if (m === "<tool_call>") {
              // <tool_calls><tool_call>...: the outer wrapper adds nothing.
              this.#raw.push(s.slice(start, i + m.length));
              start = i + m.length;
              i = start;
              continue;
            }
            // <tool_call><function=x>...: the inner tag is the call.
            this.#raw = [];
            return this.#open(m, i);
          }
          // A new call or a tool result begins: this block ended without its closing tag.
          this.#raw.push(s.slice(start, i));
          this.#finishTag(false);
          return i;
        }
        this.#prose++;
        i++;
        continue;
      }
      if (c === LBRACE || c === LBRACKET) {
        scan.feed(c);
        i++;
        continue;
      }
      if (isWs(c) || c === 44 || c === BACKTICK) {
        i++;
        continue;
      }
      if (this.#valueDone) {
        // Text after the JSON without a closing tag: the block ended there.
        this.#raw.push(s.slice(start, i));
        this.#finishTag(false);
        return i;
      }
      if (++this.#prose > MAX_TAG_PROSE) {
        // Prose that merely mentions the tag.
        this.#raw.push(s.slice(start, i));
        this.#rawAsText();
        this.#mode = "text";
        return i;
      }
      i++;
    }
    this.#raw.push(s.slice(start, n));
    return n;
  }

  /** `<function=x>` bodies end at `</function>` (their parameters may hold any text). */
  #functionTag(s: string, i: number): number {
    const closer = "</function>";
    const at = s.indexOf(closer, i);
    if (at >= 0) {
      this.#raw.push(s.slice(i, at + closer.length));
      this.#finishTag(false);
      return at + closer.length;
    }
    const keep = partialMatchAtEnd(s, closer, i);
    this.#raw.push(s.slice(i, s.length - keep));
    this.#hold = s.slice(s.length - keep);
    return s.length;
  }

  #finishTag(atEnd: boolean): void {
    const raw = this.#rawText();
    const fenced = this.#fenced;
    this.#mode = fenced ? "fenceAfter" : "text";
    this.#lineStart = false;
    this.#sawCall = true;
    const r = readTagBody(raw, this.#tagName, this.#tagOpener === "<function=");
    if ("calls" in r) this.#out.push({ type: "calls", raw, calls: r.calls });
    else {
      const reason = r.truncated || (atEnd && !this.#valueDone) ? "truncated" : "invalid";
      this.#out.push({ type: "broken", raw, reason, detail: r.error });
    }
  }

  // --- <think> and <tasks> ---

  #think(s: string, i: number): number {
    const closer = this.#thinkCloser;
    const at = s.indexOf(closer, i);
    if (at >= 0) {
      this.#emitText(s.slice(i, at + closer.length));
      this.#mode = "text";
      this.#after(closer);
      return at + closer.length;
    }
    const keep = partialMatchAtEnd(s, closer, i);
    this.#emitText(s.slice(i, s.length - keep));
    this.#hold = s.slice(s.length - keep);
    return s.length;
  }

  #tasks(s: string, i: number): number {
    const closer = "</tasks>";
    const at = s.indexOf(closer, i);
    if (at >= 0) {
      this.#raw.push(s.slice(i, at + closer.length));
      const raw = this.#rawText();
      let value: unknown;
      try {
        value = parseLooseJson(raw.slice("<tasks>".length, raw.length - closer.length));
      } catch (err) {
        if (!(err instanceof LooseJsonError)) throw err;
      }
      this.#out.push({ type: "tasks", raw, value });
      this.#mode = "text";
      this.#lineStart = false;
      return at + closer.length;
    }
    const keep = partialMatchAtEnd(s, closer, i);
    this.#raw.push(s.slice(i, s.length - keep));
    this.#tasksLen += s.length - keep - i;
    this.#hold = s.slice(s.length - keep);
    if (this.#tasksLen > MAX_TASKS) {
      this.#raw.push(this.#hold);
      this.#hold = "";
      this.#rawAsText();
      this.#mode = "text";
    }
    return s.length;
  }
}

const NAME_LIKE = /^[A-Za-z_][\w.\-:]*$/;

/**
 * Reads the calls inside one tag block (`raw` includes the tags): JSON values, optionally after a
 * tool name, in or out of a fence; or `<parameter=p>v</parameter>` elements of a `<function=x>`.
 */
export function readTagBody(
  raw: string,
  nameAttr: string | undefined,
  functionTag: boolean,
): { calls: RawCall[] } | { error: string; truncated?: boolean } {
  const open = raw.indexOf(">") + 1;
  let body = raw.slice(open);
  body = body.replace(/<\/(tool_calls?|function_call|function)>\s*$/, "");
  if (functionTag && body.includes("<parameter=")) {
    if (!nameAttr) return { error: "the <function=...> tag has no tool name" };
    const args: Record<string, string> = {};
    const re = /<parameter=([^>\s]+)>([\s\S]*?)(?:<\/parameter>|(?=<parameter=)|$)/g;
    for (const m of body.matchAll(re)) args[m[1].replace(/^["']|["']$/g, "")] = m[2].trim();
    return { calls: [{ name: nameAttr, args }] };
  }
  const values: unknown[] = [];
  const words: string[] = [];
  let i = 0;
  while (i < body.length) {
    const c = body.charCodeAt(i);
    if (isWs(c) || c === 44) {
      i++;
    } else if (c === LBRACE || c === LBRACKET) {
      try {
        const r = readLooseJson(body, i);
        values.push(r.value);
        i = r.end;
      } catch (err) {
        if (!(err instanceof LooseJsonError)) throw err;
        return {
          error: err.truncated
            ? "the tool call's JSON is not complete"
            : `the tool call's JSON cannot be read (${err.message})`,
          truncated: err.truncated,
        };
      }
    } else if (c === BACKTICK) {
      // A fence: skip it and its info word.
      while (i < body.length && body.charCodeAt(i) === BACKTICK) i++;
      while (i < body.length && isIdentPart(body.charCodeAt(i))) i++;
    } else {
      let j = i;
      while (j < body.length && !isWs(body.charCodeAt(j)) && body[j] !== "{" && body[j] !== "[") {
        j++;
      }
      if (values.length === 0) words.push(body.slice(i, j));
      i = j;
    }
  }
  const hint = nameAttr ?? (words.length === 1 && NAME_LIKE.test(words[0]) ? words[0] : undefined);
  if (values.length === 0) {
    if (hint) return { calls: [{ name: hint, args: {} }] };
    return { error: "the tool call block holds no JSON object" };
  }
  const calls: RawCall[] = [];
  for (const v of values) {
    const cs = callsFromValue(v, values.length === 1 ? hint : undefined);
    if (!cs) {
      return { error: 'the tool call must be a JSON object with "name" and "arguments"' };
    }
    calls.push(...cs);
  }
  return { calls };
}
