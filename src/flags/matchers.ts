/**
 * Stream filters over a provider's events (text only; reasoning and tool calls pass):
 * - `cutOff`: ends the answer where one of some strings appears (stop sequences, role markers of
 *   flattened prompts, `<char_sequences>`), holding back only a partial match at the end of what
 *   came so far; the string itself is not sent.
 * - `RewriteFilter` / `applyMatchers`: the `<matcher>` rewrites: from `find`, hold the text until
 *   `len` more characters (or until `end`) arrived, then replace with a regular expression (run
 *   in the regex pool's child processes, within the request's budget).
 * Both keep a state per choice, look at each character a bounded number of times, and flush what
 * they hold when the upstream ends.
 *
 * @module
 */
import type { ChatEvent } from "../core/events.ts";
import type { MatcherSpec } from "./types.ts";
import { partialMatchAtEnd } from "../util/partial.ts";
import type { RegexRule, RegexSession } from "./regex_pool.ts";

/** Most characters a `<matcher end>` holds; beyond it the block is let go unchanged. */
export const MAX_MATCHER_HOLD = 256 * 1024;

/** Text filter: the answer up to (not including) the first of `needles`. */
class CutState {
  held = "";
  cut = false;
  /** The needle that cut the text. */
  matched?: string;
  started = false;
  afterLeading = false;
  constructor(readonly needles: readonly string[], readonly leading: readonly string[]) {}

  /** Text to send now; sets `cut` when a needle was found. */
  push(text: string): string {
    if (this.cut) return "";
    let s = this.held + text;
    this.held = "";
    if (!this.started && this.leading.length > 0) {
      // The model repeating the prompt's trailing role marker: dropped once.
      const t = s.trimStart();
      if (t === "" || this.leading.some((l) => l.startsWith(t) && l !== t)) {
        this.held = s;
        return "";
      }
      const hit = this.leading.find((l) => t.startsWith(l));
      if (hit) {
        s = t.slice(hit.length);
        this.afterLeading = true;
      }
      this.started = true;
    }
    if (this.afterLeading) {
      // The line break after a dropped marker goes with it.
      s = s.replace(/^[ \t]+/, "");
      if (s === "") return "";
      this.afterLeading = false;
      if (s.startsWith("\r\n")) s = s.slice(2);
      else if (s.startsWith("\n")) s = s.slice(1);
    }
    let at = -1;
    for (const n of this.needles) {
      const i = s.indexOf(n);
      if (i >= 0 && (at < 0 || i < at)) {
        at = i;
        this.matched = n;
      }
    }
    if (at >= 0) {
      this.cut = true;
      this.started = true;
      return s.slice(0, at);
    }
    const keep = partialMatchAtEnd(s, this.needles);
    this.held = s.slice(s.length - keep);
    const out = s.slice(0, s.length - keep);
    if (out !== "") this.started = true;
    return out;
  }

  flush(): string {
    const h = this.held;
    this.held = "";
    if (h !== "") this.started = true;
    return this.cut ? "" : h;
  }
}

/**
 * Ends the answer (per choice) where one of `needles` appears. `leading` strings are dropped once
 * when the answer starts with them (a model repeating the assistant marker). When every choice
 * seen is cut and `stopEarly` is set, the upstream is left (its iterator returned). With
 * `report` set (stop sequences), the finish event of a cut choice names the needle as its
 * `stop_sequence`. With nothing to look for, `events` itself is returned (no extra step per event).
 */
export function cutOff(
  events: AsyncIterable<ChatEvent>,
  needles: readonly string[],
  options: { leading?: readonly string[]; stopEarly?: boolean; report?: boolean } = {},
): AsyncIterable<ChatEvent> {
  const list = needles.filter((n) => n !== "");
  const leading = (options.leading ?? []).filter((n) => n !== "");
  if (list.length === 0 && leading.length === 0) return events;
  return cutOffEach(events, list, leading, options.stopEarly === true, options.report === true);
}

