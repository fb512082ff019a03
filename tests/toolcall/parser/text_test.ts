/**
 * The plain-text reader on its own, against a recording host: where it hands over (and at which
 * index), what it passes on before, and what it holds back.
 */
import { assertEquals } from "../../assert.ts";
import { OPENERS } from "../../../src/toolcall/parser/markup.ts";
import { TextReader } from "../../../src/toolcall/parser/text.ts";
import { Recorder } from "./recorder.ts";

function reader(tasks = false): { host: Recorder; text: TextReader } {
  const host = new Recorder(undefined, tasks);
  return { host, text: new TextReader(host, tasks ? [...OPENERS, "<tasks>"] : OPENERS) };
}

Deno.test("text reader: JSON is handed over only at a line start, after blanks", () => {
  const { host, text } = reader();
  const s = "a {x} [y]\n \t{z";
  assertEquals(text.read(s, 0), 12);
  assertEquals(host.take(), [["text", "a {x} [y]\n \t"], ["startJson", "", false]]);
  // The first character of an answer is a line start.
  const r = reader();
  assertEquals(r.text.read("[1]", 0), 0);
  assertEquals(r.host.take(), [["startJson", "", false]]);
});

Deno.test("text reader: a fence opens only at a line start; mid-line backticks are inline code", () => {
  const { host, text } = reader();
  assertEquals(text.read("x ``` <tool_call> ``` y\n```json", 0), 27);
  assertEquals(host.take(), [["text", "x ``` <tool_call> ``` y\n"], ["startFence"]]);
});

Deno.test("text reader: a tag inside inline code is text; the span ends with the line", () => {
  const { host, text } = reader();
  const s = "use `<tool_call>` and `<think>\n<think>";
  assertEquals(text.read(s, 0), s.length);
  assertEquals(host.take(), [["text", "use `<tool_call>` and `<think>\n"], [
    "open",
    "<think>",
    31,
  ]]);
});

Deno.test("text reader: a tool result ends the answer only after a call", () => {
  const { host, text } = reader();
  const s = "see <tool_result> and <tool_response>";
  assertEquals(text.read(s, 0), s.length);
  assertEquals(host.take(), [["text", s]]);
  host.sawCall = true;
  assertEquals(text.read(s, 0), s.length);
  assertEquals(host.take(), [["text", "see "], ["endAnswer"]]);
});

Deno.test("text reader: holds back only an opener or fence cut off by the chunk's end", () => {
  const { host, text } = reader();
  assertEquals(text.read("a <b> <tool_ca", 0), 14);
  assertEquals(host.take(), [["text", "a <b> "], ["hold", "<tool_ca"]]);
  // After a held cut-off, reading goes on mid-line: only a line start could hold a fence.
  assertEquals(text.read("x ``", 0), 4);
  assertEquals(host.take(), [["text", "x ``"]]);
  assertEquals(text.read("\n``", 0), 3);
  assertEquals(host.take(), [["text", "\n"], ["hold", "``"]]);
});

Deno.test("text reader: <tasks> is markup only in tasks mode", () => {
  const plain = reader();
  assertEquals(plain.text.read("<tasks>[]</tasks>", 0), 17);
  assertEquals(plain.host.take(), [["text", "<tasks>[]</tasks>"]]);
  const tasks = reader(true);
  assertEquals(tasks.text.read("<tasks>[]</tasks>", 0), 7);
  assertEquals(tasks.host.take(), [["open", "<tasks>", 0]]);
});

Deno.test("text reader: after, resume and spans set where reading goes on", () => {
  const { host, text } = reader();
  // After text ending in a line feed, a `{` is at a line start.
  text.after("x\n");
  assertEquals(text.read("{", 0), 0);
  // Resumed mid-line, it is not.
  text.resume();
  assertEquals(text.read("{", 0), 1);
  // Inside a span a tag is text until the span closes.
  text.after("``", true);
  assertEquals(text.read("<tool_call>`<tool_call>", 0), 23);
  assertEquals(host.take(), [
    ["startJson", "", false],
    ["text", "{"],
    ["text", "<tool_call>`"],
    ["open", "<tool_call>", 12],
  ]);
});
