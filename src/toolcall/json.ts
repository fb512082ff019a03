/**
 * A forgiving JSON reader for what models write: standard JSON plus trailing commas, missing
 * commas, single-quoted strings, unquoted keys, Python literals (`True`, `False`, `None`),
 * comments, raw line breaks inside strings and unknown escapes. It reads one value at a position
 * and says where it ended, so several values in a row can be read in one pass.
 *
 * @module
 */

/** Why a text is not a value: broken (`syntax`) or cut off before its end (`truncated`). */
export class LooseJsonError extends Error {
  constructor(message: string, readonly at: number, readonly truncated: boolean) {
    super(message);
    this.name = "LooseJsonError";
  }
}

const MAX_DEPTH = 256;

const LITERALS: Record<string, unknown> = {
  true: true,
  false: false,
  null: null,
  True: true,
  False: false,
  None: null,
  undefined: null,
};

const ESCAPES: Record<string, string> = {
  n: "\n",
  t: "\t",
  r: "\r",
  b: "\b",
  f: "\f",
  v: "\v",
  "0": "\0",
};

function isIdentStart(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 36 || c > 127;
}

/** True for a character of a bare word: a key (`city`, `unit-name`) or a tool name. */
export function isIdentPart(c: number): boolean {
  return isIdentStart(c) || (c >= 48 && c <= 57) || c === 45;
}

