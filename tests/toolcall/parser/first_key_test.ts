/**
 * The first-key decision on its own: which first keys make a JSON value a call, the exact
 * character at which it decides (what streams on as text depends on it), and the bounds on how
 * long it may stay undecided.
 */
import { assertEquals } from "../../assert.ts";
import { FirstKey } from "../../../src/toolcall/parser/first_key.ts";
import { JsonScanner } from "../../../src/toolcall/parser/scanner.ts";

const TOOLS = ["get_time", "get_weather"];

/** Feeds `text` as the JSON reader does; returns the decision and the index it came at. */
function decide(text: string): { d: "more" | "yes" | "no"; at: number; byName?: boolean } {
  const key = new FirstKey((n) => TOOLS.includes(n));
  const scan = new JsonScanner();
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const was = scan.quote;
    scan.feed(c);
    const d = key.feed(c, was !== 0 && scan.quote !== 0, was !== 0 && scan.quote === 0);
    if (d !== "more") return { d, at: i, ...(d === "yes" ? { byName: key.byName } : {}) };
  }
  return { d: "more", at: text.length };
}

Deno.test("first key: a declared tool's name decides yes at its closing quote", () => {
  const t = '{"name": "get_time", "arguments": {}}';
  assertEquals(decide(t), { d: "yes", at: t.indexOf('",'), byName: true });
  assertEquals(decide("{'tool': 'get_weather'}").d, "yes");
  // Bare keys, a list's first object, `function` with a string value.
  assertEquals(decide('{name: "get_time"}').d, "yes");
  assertEquals(decide('[ \n {"name": "get_time"}]').d, "yes");
  assertEquals(decide('{"function": "get_time"}').d, "yes");
});

Deno.test("first key: an unknown name decides no at its closing quote, not before", () => {
  const t = '{"name": "Alice", "age": 3}';
  assertEquals(decide(t), { d: "no", at: t.indexOf('",') });
  assertEquals(decide('{"name": "get_tim'), { d: "more", at: 17 });
});

Deno.test("first key: call keys that open a value decide yes by key", () => {
  for (const t of ['{"function": {', '{"tool_calls": [', '{"arguments": {', '{"parameters": {']) {
    assertEquals(decide(t), { d: "yes", at: t.length - 1, byName: false });
  }
  // A name key needs a string, other call keys need an object or list.
  assertEquals(decide('{"name": {').d, "no");
  assertEquals(decide('{"arguments": "x"').d, "no");
});

Deno.test("first key: anything else decides no as soon as it shows", () => {
  const cases: [string, number][] = [
    ['{"status": 1}', 9], // at the colon: not a call key
    ["[1, 2]", 1],
    ["{}", 1],
    ['{"name" 1', 8],
    ["{:", 1],
  ];
  for (const [t, at] of cases) assertEquals(decide(t), { d: "no", at }, t);
});

Deno.test("first key: bounded while undecided", () => {
  // 300 characters may leave the decision open (the `{` counts); the 301st decides no.
  assertEquals(decide("{" + " ".repeat(299)).d, "more");
  assertEquals(decide("{" + " ".repeat(300)), { d: "no", at: 300 });
  // Keys up to 40 characters, names up to 128.
  assertEquals(decide(`{"${"k".repeat(40)}`).d, "more");
  assertEquals(decide(`{"${"k".repeat(41)}`).d, "no");
  assertEquals(decide(`{"name": "${"n".repeat(128)}`).d, "more");
  assertEquals(decide(`{"name": "${"n".repeat(129)}`).d, "no");
});

Deno.test("first key: reset starts a new value", () => {
  const key = new FirstKey((n) => TOOLS.includes(n));
  key.feed(123, false, false);
  assertEquals(key.feed(58, false, false), "no");
  key.reset();
  assertEquals(key.decided, false);
  assertEquals(decide('{"function": {').d, "yes");
});
