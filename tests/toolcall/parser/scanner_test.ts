/**
 * The JSON scanner and the markup matchers on their own: where a value ends despite brackets and
 * quotes inside strings, and when a chunk's end leaves a marker undecided (`PARTIAL`).
 */
import { assertEquals } from "../../assert.ts";
import { JsonScanner } from "../../../src/toolcall/parser/scanner.ts";
import {
  fenceAt,
  matchAt,
  OPENERS,
  PARTIAL,
  TAG_OPENERS,
} from "../../../src/toolcall/parser/markup.ts";

/** The index at which the scanner says the outermost value closed, or -1. */
function closesAt(text: string): number {
  const scan = new JsonScanner();
  for (let i = 0; i < text.length; i++) if (scan.feed(text.charCodeAt(i))) return i;
  return -1;
}

Deno.test("scanner: the outermost value ends at its own bracket", () => {
  assertEquals(closesAt('{"a": [1, {"b": 2}]} tail'), 19);
  assertEquals(closesAt('{"a": "}]"}'), 10);
  assertEquals(closesAt("{'a': '}', \"b\": \"'\"}"), 19);
  assertEquals(closesAt('{"a": "\\"}"}'), 11);
  assertEquals(closesAt('{"a": "\\\\"}'), 10);
  assertEquals(closesAt('{"a": "}'), -1);
  assertEquals(closesAt("[[]"), -1);
});

Deno.test("scanner: reset forgets an open string", () => {
  const scan = new JsonScanner();
  for (const c of '{"a\\') scan.feed(c.charCodeAt(0));
  assertEquals([scan.depth, scan.quote !== 0, scan.esc], [1, true, true]);
  scan.reset();
  assertEquals([scan.depth, scan.quote, scan.esc], [0, 0, false]);
  assertEquals(scan.feed("}".charCodeAt(0)), false);
});

Deno.test("markup: a marker cut off by the chunk's end is partial, only then", () => {
  assertEquals(matchAt("x<tool_call>", 1, OPENERS), "<tool_call>");
  assertEquals(matchAt("x<tool_calls>", 1, OPENERS), "<tool_calls>");
  assertEquals(matchAt("<tool_c", 0, OPENERS), PARTIAL);
  assertEquals(matchAt("<", 0, OPENERS), PARTIAL);
  assertEquals(matchAt("<tool_cx", 0, OPENERS), undefined);
  assertEquals(matchAt("<b>", 0, OPENERS), undefined);
  // "<tool_call>" is complete although "<tool_calls>" could still follow: the shorter wins.
  assertEquals(matchAt("<tool_call>", 0, TAG_OPENERS), "<tool_call>");
  assertEquals(fenceAt("a```", 1), true);
  assertEquals(fenceAt("``", 0), PARTIAL);
  assertEquals(fenceAt("`x", 0), false);
  assertEquals(fenceAt("``x`", 0), false);
});