/** Sets `key` on `obj` as an own property, even `__proto__`. */
export function setKey(obj: Record<string, unknown>, key: string, value: unknown): void {
  if (key === "__proto__") {
    Object.defineProperty(obj, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  } else {
    obj[key] = value;
  }
}

class Reader {
  i: number;
  constructor(readonly s: string, start: number) {
    this.i = start;
  }

  fail(message: string): never {
    throw new LooseJsonError(message, this.i, false);
  }

  eof(): never {
    throw new LooseJsonError("unexpected end of input", this.i, true);
  }

  /** Skips white space and comments. */
  ws(): void {
    const s = this.s;
    while (this.i < s.length) {
      const c = s.charCodeAt(this.i);
      if (c === 32 || c === 10 || c === 13 || c === 9 || c === 0xa0 || c === 0xfeff) {
        this.i++;
      } else if (c === 47 && s.charCodeAt(this.i + 1) === 47) {
        const nl = s.indexOf("\n", this.i);
        this.i = nl < 0 ? s.length : nl + 1;
      } else if (c === 47 && s.charCodeAt(this.i + 1) === 42) {
        const end = s.indexOf("*/", this.i + 2);
        if (end < 0) this.eof();
        this.i = end + 2;
      } else {
        return;
      }
    }
  }

  value(depth: number): unknown {
    if (depth > MAX_DEPTH) this.fail("nested too deeply");
    this.ws();
    if (this.i >= this.s.length) this.eof();
    const c = this.s.charCodeAt(this.i);
    if (c === 123) return this.object(depth);
    if (c === 91) return this.array(depth);
    if (c === 34 || c === 39) return this.string(c);
    if (c === 45 || c === 43 || c === 46 || (c >= 48 && c <= 57)) return this.number();
    if (isIdentStart(c)) {
      const word = this.ident();
      if (Object.hasOwn(LITERALS, word)) return LITERALS[word];
      if (this.i >= this.s.length && Object.keys(LITERALS).some((l) => l.startsWith(word))) {
        this.eof();
      }
      this.i -= word.length;
      this.fail(`unexpected word "${word}"`);
    }
    this.fail(`unexpected character "${this.s[this.i]}"`);
  }

  object(depth: number): Record<string, unknown> {
    const obj: Record<string, unknown> = {};
    this.i++;
    while (true) {
      this.ws();
      if (this.i >= this.s.length) this.eof();
      const c = this.s.charCodeAt(this.i);
      if (c === 125) {
        this.i++;
        return obj;
      }
      if (c === 44) {
        // Stray or trailing comma.
        this.i++;
        continue;
      }
      let key: string;
      if (c === 34 || c === 39) key = this.string(c);
      else if (isIdentPart(c)) key = this.ident();
      else this.fail(`expected a key, found "${this.s[this.i]}"`);
      this.ws();
      if (this.i >= this.s.length) this.eof();
      const colon = this.s.charCodeAt(this.i);
      if (colon === 58 || colon === 61) this.i++;
      else this.fail(`expected ":" after key "${key}"`);
      setKey(obj, key, this.value(depth + 1));
      this.ws();
      if (this.i >= this.s.length) this.eof();
      const sep = this.s.charCodeAt(this.i);
      if (sep === 44) this.i++;
      else if (sep !== 125 && sep !== 34 && sep !== 39 && !isIdentStart(sep)) {
        this.fail(`expected "," or "}", found "${this.s[this.i]}"`);
      }
    }
  }

  array(depth: number): unknown[] {
    const arr: unknown[] = [];
    this.i++;
    while (true) {
      this.ws();
      if (this.i >= this.s.length) this.eof();
      const c = this.s.charCodeAt(this.i);
      if (c === 93) {
        this.i++;
        return arr;
      }
      if (c === 44) {
        this.i++;
        continue;
      }
      arr.push(this.value(depth + 1));
      this.ws();
      if (this.i >= this.s.length) this.eof();
      const sep = this.s.charCodeAt(this.i);
      if (sep === 44) this.i++;
      else if (sep !== 93 && sep !== 123 && sep !== 91 && sep !== 34 && sep !== 39) {
        this.fail(`expected "," or "]", found "${this.s[this.i]}"`);
      }
    }
  }

  string(quote: number): string {
    const s = this.s;
    let out = "";
    let start = ++this.i;
    while (true) {
      if (this.i >= s.length) this.eof();
      const c = s.charCodeAt(this.i);
      if (c === quote) {
        out += s.slice(start, this.i);
        this.i++;
        return out;
      }
      if (c !== 92) {
        this.i++;
        continue;
      }
      out += s.slice(start, this.i);
      this.i++;
      if (this.i >= s.length) this.eof();
      const e = s[this.i];
      if (e === "u") {
        const hex = s.slice(this.i + 1, this.i + 5);
        if (hex.length < 4) this.eof();
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail(`bad unicode escape "\\u${hex}"`);
        out += String.fromCharCode(parseInt(hex, 16));
        this.i += 5;
      } else {
        // Unknown escapes (\' \/ \$ ...) stand for the character itself.
        out += ESCAPES[e] ?? e;
        this.i++;
      }
      start = this.i;
    }
  }

  number(): number {
    const s = this.s;
    const start = this.i;
    if (s[this.i] === "-" || s[this.i] === "+") this.i++;
    while (this.i < s.length && /[0-9.eE+\-_]/.test(s[this.i])) this.i++;
    const text = s.slice(start, this.i).replaceAll("_", "");
    const n = Number(text);
    if (text === "" || text === "-" || text === "+" || !Number.isFinite(n)) {
      if (this.i >= s.length) this.eof();
      this.fail(`bad number "${text}"`);
    }
    return n;
  }

  ident(): string {
    const s = this.s;
    const start = this.i;
    while (this.i < s.length && isIdentPart(s.charCodeAt(this.i))) this.i++;
    return s.slice(start, this.i);
  }
}

/**
 * Reads one value starting at `start` (white space first is skipped) and returns it with the
 * index just after it. Throws `LooseJsonError` (with `truncated` when the text ended inside it).
 */
export function readLooseJson(text: string, start = 0): { value: unknown; end: number } {
  const r = new Reader(text, start);
  const value = r.value(0);
  return { value, end: r.i };
}

/** Parses `text` as one value (trailing white space allowed); throws `LooseJsonError`. */
export function parseLooseJson(text: string): unknown {
  const r = new Reader(text, 0);
  const value = r.value(0);
  r.ws();
  if (r.i < text.length) r.fail(`unexpected text after the value: "${text.slice(r.i, r.i + 20)}"`);
  return value;
}
