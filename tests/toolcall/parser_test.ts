/**
 * The streaming parser: answers split at every position give the same result as in one piece,
 * and plain text is never held back beyond what could start the markup.
 */
import { assert, assertEquals } from "../assert.ts";
import { type ParseEvent, readTagBody, ToolCallParser } from "../../src/toolcall/parser/mod.ts";

const TOOLS = new Set(["get_weather", "get_time", "search_web"]);

function parser(tasks = false) {
  return new ToolCallParser({ isTool: (n) => TOOLS.has(n), tasks });
}

/** Events with adjacent texts merged (text boundaries depend on chunking, nothing else may). */
function normalize(events: ParseEvent[]): ParseEvent[] {
  const out: ParseEvent[] = [];
  for (const e of events) {
    const last = out[out.length - 1];
    if (e.type === "text" && last?.type === "text") last.text += e.text;
    else out.push(e.type === "text" ? { ...e } : e);
  }
  return out;
}

function parse(pieces: string[], tasks = false): ParseEvent[] {
  const p = parser(tasks);
  const out: ParseEvent[] = [];
  for (const piece of pieces) out.push(...p.push(piece));
  out.push(...p.end());
  return normalize(out);
}

const SAMPLES = [
  'Sure, let me check.\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>\nDone.',
  '```json\n{"name": "get_weather", "arguments": {"city": "Paris", "note": "a } brace"}}\n```\ntail',
  'Here:\n```json\n{"name": "Alice", "age": 3}\n```\nand `<tool_call>` in code.',
  '<tool_call>{"name":"get_time","arguments":{"timezone":"UTC"}}</tool_call><tool_call>{"name":"search_web","arguments":{"query":"</tool_call>"}}</tool_call>',
  '<think>maybe <tool_call>{"name":"x"}</tool_call></think>\n{"name": "get_time", "arguments": {}}',
  "<tool_call>\n{'name': 'get_weather', 'arguments': {'city': 'Rome',},}\n",
  '<tool_call name="get_time">{"timezone": "UTC"}</tool_call>\n<tool_result name="get_time">12:00</tool_result>',
  "<function=get_weather><parameter=city>\nLyon\n</parameter></function>",
  '[1] note\n[{"name": "get_weather", "arguments": {"city": "Nice"}}]\n- item <b>bold</b>',
  '<tasks>[{"tool": "get_weather", "task": "weather"}]</tasks>\n<tool_call>{"name": "get_weather", "arguments": {"city": "Oslo"}}</tool_call>',
  '天气如何？<tool_call>\n{"name": "get_weather", "arguments": {"city": "北京"}}\n</tool_call>',
  '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Par',
  '😀 <b>x</b> 🎉\n<tool_call>{"name": "get_time", "arguments": {"tz": "🌍"}}</tool_call>',
];

Deno.test("parser: every split point gives the same events as one piece", () => {
  for (const sample of SAMPLES) {
    const whole = parse([sample], true);
    for (let i = 0; i <= sample.length; i++) {
      assertEquals(
        parse([sample.slice(0, i), sample.slice(i)], true),
        whole,
        `split at ${i} of ${sample}`,
      );
    }
    // Every character its own chunk, and three-way splits at a few positions.
    assertEquals(parse([...sample], true), whole, `one char at a time: ${sample}`);
    for (let i = 1; i < sample.length; i += 7) {
      for (let j = i; j < sample.length; j += 11) {
        assertEquals(
          parse([sample.slice(0, i), sample.slice(i, j), sample.slice(j)], true),
          whole,
        );
      }
    }
  }
});

Deno.test("parser: the samples read as intended", () => {
  const [a, b, c, d, e, f, g, h, i, j, k, l] = SAMPLES.map((s) => parse([s], true));
  assertEquals(a.map((x) => x.type), ["text", "calls", "text"]);
  assertEquals((a[0] as { text: string }).text, "Sure, let me check.\n");
  assertEquals((a[1] as { calls: unknown }).calls, [{
    name: "get_weather",
    args: { city: "Paris" },
  }]);
  assertEquals((b[0] as { calls: unknown }).calls, [
    { name: "get_weather", args: { city: "Paris", note: "a } brace" } },
  ]);
  assertEquals(c, [{ type: "text", text: SAMPLES[2] }]);
  assertEquals(d.filter((x) => x.type === "calls").length, 2);
  assertEquals((d[1] as { calls: { args: unknown }[] }).calls[0].args, { query: "</tool_call>" });
  assertEquals(e.map((x) => x.type), ["text", "calls"]);
  assertEquals((f[0] as { calls: unknown }).calls, [{
    name: "get_weather",
    args: { city: "Rome" },
  }]);
  assertEquals(g.map((x) => x.type), ["calls", "text", "end"]);
  assertEquals((h[0] as { calls: unknown }).calls, [{
    name: "get_weather",
    args: { city: "Lyon" },
  }]);
  assertEquals(i.map((x) => x.type), ["text", "calls", "text"]);
  assertEquals(j.map((x) => x.type), ["tasks", "text", "calls"]);
  assertEquals((j[0] as { value: unknown }).value, [{ tool: "get_weather", task: "weather" }]);
  assertEquals(k.map((x) => x.type), ["text", "calls"]);
  assertEquals(l, [{
    type: "broken",
    raw: SAMPLES[11],
    reason: "truncated",
    detail: "the answer ended before the tool call was complete",
  }]);
});