async function* cutOffEach(
  events: AsyncIterable<ChatEvent>,
  list: readonly string[],
  leading: readonly string[],
  stopEarly: boolean,
  report: boolean,
): AsyncGenerator<ChatEvent> {
  const states = new Map<number, CutState>();
  const finished = new Set<number>();
  const state = (c: number) => {
    let s = states.get(c);
    if (!s) states.set(c, s = new CutState(list, leading));
    return s;
  };
  const flush = function* (c: number, st: CutState): Generator<ChatEvent> {
    const t = st.flush();
    if (t !== "") yield { type: "text", text: t, ...(c ? { choice: c } : {}) };
  };
  const cutFinish = (st: CutState): { reason: "stop"; stop_sequence?: string } =>
    report && st.matched !== undefined
      ? { reason: "stop", stop_sequence: st.matched }
      : { reason: "stop" };
  for await (const ev of events) {
    if (ev.type === "usage") {
      yield ev;
      continue;
    }
    const c = ev.choice ?? 0;
    const st = state(c);
    if (ev.type === "text") {
      const out = st.push(ev.text);
      if (out !== "") yield { ...ev, text: out };
      if (st.cut && stopEarly && [...states.values()].every((s) => s.cut)) break;
      continue;
    }
    if (ev.type === "finish") {
      yield* flush(c, st);
      finished.add(c);
      yield st.cut ? { ...ev, ...cutFinish(st) } : ev;
      continue;
    }
    if (st.cut) continue;
    // Any other event ends the text run: what was held is text after all.
    yield* flush(c, st);
    yield ev;
  }
  for (const [c, st] of states) {
    if (finished.has(c)) continue;
    yield* flush(c, st);
    if (st.cut) yield { type: "finish", ...cutFinish(st), ...(c ? { choice: c } : {}) };
  }
}

/** What a filter passes on: text as it is, or a held block to rewrite with its pattern. */
export type Segment = string | { block: string };

/**
 * One `<matcher>`: from `find`, holds `len` characters (or up to `end`), then rewrites them. The
 * state machine is synchronous and runs no pattern itself: blocks to rewrite come out as
 * `{block}` segments, and `applyMatchers` has them rewritten in one call per chunk (the patterns
 * are the client's, so they run where a deadline stops them: `regex_pool.ts`).
 */
export class RewriteFilter {
  /** Not holding: the end of the text that could start `find`. */
  #partial = "";
  #holding = false;
  /** The held block in pieces (joined once, when it ends: never re-copied per chunk). */
  #block: string[] = [];
  #blockLen = 0;
  /** The block's last `end.length - 1` characters: an `end` split across chunks. */
  #tail = "";
  /** The rewrite rule, when the matcher has a pattern. */
  readonly rule?: RegexRule;

  constructor(readonly spec: MatcherSpec) {
    if (spec.pattern !== undefined) {
      this.rule = { pattern: spec.pattern, replacement: spec.replacement ?? "", what: "<matcher>" };
    }
  }

