/**
 * The streaming token counter on long answers: past the fold size the pending text is counted
 * and let go, with and without spaces to cut at, and the count still matches counting at once.
 */
import { assert, assertEquals } from "../assert.ts";
import { countTokens, TokenCounter } from "../../src/util/tokens.ts";
import { loadTokenizer } from "../../src/util/tokens.ts";

// Counting tokens needs the tokenizer loaded (the server loads it on its first request).
await loadTokenizer();

function pushed(text: string, piece: number): TokenCounter {
  const counter = new TokenCounter();
  for (let i = 0; i < text.length; i += piece) counter.push(text.slice(i, i + piece));
  return counter;
}

function near(got: number, want: number, share: number): void {
  assert(Math.abs(got - want) <= Math.ceil(want * share), `${got} vs ${want}`);
}

Deno.test("a long English answer in small pieces counts as the whole text", () => {
  const text = "The quick brown fox jumps over the lazy dog.\n".repeat(15_000);
  assert(text.length > 600_000);
  near(pushed(text, 7).total, countTokens(text), 0.001);
});

Deno.test("a long answer without spaces (Chinese) in 3-character pieces counts as the whole", () => {
  const text = "你好世界，今天天气很好。我们去公园散步吧！".repeat(20_000);
  assert(text.length > 400_000 && !text.includes(" ") && !text.includes("\n"));
  near(pushed(text, 3).total, countTokens(text), 0.01);
});

Deno.test("total can be read mid-stream and the count goes on; empty pieces change nothing", () => {
  const counter = new TokenCounter();
  counter.push("hello");
  counter.push("");
  assertEquals(counter.total, countTokens("hello"));
  counter.push(" world");
  assertEquals(counter.total, countTokens("hello world"));
  assertEquals(new TokenCounter().total, 0);
});
