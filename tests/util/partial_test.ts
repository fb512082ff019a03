/**
 * The held-back tail of streamed text, checked against the plain definition on many inputs.
 */
import { assertEquals } from "../assert.ts";
import { partialMatchAtEnd } from "../../src/util/partial.ts";

/** The definition: the longest tail (after `from`) that a needle longer than it starts with. */
function byDefinition(s: string, needles: readonly string[], from: number): number {
  for (let k = s.length - from; k > 0; k--) {
    const tail = s.slice(s.length - k);
    if (needles.some((n) => n.length > k && n.startsWith(tail))) return k;
  }
  return 0;
}

Deno.test("partialMatchAtEnd agrees with the definition", () => {
  const needles = ["</tool_call>", "\n\nHuman:", "\n\nAssistant:", "STOP", "x"];
  const texts = [
    "",
    "a",
    "abc </tool",
    "abc </tool_call",
    "abc </tool_call>",
    "hi\n\n",
    "hi\n\nHu",
    "hi\n\nA",
    "ST",
    "STO",
    "STOP",
    "xx",
    "<",
    "</",
    "aaa</tool_ca",
  ];
  for (const s of texts) {
    for (let from = 0; from <= s.length; from++) {
      assertEquals(
        partialMatchAtEnd(s, needles, from),
        byDefinition(s, needles, from),
        `${JSON.stringify(s)} from ${from}`,
      );
      assertEquals(
        partialMatchAtEnd(s, "</tool_call>", from),
        byDefinition(s, ["</tool_call>"], from),
        `${JSON.stringify(s)} from ${from}`,
      );
    }
  }
  assertEquals(partialMatchAtEnd("abc </tool", "</tool_call>"), 6);
  assertEquals(partialMatchAtEnd("say STO", ["STOP"]), 3);
  assertEquals(partialMatchAtEnd("anything", []), 0);
});
