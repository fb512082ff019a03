/**
 * Finds the in-message markers in one text and removes them: `<!-- comments -->`, `<![CDATA[ ]]>`
 * sections (unwrapped; what they hold is never read as a marker), and the known tags, either
 * self-closing (`<tool enabled id="a b" />`) or with a body (`<regex order=2>a:b</regex>`).
 * Attribute values may be quoted ("..." or '...') and then hold spaces and `>`; unquoted values
 * end at white space. Unknown tags are left alone. One pass over the text: a tag that turns out
 * not to be a marker (no `>`, no closing tag) costs a look to the end of the text, so such looks
 * share a budget of a few times the text's length; past it, no further tags are tried (a text
 * built to make each `<` look to the end, such as thousands of unclosed `<regex>`, stays linear).
 *
 * @module
 */

/** An attribute value: bare `attr` is true; `true`/`false`, numbers are typed; quoted is text. */
export type AttrValue = string | number | boolean;

/** One marker found in a text. */
export interface Marker {
  /** The tag name (`tool`, `regex`, `@-1`, ...). */
  name: string;
  attrs: Record<string, AttrValue>;
  /** The text between the tags (CDATA unwrapped), or undefined for a self-closing tag. */
  body?: string;
}

/** Tags that are markers only with a body. */
const BODY_TAGS: ReadonlySet<string> = new Set(["regex", "matcher", "histories"]);
/** Tags that never take a body (`<pad>` alone counts as `<pad />`). */
const EMPTY_TAGS: ReadonlySet<string> = new Set([
  "debug",
  "pad",
  "notebook",
  "char_sequences",
  "tool",
  "echo",
]);

function isMarkerName(name: string): boolean {
  return BODY_TAGS.has(name) || EMPTY_TAGS.has(name) || /^@-?\d+$/.test(name);
}

const CDATA_OPEN = "<![CDATA[";
const CDATA_CLOSE = "]]>";

/** Failed looks for a tag's end may cover this many times the text's length (plus a base). */
const LOOK_BUDGET_FACTOR = 8;
const LOOK_BUDGET_BASE = 1 << 20;

/** `s` with CDATA sections unwrapped. */
export function unwrapCdata(s: string): string {
  if (!s.includes(CDATA_OPEN)) return s;
  let out = "";
  let i = 0;
  while (i < s.length) {
    const at = s.indexOf(CDATA_OPEN, i);
    if (at < 0) break;
    const end = s.indexOf(CDATA_CLOSE, at + CDATA_OPEN.length);
    if (end < 0) break;
    out += s.slice(i, at) + s.slice(at + CDATA_OPEN.length, end);
    i = end + CDATA_CLOSE.length;
  }
  return out + s.slice(i);
}

function typed(raw: string): AttrValue {
  if (raw === "true") return true;
  if (raw === "false") return false;
  if (/^-?\d+(\.\d+)?$/.test(raw)) return Number(raw);
  return raw;
}

/**
 * Reads the attributes of a tag from `i` (just after its name) to its `>`. Returns undefined when
 * the text ends first.
 */
function readAttrs(
  s: string,
  i: number,
): { attrs: Record<string, AttrValue>; end: number; selfClosing: boolean } | undefined {
  const attrs: Record<string, AttrValue> = {};
  const n = s.length;
  while (i < n) {
    while (i < n && /\s/.test(s[i])) i++;
    if (i >= n) return undefined;
    if (s[i] === ">") return { attrs, end: i + 1, selfClosing: false };
    if (s.startsWith("/>", i)) return { attrs, end: i + 2, selfClosing: true };
    const nameStart = i;
    while (i < n && /[^\s=/>]/.test(s[i])) i++;
    const name = s.slice(nameStart, i);
    if (name === "") {
      // A lone "/" or "=": skip it.
      i++;
      continue;
    }
    while (i < n && /\s/.test(s[i])) i++;
    if (s[i] !== "=") {
      attrs[name] = true;
      continue;
    }
    i++;
    while (i < n && /\s/.test(s[i])) i++;
    if (i >= n) return undefined;
    if (s.startsWith(CDATA_OPEN, i)) {
      const end = s.indexOf(CDATA_CLOSE, i);
      if (end < 0) return undefined;
      attrs[name] = s.slice(i + CDATA_OPEN.length, end);
      i = end + CDATA_CLOSE.length;
    } else if (s[i] === '"' || s[i] === "'") {
      const end = s.indexOf(s[i], i + 1);
      if (end < 0) return undefined;
      attrs[name] = unwrapCdata(s.slice(i + 1, end));
      i = end + 1;
    } else {
      const start = i;
      while (i < n && /[^\s>]/.test(s[i]) && !s.startsWith("/>", i)) i++;
      attrs[name] = typed(s.slice(start, i));
    }
  }
  return undefined;
}

