/**
 * The code-fence readers on their own: the fence head's decision and its bounds, the code block
 * closing only at a line start, and what the fence tail keeps after a call (more calls) and
 * drops (the rest up to the closing fence).
 */
import { assertEquals } from "../../assert.ts";
import { CodeReader } from "../../../src/toolcall/parser/code.ts";
import { FenceHeadReader } from "../../../src/toolcall/parser/fence_head.ts";
import { FenceTailReader } from "../../../src/toolcall/parser/fence_tail.ts";
import { Recorder } from "./recorder.ts";

/** A fence head that read "```" and then `s` (in calls to `read` while it keeps reading). */
function head(s: string): { host: Recorder; at: number } {
  const host = new Recorder();
  const r = new FenceHeadReader(host);
  r.start();
  let i = 0;
  while (i < s.length && host.calls.every((c) => c[0] === "text")) i = r.read(s, i);
  return { host, at: i };
}

Deno.test("fence head: JSON or a <tool_call> after the info line is a block in the fence", () => {
  const json = head("json\n  \n{");
  assertEquals(json.at, 8);
  assertEquals(json.host.calls, [["startJson", "```json\n  \n", true]]);
  const tag = head("\n<tool_calls>{");
  assertEquals(tag.at, 13);
  assertEquals(tag.host.calls, [["startTag", "```\n<tool_calls>", undefined, true]]);
});

Deno.test("fence head: anything else is an ordinary code block", () => {
  const py = head("python\n  print(1)");
  assertEquals(py.at, 9);
  assertEquals(py.host.calls, [["release", "```python\n  ", "code"]]);
  // A `<` that is not a fenced call tag is code too.
  assertEquals(head("html\n<b>").host.calls, [["release", "```html\n", "code"]]);
});

Deno.test("fence head: inline code and long lines are no block", () => {
  assertEquals(head("x``` more").host.calls, [["release", "```x", "span"]]);
  const info = "a".repeat(40);
  assertEquals(head(info + "\n").host.calls, []);
  assertEquals(head(info + "a\n").host.calls, [["release", "```" + info, "text"]]);
  // At most 200 blanks between the info line and the content.
  assertEquals(head("\n" + " ".repeat(200) + "{").host.calls, [
    ["startJson", "```\n" + " ".repeat(200), true],
  ]);
  assertEquals(head("\n" + " ".repeat(201) + "{").host.calls, [
    ["release", "```\n" + " ".repeat(200), "code"],
  ]);
});

Deno.test("fence head: a cut-off tag is held; an undecided end is text", () => {
  const host = new Recorder();
  const r = new FenceHeadReader(host);
  r.start();
  // The info line and the gap after it in one call.
  assertEquals(r.read("json\n<tool_c", 0), 12);
  assertEquals(host.take(), [["hold", "<tool_c"]]);
  r.end("<tool_c");
  assertEquals(host.take(), [["text", "```json\n<tool_c"]]);
});

Deno.test("code: only a fence at a line start closes the block", () => {
  const host = new Recorder();
  const code = new CodeReader(host);
  code.start(true);
  const s = 'x = "```"\n<tool_call>\n  ```\nafter';
  assertEquals(code.read(s, 0), 27);
  assertEquals(host.take(), [["text", 'x = "```"\n<tool_call>\n  ```'], ["toText"]]);
  // Not at a line start: the fence right at the start is code.
  code.start(false);
  assertEquals(code.read("```\n``", 0), 6);
  assertEquals(host.take(), [["text", "```\n"], ["hold", "``"]]);
});

Deno.test("fence tail: more calls after blanks and commas, then the closing fence", () => {
  const host = new Recorder();
  const tail = new FenceTailReader(host);
  tail.start();
  assertEquals(tail.read(" ,\n {", 0), 4);
  assertEquals(host.take(), [["startJson", "", true]]);
  tail.start();
  assertEquals(tail.read("\n```\ntext", 0), 4);
  assertEquals(host.take(), [["toText"]]);
});

Deno.test("fence tail: commentary in the fence is dropped up to the closing fence", () => {
  const host = new Recorder();
  const tail = new FenceTailReader(host);
  tail.start();
  const s = "\n# the call above gets the time {x}\n`";
  assertEquals(tail.read(s, 0), 1);
  assertEquals(tail.read(s, 1), s.length);
  assertEquals(host.take(), [["hold", "`"]]);
  assertEquals(tail.read("```\nmore", 0), 3);
  assertEquals(host.take(), [["toText"]]);
  // An unclosed fence: nothing of it is text.
  tail.end();
  assertEquals(host.take(), []);
});
