/**
 * The whole parser on generated answers: random sequences of markup fragments (tags, fences,
 * JSON pieces, quotes, line breaks) give the same events whatever the split, at every two-way
 * split and one character at a time. The hand-written samples in ../parser_test.ts check the
 * meaning; this checks that the hand-overs between readers do not depend on chunk boundaries.
 * (Fragments stay below the readers' length limits, which are counted per chunk.)
 */
import { assert, assertEquals } from "../../assert.ts";
import { type ParseEvent, ToolCallParser } from "../../../src/toolcall/parser/mod.ts";

const FRAGMENTS = [
  "<tool_call>",
  "</tool_call>",
  "<tool_calls>",
  "</tool_calls>",
  "</function_call>",
  '<tool_call name="get_time">',
  "<tool_call name='get_weather' />",
  "<tool_call />",
  "<tool_call ",
  "<function=get_weather>",
  "<function=",
  "</function>",
  "<parameter=city>",
  "</parameter>",
  "<think>",
  "</think>",
  "<thinking>",
  "</thinking>",
  "<tasks>",
  '<tasks>[{"tool": "get_time"}]</tasks>',
  "</tasks>",
  "<tool_result>",
  "<tool_response>",
  "<tool_c",
  "```",
  "```json\n",
  "```python\n",
  "``",
  "`",
  "\n",
  "\n\n",
  " ",
  "\t",
  "\r\n",
  ",",
  "{",
  "}",
  "[",
  "]",
  '"',
  "'",
  "\\",
  ":",
  "<",
  ">",
  "/",
  "x",
  "é",
  "😀",
  '{"name": "get_time", "arguments": {"tz": "UTC"}}',
  '{"name": "Alice"',
  '"name"',
  '[{"name": "get_weather", "arguments": {"city": "Nice"}}]',
  '{"tool_calls": [{"name": "x"}]}',
  '{"function": {"name": "get_time", "arguments": {}}}',
  "{name: 'get_time'}",
  '{"status": "ok"}',
  '"</tool_call>"',
  "get_time\n",
  "hello world",
  "[1, 2]",
  '{"arguments": {"a": 1}}',
];
const TOOLS = new Set(["get_weather", "get_time"]);

/** A seeded generator (xorshift32): the same answers on every run. */
function generator(seed: number): (n: number) => number {
  let s = seed;
  return (n) => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s % n;
  };
}

function parse(pieces: string[], tasks: boolean): ParseEvent[] {
  const p = new ToolCallParser({ isTool: (n) => TOOLS.has(n), tasks });
  const out: ParseEvent[] = [];
  for (const e of [...pieces.flatMap((c) => p.push(c)), ...p.end()]) {
    const last = out[out.length - 1];
    if (e.type === "text" && last?.type === "text") last.text += e.text;
    else out.push(e.type === "text" ? { ...e } : e);
  }
  return out;
}

Deno.test("parser: generated answers give the same events at every split", () => {
  const rnd = generator(20260517);
  const kinds = new Set<string>();
  for (let n = 0; n < 300; n++) {
    const parts: string[] = [];
    for (let k = 1 + rnd(12); k > 0; k--) parts.push(FRAGMENTS[rnd(FRAGMENTS.length)]);
    const answer = parts.join("");
    const tasks = rnd(2) === 0;
    const whole = parse([answer], tasks);
    for (const e of whole) kinds.add(e.type);
    for (let i = 1; i < answer.length; i++) {
      assertEquals(parse([answer.slice(0, i), answer.slice(i)], tasks), whole, `${answer} at ${i}`);
    }
    assertEquals(parse([...answer], tasks), whole, answer);
  }
  // The answers reach every kind of event.
  for (const kind of ["text", "calls", "broken", "tasks", "end"]) assert(kinds.has(kind), kind);
});
