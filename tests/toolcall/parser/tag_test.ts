/**
 * The tag readers on their own: the opening tag's attributes, where a `<tool_call>` body ends
 * (its closing tag outside strings, or the next markup or text after the JSON when the model
 * forgot it), when it is prose after all, `<function=x>` bodies, and how a finished block's
 * event is classified.
 */
import { assertEquals } from "../../assert.ts";
import { FunctionTagReader } from "../../../src/toolcall/parser/function_tag.ts";
import { TagReader } from "../../../src/toolcall/parser/tag.ts";
import { tagBlockEvent } from "../../../src/toolcall/parser/tag_body.ts";
import { TagOpenReader } from "../../../src/toolcall/parser/tag_open.ts";
import { Recorder } from "./recorder.ts";

function opening(opener: string, s: string): { host: Recorder; at: number } {
  const host = new Recorder();
  const r = new TagOpenReader(host);
  r.start(opener);
  return { host, at: r.read(s, 0) };
}

Deno.test("tag attributes: the tool name, quoted or not, and the body starts", () => {
  for (const attrs of [`name="get_time">`, `name='get_time' id=1>`, `id="1" name=get_time>`]) {
    const { host, at } = opening("<tool_call ", attrs + "{}");
    assertEquals(at, attrs.length);
    assertEquals(host.calls, [["startTag", "<tool_call " + attrs, "get_time", false]]);
  }
  const f = opening("<function=", `"get_weather">{`);
  assertEquals(f.host.calls, [["startFunction", `<function="get_weather">`, "get_weather"]]);
});

Deno.test("tag attributes: self-closing is a call without arguments; no name is broken", () => {
  const a = opening("<tool_call ", `name="get_time" />x`);
  assertEquals(a.at, 18);
  assertEquals(a.host.calls, [
    ["emit", {
      type: "calls",
      raw: `<tool_call name="get_time" />`,
      calls: [{ name: "get_time", args: {} }],
    }],
    ["toText"],
  ]);
  const b = opening("<tool_call ", `/>`);
  assertEquals(b.host.calls, [
    ["emit", { type: "broken", raw: "<tool_call />", reason: "invalid", detail: "no tool name" }],
    ["toText"],
  ]);
});

Deno.test("tag attributes: bounded; a cut-off tag is a truncated call", () => {
  const long = "x".repeat(301);
  const a = opening("<tool_call ", long + ">");
  assertEquals(a.at, 301);
  assertEquals(a.host.calls, [["release", "<tool_call " + long, "text"]]);
  const host = new Recorder();
  const r = new TagOpenReader(host);
  r.start("<tool_call ");
  assertEquals(r.read(`name="get`, 0), 9);
  r.end("");
  assertEquals(host.calls, [["emit", {
    type: "broken",
    raw: `<tool_call name="get`,
    reason: "truncated",
    detail: "the answer ended inside the tool call's opening tag",
  }]]);
});

function body(
  s: string,
  name?: string,
  fenced = false,
): { host: Recorder; at: number; tag: TagReader } {
  const host = new Recorder();
  const tag = new TagReader(host);
  tag.start("<tool_call>", name, fenced);
  return { host, at: tag.read(s, 0), tag };
}

Deno.test("tag body: the closing tag ends it, not one inside a string", () => {
  const s = '{"name": "get_time", "arguments": {"q": "</tool_call>"}}</tool_call>after';
  const { host, at } = body(s, undefined, true);
  assertEquals(at, s.length - 5);
  assertEquals(host.calls, [
    ["emit", {
      type: "calls",
      raw: "<tool_call>" + s.slice(0, -5),
      calls: [{ name: "get_time", args: { q: "</tool_call>" } }],
    }],
    ["afterBlock", true],
  ]);
});

Deno.test("tag body: without its closing tag it ends where the next markup or text begins", () => {
  const json = '{"name": "get_time", "arguments": {}}';
  // At the next call's tag: reading goes on there.
  const a = body(json + "\n<tool_call>");
  assertEquals(a.at, json.length + 1);
  assertEquals(a.host.calls.map((c) => c[0]), ["emit", "afterBlock"]);
  // At text after the complete JSON.
  const b = body(json + "\nDone.");
  assertEquals(b.at, json.length + 1);
  assertEquals((b.host.calls[0][1] as { type: string }).type, "calls");
});

Deno.test("tag body: a wrapper's inner <tool_call> belongs to it; an inner <function=x> is the call", () => {
  const s = '\n<tool_call>{"name": "get_time"}</tool_calls>';
  const a = body(s);
  assertEquals(a.at, s.length);
  assertEquals(a.host.calls[0][1], {
    type: "calls",
    raw: "<tool_call>" + s,
    calls: [{ name: "get_time", args: {} }],
  });
  const b = body("\n<function=get_time>{}</function>");
  // Handed over at the inner tag (the recorder goes on after it).
  assertEquals(b.at, 11);
  assertEquals(b.host.calls, [["open", "<function=", 1]]);
});

Deno.test("tag body: more than 200 characters of prose before any JSON is text", () => {
  const prose = "p".repeat(200);
  const a = body(prose);
  assertEquals([a.at, a.host.calls], [200, []]);
  const b = body(prose + "q");
  assertEquals([b.at, b.host.calls], [200, [["release", "<tool_call>" + prose, "text"]]]);
});

Deno.test("tag body: cut off inside its JSON is truncated; after it, read as it is", () => {
  const a = body('{"name": "get_time", "arguments": {"q": "x');
  a.tag.end("");
  assertEquals((a.host.calls[0][1] as { reason: string }).reason, "truncated");
  const b = body('{"name": "get_time", "arguments": {}}\n');
  b.tag.end("</tool_");
  assertEquals(b.host.calls[0][1], {
    type: "calls",
    raw: '<tool_call>{"name": "get_time", "arguments": {}}\n</tool_',
    calls: [{ name: "get_time", args: {} }],
  });
});

Deno.test("function tag: only </function> ends it; a cut-off closer is held", () => {
  const host = new Recorder();
  const f = new FunctionTagReader(host);
  f.start("<function=get_weather>", "get_weather");
  const s = "<parameter=city>Paris</parameter></funct";
  assertEquals(f.read(s, 0), s.length);
  assertEquals(host.take(), [["hold", "</funct"]]);
  assertEquals(f.read("</function>x", 0), 11);
  assertEquals(host.take(), [
    ["emit", {
      type: "calls",
      raw: "<function=get_weather><parameter=city>Paris</parameter></function>",
      calls: [{ name: "get_weather", args: { city: "Paris" } }],
    }],
    ["afterBlock", false],
  ]);
});

Deno.test("tag block event: unreadable is truncated when the answer cut the block off", () => {
  const raw = "<tool_call>\n\n</tool_call>";
  const detail = "the tool call block holds no JSON object";
  assertEquals(tagBlockEvent(raw, undefined, false, false), {
    type: "broken",
    raw,
    reason: "invalid",
    detail,
  });
  assertEquals(tagBlockEvent(raw, undefined, false, true), {
    type: "broken",
    raw,
    reason: "truncated",
    detail,
  });
  // Incomplete JSON is truncated either way.
  const cut = '<tool_call>{"name": "x", "arguments": {</tool_call>';
  assertEquals(
    (tagBlockEvent(cut, undefined, false, false) as { reason: string }).reason,
    "truncated",
  );
});