/** Where the body of `<name ...>` opened before `from` ends: the index of its `</name>`. */
function findClose(s: string, from: number, name: string): number {
  const open = `<${name}`;
  const close = `</${name}>`;
  let depth = 1;
  let i = from;
  while (i < s.length) {
    const lt = s.indexOf("<", i);
    if (lt < 0) return -1;
    if (s.startsWith(CDATA_OPEN, lt)) {
      const end = s.indexOf(CDATA_CLOSE, lt);
      if (end < 0) return -1;
      i = end + CDATA_CLOSE.length;
      continue;
    }
    if (s.startsWith(close, lt)) {
      if (--depth === 0) return lt;
      i = lt + close.length;
      continue;
    }
    if (s.startsWith(open, lt) && /[\s/>]/.test(s[lt + open.length] ?? "")) depth++;
    i = lt + 1;
  }
  return -1;
}

/** The text without its markers, and the markers in order. */
export function extractMarkers(s: string): { text: string; markers: Marker[]; changed: boolean } {
  const markers: Marker[] = [];
  let out = "";
  let i = 0;
  let last = 0;
  let changed = false;
  // Once a comment or CDATA section has no end, none after it has one either.
  let commentsEnd = true;
  let cdataEnds = true;
  let budget = LOOK_BUDGET_FACTOR * s.length + LOOK_BUDGET_BASE;
  while (i < s.length) {
    const lt = s.indexOf("<", i);
    if (lt < 0) break;
    i = lt;
    if (s.startsWith("<!--", i)) {
      const end = commentsEnd ? s.indexOf("-->", i + 4) : -1;
      if (end < 0) {
        commentsEnd = false;
        i++;
        continue;
      }
      out += s.slice(last, i);
      i = last = end + 3;
      changed = true;
      continue;
    }
    if (s.startsWith(CDATA_OPEN, i)) {
      const end = cdataEnds ? s.indexOf(CDATA_CLOSE, i + CDATA_OPEN.length) : -1;
      if (end < 0) {
        cdataEnds = false;
        i++;
        continue;
      }
      out += s.slice(last, i) + s.slice(i + CDATA_OPEN.length, end);
      i = last = end + CDATA_CLOSE.length;
      changed = true;
      continue;
    }
    const m = budget > 0 ? /^<(@-?\d+|[a-z_]+)(?=[\s/>])/.exec(s.slice(i, i + 40)) : null;
    if (!m || !isMarkerName(m[1])) {
      i++;
      continue;
    }
    const name = m[1];
    const a = readAttrs(s, i + m[0].length);
    if (!a) {
      budget -= s.length - i;
      i++;
      continue;
    }
    let end = a.end;
    let body: string | undefined;
    if (!a.selfClosing && !EMPTY_TAGS.has(name)) {
      const close = findClose(s, a.end, name);
      if (close < 0) {
        budget -= s.length - i;
        i++;
        continue;
      }
      body = unwrapCdata(s.slice(a.end, close));
      end = close + name.length + 3;
    } else if (!a.selfClosing && EMPTY_TAGS.has(name)) {
      // `<pad></pad>` is `<pad />` too.
      const close = `</${name}>`;
      if (s.startsWith(close, a.end)) end = a.end + close.length;
    }
    out += s.slice(last, i);
    markers.push({ name, attrs: a.attrs, body });
    i = last = end;
    changed = true;
  }
  out += s.slice(last);
  return { text: out, markers, changed };
}
