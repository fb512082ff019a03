/** Stream filters: cut-offs and <matcher> rewrites, fed at every split point. */
import { assert, assertEquals } from "../assert.ts";
import {
  applyMatchers,
  cutOff,
  MAX_MATCHER_HOLD,
  RewriteFilter,
  type Segment,
} from "../../src/flags/matchers.ts";
import { RegexPool } from "../../src/flags/regex_pool.ts";
import type { ChatEvent } from "../../src/providers/types.ts";

async function* from(events: ChatEvent[], onReturn?: () => void): AsyncGenerator<ChatEvent> {
  try {
    for (const e of events) yield e;
  } finally {
    onReturn?.();
  }
}

/** A filter's segments as text, blocks rewritten in process (these tests' own patterns). */
function rendered(f: RewriteFilter, segments: Segment[]): string {
  return segments.map((s) =>
    typeof s === "string"
      ? s
      : s.block.replace(new RegExp(f.rule!.pattern, "g"), f.rule!.replacement)
  ).join("");
}

/** The patterns of applyMatchers run in a pool of this file (stopped by the last test). */
const pool = new RegexPool();

const t = (text: string, choice?: number): ChatEvent =>
  choice ? { type: "text", text, choice } : { type: "text", text };

async function run(stream: AsyncIterable<ChatEvent>) {
  const out: ChatEvent[] = [];
  for await (const e of stream) out.push(e);
  const text = new Map<number, string>();
  for (const e of out) {
    if (e.type === "text") text.set(e.choice ?? 0, (text.get(e.choice ?? 0) ?? "") + e.text);
  }
  return { out, text: text.get(0) ?? "", texts: text };
}

function splits(s: string): string[][] {
  const all: string[][] = [[s], [...s]];
  for (let i = 1; i < s.length; i++) all.push([s.slice(0, i), s.slice(i)]);
  return all;
}

Deno.test("cutOff: ends at the first needle at every split point; the needle is not sent", async () => {
  const answer = "The answer is 4.\n<|user|>\nWhat else?";
  for (const parts of splits(answer)) {
    const r = await run(
      cutOff(from([...parts.map((p) => t(p)), { type: "finish", reason: "stop" }]), [
        "<|user|>",
        "<|end|>",
      ]),
    );
    assertEquals(r.text, "The answer is 4.\n", JSON.stringify(parts));
    assertEquals(r.out[r.out.length - 1], { type: "finish", reason: "stop" });
  }
});

Deno.test("cutOff: a partial needle at the end is text after all", async () => {
  for (const parts of splits("a <|us")) {
    const r = await run(cutOff(from(parts.map((p) => t(p))), ["<|user|>"]));
    assertEquals(r.text, "a <|us");
  }
});

Deno.test("cutOff: only the partial match is held back", async () => {
  const it = cutOff(from([t("hello <|"), t("x")]), ["<|user|>"])[Symbol.asyncIterator]();
  assertEquals((await it.next()).value, t("hello "));
  assertEquals((await it.next()).value, t("<|x"));
});

Deno.test("cutOff: a leading assistant marker is dropped once, a later one cuts", async () => {
  for (const parts of splits("<|assistant|>\nHi there.<|assistant|>more")) {
    const r = await run(
      cutOff(from(parts.map((p) => t(p))), ["<|assistant|>"], { leading: ["<|assistant|>"] }),
    );
    assertEquals(r.text, "Hi there.", JSON.stringify(parts));
  }
});

Deno.test("cutOff: stopEarly leaves the upstream; the finish says stop", async () => {
  let returned = false;
  const r = await run(cutOff(
    from(
      [t("one STOP two"), t("three"), { type: "finish", reason: "length" }],
      () => returned = true,
    ),
    ["STOP"],
    { stopEarly: true },
  ));
  assert(returned);
  assertEquals(r.out, [t("one "), { type: "finish", reason: "stop" }]);
});

Deno.test("cutOff: per choice; tool calls after a cut are dropped, usage passes", async () => {
  const r = await run(cutOff(
    from([
      t("a END b", 0),
      t("c d", 1),
      { type: "tool_call", index: 0, id: "x", name: "f", arguments: "{}", choice: 0 },
      t(" END e", 1),
      { type: "usage", prompt_tokens: 1, completion_tokens: 2 },
      { type: "finish", reason: "stop", choice: 1 },
    ]),
    ["END"],
  ));
  assertEquals(r.texts.get(0), "a ");
  assertEquals(r.texts.get(1), "c d ");
  assertEquals(r.out.filter((e) => e.type === "tool_call"), []);
  assert(r.out.some((e) => e.type === "usage"));
  // Choice 0 was cut and never got its finish from upstream: it gets one.
  assertEquals(r.out.filter((e) => e.type === "finish").length, 2);
});