Deno.test("parser: plain text goes out at once, nothing held back", () => {
  const p = parser();
  const text = "The weather is fine (really) and 2 > 1; {not json} [x] `code` #h\nsecond line";
  for (const ch of text) {
    const out = p.push(ch);
    // A line start holds `{`, `[` and backticks one character at most; everything else passes.
    if (ch === "<") continue;
    assertEquals(normalize(out).map((e) => e.type === "text" ? e.text : "?").join(""), ch);
  }
  assertEquals(p.end(), []);
});

Deno.test("parser: only what could start the markup is held", () => {
  const p = parser();
  assertEquals(p.push("Let me look <tool_c"), [{ type: "text", text: "Let me look " }]);
  // Not the markup after all: released at once.
  assertEquals(p.push("ool>"), [{ type: "text", text: "<tool_cool>" }]);
  assertEquals(p.push(" and <b"), [{ type: "text", text: " and <b" }]);
  assertEquals(p.end(), []);
});

Deno.test("parser: a JSON block at a line start is held only until its first key decides", () => {
  const p = parser();
  assertEquals(p.push('{"status": "o'), [{ type: "text", text: '{"status": "o' }]);
  const p2 = parser();
  // First key "name" with an unknown tool: text as soon as the name is complete.
  assertEquals(p2.push('{"name": "Alic'), []);
  assertEquals(p2.push('e", "age": 3}'), [{ type: "text", text: '{"name": "Alice", "age": 3}' }]);
  const p3 = parser();
  // A declared tool: held to the end of the object, then a call.
  assertEquals(p3.push('{"name": "get_time", "arg'), []);
  assertEquals(p3.push('uments": {"timezone": "UTC"}}').map((e) => e.type), ["calls"]);
});

Deno.test("parser: a code block that is not a call streams after its first line", () => {
  const q = parser();
  // The fence line is held until the first significant character shows it is not JSON.
  assertEquals(q.push("```python\n"), []);
  assertEquals(normalize(q.push("print(1)\n")), [{ type: "text", text: "```python\nprint(1)\n" }]);
  // Inside the block nothing is read as markup.
  assertEquals(normalize(q.push('<tool_call>{"name": "get_time"}</tool_call>\n')), [
    { type: "text", text: '<tool_call>{"name": "get_time"}</tool_call>\n' },
  ]);
  assertEquals(normalize([...q.push("```\n"), ...q.end()]), [{ type: "text", text: "```\n" }]);
});

Deno.test("parser: linear work: a long answer in 1-byte chunks", () => {
  // Not a timing test: the work per character is bounded, so this finishes quickly; a quadratic
  // parser would take minutes here.
  const line = "Some prose with <b>tags</b>, {braces}, [brackets] and `code`.\n";
  const text = line.repeat(4000) +
    '<tool_call>{"name": "get_time", "arguments": {"timezone": "UTC"}}</tool_call>';
  const p = parser();
  let chars = 0;
  let calls = 0;
  for (let i = 0; i < text.length; i++) {
    for (const e of p.push(text[i])) {
      if (e.type === "text") chars += e.text.length;
      if (e.type === "calls") calls++;
    }
  }
  p.end();
  assertEquals(chars, line.length * 4000);
  assertEquals(calls, 1);
});

Deno.test("readTagBody: shapes inside a block", () => {
  assertEquals(
    readTagBody('<tool_call>get_time\n{"timezone": "UTC"}</tool_call>', undefined, false),
    {
      calls: [{ name: "get_time", args: { timezone: "UTC" } }],
    },
  );
  assertEquals(readTagBody("<tool_call>\n\n</tool_call>", undefined, false), {
    error: "the tool call block holds no JSON object",
  });
  const r = readTagBody(
    '<tool_call>{"name": "x", "arguments": {"a": 1</tool_call>',
    undefined,
    false,
  );
  assert("error" in r && r.truncated === true);
  assertEquals(
    readTagBody(
      "<function=f><parameter=a>\n 1 \n</parameter><parameter=b>x</parameter></function>",
      "f",
      true,
    ),
    { calls: [{ name: "f", args: { a: "1", b: "x" } }] },
  );
});

Deno.test("parser: an over-long opening tag or plan is cut at its limit whatever the chunking (fuzz finding)", () => {
  const call = '<tool_call>{"name":"get_time","arguments":{}}</tool_call>';
  const answers = [
    // Attributes past their limit: prose, and the call after it is still read.
    `<function=${"x".repeat(320)}\n${call}`,
    `<tool_call name="${"y".repeat(500)}\n${call}`,
    // A plan past its limit: text, closed or not, and the call after it is still read.
    `<tasks>${"z".repeat(20_000)}</tasks>${call}`,
    `<tasks>${"z".repeat(16_385)}${call}`,
  ];
  for (const text of answers) {
    const whole = parse([text], true);
    assertEquals(whole.at(-1)?.type, "calls", text.slice(0, 20));
    assertEquals(parse([...text], true), whole, `one char at a time: ${text.slice(0, 20)}`);
    const pieces: string[] = [];
    for (let i = 0; i < text.length; i += 997) pieces.push(text.slice(i, i + 997));
    assertEquals(parse(pieces, true), whole, `997 at a time: ${text.slice(0, 20)}`);
  }
});
