/**
 * The JSON block reader on its own: released the moment its first key says no (in a fence, as a
 * code block), read whole when it says yes, and what a complete value turns into: calls, a
 * broken call, or text when a call in it names no declared tool.
 */
import { assertEquals } from "../../assert.ts";
import { JsonBlockReader } from "../../../src/toolcall/parser/json_block.ts";
import type { ParseEvent } from "../../../src/toolcall/parser/types.ts";
import { Recorder } from "./recorder.ts";

function block(prefix = "", fenced = false): { host: Recorder; json: JsonBlockReader } {
  const host = new Recorder();
  const json = new JsonBlockReader(host);
  json.start(prefix, fenced);
  return { host, json };
}

Deno.test("JSON block: released at the character that decides no", () => {
  const { host, json } = block();
  const s = '{"status": "ok"}';
  assertEquals(json.read(s, 0), 9);
  assertEquals(host.take(), [["release", '{"status"', "text"]]);
  // In a fence, the rest is an ordinary code block.
  const f = block("```json\n", true);
  assertEquals(f.json.read("[1]", 0), 1);
  assertEquals(f.host.take(), [["release", "```json\n[", "code"]]);
});

Deno.test("JSON block: a call is read to the end of its value, across chunks", () => {
  const { host, json } = block("```\n", true);
  const a = '{"name": "get_time", "arguments": {"tz": "}"';
  assertEquals(json.read(a, 0), a.length);
  assertEquals(host.take(), []);
  assertEquals(json.read("}} trailing", 0), 2);
  const raw = "```\n" + a + "}}";
  assertEquals(host.take(), [
    ["emit", { type: "calls", raw, calls: [{ name: "get_time", args: { tz: "}" } }] }],
    ["afterBlock", true],
  ]);
});

Deno.test("JSON block: decided by key, but naming no declared tool: text", () => {
  const { host, json } = block();
  const s = '{"function": {"name": "rm_rf", "arguments": {}}}';
  assertEquals(json.read(s, 0), s.length);
  assertEquals(host.take(), [["release", s, "text"]]);
});

Deno.test("JSON block: decided, but unreadable: broken", () => {
  const { host, json } = block();
  const s = '{"function": {]}';
  assertEquals(json.read(s, 0), s.length);
  const calls = host.take();
  assertEquals(calls.map((c) => c[0]), ["emit", "afterBlock"]);
  const event = calls[0][1] as ParseEvent;
  assertEquals(event.type === "broken" && [event.raw, event.reason], [s, "invalid"]);
});

Deno.test("JSON block: cut off by the answer's end: text while undecided, broken once decided", () => {
  const u = block();
  u.json.read('{"name": "get_t', 0);
  u.json.end("");
  assertEquals(u.host.take(), [["text", '{"name": "get_t']]);
  const d = block();
  d.json.read('{"name": "get_time", "argu', 0);
  d.json.end("");
  assertEquals(d.host.take(), [["emit", {
    type: "broken",
    raw: '{"name": "get_time", "argu',
    reason: "truncated",
    detail: "the answer ended inside the tool call's JSON",
  }]]);
});