Deno.test("RewriteFilter: find + len holds exactly that much, then rewrites", () => {
  for (const parts of splits("x [[abcdef]] y")) {
    const f = new RewriteFilter({
      find: "[[",
      len: 3,
      pattern: "\\[\\[(\\w+)",
      replacement: "<$1>",
    });
    const out = parts.map((p) => rendered(f, f.push(p))).join("") + rendered(f, f.flush());
    assertEquals(out, "x <abc>def]] y", JSON.stringify(parts));
  }
});

Deno.test("RewriteFilter: find + end holds the block, then rewrites it as a whole", () => {
  const text = "a <img>http://x/1.png</img> b <img>http://x/2.png</img>";
  for (const parts of splits(text)) {
    const f = new RewriteFilter({
      find: "<img>",
      end: "</img>",
      pattern: "<img>(.*?)</img>",
      replacement: "![]($1)",
    });
    const out = parts.map((p) => rendered(f, f.push(p))).join("") + rendered(f, f.flush());
    assertEquals(out, "a ![](http://x/1.png) b ![](http://x/2.png)", JSON.stringify(parts));
  }
});

Deno.test("RewriteFilter: an unterminated block is flushed at the end", () => {
  const f = new RewriteFilter({
    find: "<think>",
    end: "</think>",
    pattern: "<think>[\\s\\S]*",
    replacement: "",
  });
  assertEquals(rendered(f, f.push("visible <think>hidden thoughts")), "visible ");
  assertEquals(rendered(f, f.flush()), "");
  const g = new RewriteFilter({ find: "<", len: 5 });
  assertEquals(rendered(g, g.push("a <b")), "a ");
  assertEquals(rendered(g, g.flush()), "<b");
});

Deno.test("RewriteFilter: a long block in small chunks is rewritten whole; past the hold limit it goes out unchanged", () => {
  const spec = { find: "<a>", end: "</a>", pattern: "<a>(x+)</a>", replacement: "[$1]" };
  const long = "x".repeat(10_000);
  const f = new RewriteFilter(spec);
  let out = rendered(f, f.push("start "));
  // 7-character chunks: `</a>` arrives split across two of them.
  const text = `<a>${long}</a> end`;
  for (let i = 0; i < text.length; i += 7) out += rendered(f, f.push(text.slice(i, i + 7)));
  out += rendered(f, f.flush());
  assertEquals(out, `start [${long}] end`);

  const g = new RewriteFilter(spec);
  const piece = "x".repeat(64 * 1024);
  let held = rendered(g, g.push("<a>"));
  while (held === "") held = rendered(g, g.push(piece));
  // Nothing came out until the block passed the limit, then all of it at once, unrewritten.
  assert(held.length > MAX_MATCHER_HOLD);
  assertEquals(held, "<a>" + piece.repeat((held.length - 3) / piece.length));
  assertEquals(rendered(g, g.push("</a> <a>x</a>")) + rendered(g, g.flush()), "</a> [x]");
});

Deno.test("RewriteFilter: text without the trigger passes at once", () => {
  const f = new RewriteFilter({ find: "<img>", end: "</img>" });
  assertEquals(rendered(f, f.push("plain text ")), "plain text ");
  assertEquals(rendered(f, f.push("ends with <im")), "ends with ");
  assertEquals(rendered(f, f.push("agine")), "<imagine");
});

Deno.test("applyMatchers: chained in order, flushed before tool calls and at the end", async () => {
  const r = await run(applyMatchers(
    from([t("say [[hi]] and <b>x"), {
      type: "tool_call",
      index: 0,
      id: "c",
      name: "f",
      arguments: "",
    }, t("<b>tail")]),
    [
      { find: "[[", end: "]]", pattern: "\\[\\[(.*?)\\]\\]", replacement: "$1!" },
      { find: "<b>", len: 1, pattern: "<b>(.)", replacement: "**$1**" },
    ],
    pool.session(10_000),
  ));
  const at = r.out.findIndex((e) => e.type === "tool_call");
  const before = r.out.slice(0, at).map((e) => e.type === "text" ? e.text : "").join("");
  // What was held when the tool call came went out before it.
  assertEquals(before, "say hi! and **x**");
  assertEquals(r.text, "say hi! and **x****t**ail");
});

Deno.test("matchers_test: the regex pool stops", () => {
  pool.close();
});