  #apply(block: string): Segment {
    return this.rule ? { block } : block;
  }

  /** Ends the held block; returns it. */
  #release(): string {
    const block = this.#block.join("");
    this.#block = [];
    this.#blockLen = 0;
    this.#tail = "";
    this.#holding = false;
    return block;
  }

  /** Where the held block ends in `s` (the text that follows it), or -1. */
  #blockEnd(s: string): number {
    const { end, find, len } = this.spec;
    if (!end) {
      const want = find.length + (len ?? 5);
      return this.#blockLen + s.length >= want ? want - this.#blockLen : -1;
    }
    const w = this.#tail + s;
    const e = w.indexOf(end);
    if (e >= 0) return e + end.length - this.#tail.length;
    this.#tail = w.slice(Math.max(0, w.length - (end.length - 1)));
    return -1;
  }

  /** What to send now. */
  push(text: string): Segment[] {
    const { find } = this.spec;
    let s = text;
    const out: Segment[] = [];
    while (true) {
      if (!this.#holding) {
        s = this.#partial + s;
        this.#partial = "";
        const at = s.indexOf(find);
        if (at < 0) {
          const keep = partialMatchAtEnd(s, find);
          this.#partial = s.slice(s.length - keep);
          out.push(s.slice(0, s.length - keep));
          return out;
        }
        out.push(s.slice(0, at));
        s = s.slice(at + find.length);
        this.#holding = true;
        this.#block = [find];
        this.#blockLen = find.length;
      }
      const blockEnd = this.#blockEnd(s);
      if (blockEnd < 0) {
        this.#block.push(s);
        this.#blockLen += s.length;
        // Too long without its end: let go unchanged.
        if (this.spec.end && this.#blockLen > MAX_MATCHER_HOLD) out.push(this.#release());
        return out;
      }
      this.#block.push(s.slice(0, blockEnd));
      out.push(this.#apply(this.#release()));
      s = s.slice(blockEnd);
    }
  }

  /** The upstream ended: what is held goes out (rewritten when a match was being held). */
  flush(): Segment[] {
    if (this.#holding) return [this.#apply(this.#release())];
    const p = this.#partial;
    this.#partial = "";
    return [p];
  }
}

/** The text of `segments`, blocks rewritten with `rule` in one call of `regex`. */
async function render(
  segments: Segment[],
  rule: RegexRule | undefined,
  regex: RegexSession | undefined,
): Promise<string> {
  const blocks = segments.filter((s): s is { block: string } => typeof s !== "string");
  if (blocks.length === 0) return (segments as string[]).join("");
  if (!rule || !regex) throw new Error("a <matcher> pattern without a regex session");
  const done = await regex.replace([rule], blocks.map((b) => ({ text: b.block })));
  let i = 0;
  return segments.map((s) => typeof s === "string" ? s : done[i++]).join("");
}

/**
 * Applies the `<matcher>` rewrites, in order, to the text of each choice (none: `events`). The
 * patterns run through `regex` (the request's budget); a chunk costs a call only when a held
 * block completes in it.
 */
export function applyMatchers(
  events: AsyncIterable<ChatEvent>,
  specs: readonly MatcherSpec[],
  regex?: RegexSession,
): AsyncIterable<ChatEvent> {
  return specs.length === 0 ? events : applyEach(events, specs, regex);
}

async function* applyEach(
  events: AsyncIterable<ChatEvent>,
  specs: readonly MatcherSpec[],
  regex: RegexSession | undefined,
): AsyncGenerator<ChatEvent> {
  const chains = new Map<number, RewriteFilter[]>();
  const chain = (c: number) => {
    let ch = chains.get(c);
    if (!ch) chains.set(c, ch = specs.map((s) => new RewriteFilter(s)));
    return ch;
  };
  const run = async (ch: RewriteFilter[], text: string) => {
    let t = text;
    for (const f of ch) t = await render(f.push(t), f.rule, regex);
    return t;
  };
  const flush = async (ch: RewriteFilter[]) => {
    let t = "";
    for (const f of ch) {
      const passed = t === "" ? [] : f.push(t);
      t = await render([...passed, ...f.flush()], f.rule, regex);
    }
    return t;
  };
  for await (const ev of events) {
    if (ev.type === "usage") {
      yield ev;
      continue;
    }
    const c = ev.choice ?? 0;
    const ch = chain(c);
    if (ev.type === "text") {
      const out = await run(ch, ev.text);
      if (out !== "") yield { ...ev, text: out };
      continue;
    }
    if (ev.type === "finish" || ev.type === "tool_call") {
      const t = await flush(ch);
      if (t !== "") yield { type: "text", text: t, ...(c ? { choice: c } : {}) };
    }
    yield ev;
  }
  for (const [c, ch] of chains) {
    const t = await flush(ch);
    if (t !== "") yield { type: "text", text: t, ...(c ? { choice: c } : {}) };
  }
}
