/**
 * The `<think>` and `<tasks>` readers on their own: what passes on at once, what is held, and
 * the bounds and endings.
 */
import { assertEquals } from "../../assert.ts";
import { TasksReader } from "../../../src/toolcall/parser/tasks_block.ts";
import { ThinkReader } from "../../../src/toolcall/parser/think.ts";
import { Recorder } from "./recorder.ts";

Deno.test("think: passes on at once up to its own closer; markup inside is text", () => {
  const host = new Recorder();
  const think = new ThinkReader(host);
  think.start("<thinking>");
  assertEquals(think.read("a <tool_call>{}</tool_call> </think> b </thin", 0), 45);
  assertEquals(host.take(), [
    ["text", "a <tool_call>{}</tool_call> </think> b "],
    ["hold", "</thin"],
  ]);
  assertEquals(think.read("</thinking>x", 0), 11);
  assertEquals(host.take(), [["text", "</thinking>"], ["toText"]]);
  think.start("<think>");
  think.end("</th");
  assertEquals(host.take(), [["text", "</th"]]);
});

Deno.test("tasks: the plan is one event; unreadable plans have no value", () => {
  const host = new Recorder(undefined, true);
  const tasks = new TasksReader(host);
  tasks.start();
  assertEquals(tasks.read('[{"tool": "get_time"}]</tas', 0), 27);
  assertEquals(host.take(), [["hold", "</tas"]]);
  assertEquals(tasks.read("</tasks>\n", 0), 8);
  assertEquals(host.take(), [
    ["emit", {
      type: "tasks",
      raw: '<tasks>[{"tool": "get_time"}]</tasks>',
      value: [{ tool: "get_time" }],
    }],
    ["toText"],
  ]);
  tasks.start();
  tasks.read("[oops</tasks>", 0);
  assertEquals(host.take()[0], ["emit", {
    type: "tasks",
    raw: "<tasks>[oops</tasks>",
    value: undefined,
  }]);
});

Deno.test("tasks: bounded; a plan cut off is dropped", () => {
  const host = new Recorder(undefined, true);
  const tasks = new TasksReader(host);
  tasks.start();
  const big = "x".repeat(16_384);
  assertEquals(tasks.read(big, 0), big.length);
  assertEquals(host.take(), [["hold", ""]]);
  // Released up to the first character past the limit; the text reader goes on from there.
  assertEquals(tasks.read("y</", 0), 1);
  assertEquals(host.take(), [["release", "<tasks>" + big + "y", "text"]]);
  tasks.start();
  tasks.read("[1, 2", 0);
  host.take();
  tasks.end();
  assertEquals(host.take(), []);
});
