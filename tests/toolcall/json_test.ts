/** The forgiving JSON reader. */
import { assert, assertEquals, assertThrows } from "../assert.ts";
import { LooseJsonError, parseLooseJson, readLooseJson } from "../../src/toolcall/json.ts";

Deno.test("loose JSON: standard JSON reads as JSON.parse reads it", () => {
  const samples = [
    '{"a": 1, "b": [true, false, null], "c": {"d": "e\\n\\"f\\"\\u00e9"}}',
    "[1, -2.5, 3e2, 0.001]",
    '"just a string"',
    "42",
    '{"emoji": "\\ud83d\\ude00", "slash": "a\\/b"}',
  ];
  for (const s of samples) assertEquals(parseLooseJson(s), JSON.parse(s));
});

Deno.test("loose JSON: what models write instead", () => {
  assertEquals(parseLooseJson(`{'a': "it's", 'b': 'x y'}`), { a: "it's", b: "x y" });
  assertEquals(parseLooseJson("{a: 1, b: 'x',}"), { a: 1, b: "x" });
  assertEquals(parseLooseJson("[1, 2, 3,]"), [1, 2, 3]);
  assertEquals(parseLooseJson('{"x": True, "y": False, "z": None}'), {
    x: true,
    y: false,
    z: null,
  });
  assertEquals(parseLooseJson('{"a": 1 "b": 2}'), { a: 1, b: 2 });
  assertEquals(parseLooseJson('{"t": "line\nbreak"}'), { t: "line\nbreak" });
  assertEquals(parseLooseJson('{"q": "O\\\'Reilly"}'), { q: "O'Reilly" });
  assertEquals(parseLooseJson('// note\n{"a": /* c */ 1}'), { a: 1 });
  assertEquals(parseLooseJson('{"n": 1_000}'), { n: 1000 });
});

Deno.test("loose JSON: __proto__ is an own key, not a prototype", () => {
  const v = parseLooseJson('{"__proto__": {"polluted": true}}') as Record<string, unknown>;
  assertEquals(Object.getPrototypeOf(v), Object.prototype);
  assertEquals(Object.keys(v), ["__proto__"]);
  assertEquals(({} as Record<string, unknown>).polluted, undefined);
});

Deno.test("loose JSON: truncation is told apart from garbage", () => {
  for (const s of ['{"a": "b', '{"a": [1, 2', '{"a": tr', '{"a"', "[", '{"a": 1,']) {
    const err = assertThrows(() => parseLooseJson(s), LooseJsonError);
    assert((err as LooseJsonError).truncated, `${s} should be truncated`);
  }
  for (const s of ['{"a": Paris}', '{"a": 1} x', "{?}", '{"a": "\\uZZZZ"}']) {
    const err = assertThrows(() => parseLooseJson(s), LooseJsonError);
    assert(!(err as LooseJsonError).truncated, `${s} should be a syntax error`);
  }
});

Deno.test("loose JSON: readLooseJson reads values in a row", () => {
  const text = '{"a": 1} [2] "three"';
  const first = readLooseJson(text);
  assertEquals(first.value, { a: 1 });
  const second = readLooseJson(text, first.end);
  assertEquals(second.value, [2]);
  assertEquals(readLooseJson(text, second.end).value, "three");
});

Deno.test("loose JSON: deep nesting is refused, not a stack overflow", () => {
  const deep = "[".repeat(10_000) + "]".repeat(10_000);
  assertThrows(() => parseLooseJson(deep), LooseJsonError);
});
