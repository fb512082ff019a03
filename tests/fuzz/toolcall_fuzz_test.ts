/**
 * Property-based tests of the tool-call emulator's readers: the streaming parser
 * (`toolcall/parser/`) fed answers built from the pieces of its markup (tags, fences, JSON calls,
 * think blocks, partial tags) cut anywhere gives the events of the whole; text without markup
 * passes unchanged; events are well-typed; the work stays linear. The forgiving JSON reader
 * (`toolcall/json.ts`) reads standard JSON as `JSON.parse` does and anything else as a value or
 * a `LooseJsonError`.
 */
import { assert, assertEquals } from "../assert.ts";
import { LooseJsonError, parseLooseJson } from "../../src/toolcall/json.ts";
import { type ParseEvent, ToolCallParser } from "../../src/toolcall/parser/mod.ts";
import { answerText, anyText, check, fc, timedSync } from "./fuzz.ts";

const TOOLS = new Set(["get_weather", "get_time", "search_web"]);

/** Adjacent texts merged (text boundaries depend on chunking, nothing else may). */
function normalize(events: ParseEvent[]): ParseEvent[] {
  const out: ParseEvent[] = [];
  for (const e of events) {
    const last = out[out.length - 1];
    if (e.type === "text" && last?.type === "text") last.text += e.text;
    else if (e.type !== "text" || e.text !== "") out.push(e.type === "text" ? { ...e } : e);
  }
  return out;
}

function parse(pieces: string[], tasks: boolean): ParseEvent[] {
  const p = new ToolCallParser({ isTool: (n) => TOOLS.has(n), tasks });
  const out: ParseEvent[] = [];
  for (const piece of pieces) out.push(...p.push(piece));
  out.push(...p.end());
  return normalize(out);
}

/** `text` cut at `cuts` (positions taken modulo its length). */
function cutText(text: string, cuts: number[]): string[] {
  const at = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
  const out: string[] = [];
  let last = 0;
  for (const p of at) {
    out.push(text.slice(last, p));
    last = p;
  }
  out.push(text.slice(last));
  return out;
}

const callJson = fc.record({
  name: fc.constantFrom("get_weather", "get_time", "search_web", "unknown_tool", "Alice"),
  arguments: fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue({ maxDepth: 1 }), {
    maxKeys: 2,
  }),
}).map((c) => JSON.stringify(c));

/** The pieces answers are made of: the markup's, near-misses of it, and text. */
const piece = fc.oneof(
  { weight: 4, arbitrary: answerText },
  { weight: 3, arbitrary: callJson },
  {
    weight: 6,
    arbitrary: fc.constantFrom(
      "\n",
      "\n\n",
      "<",
      ">",
      "<tool",
      "<tool_c",
      "<tool_call>",
      "</tool_call>",
      "<tool_calls>",
      "</tool_calls>",
      '<tool_call name="get_time">',
      "<tool_call>get_weather\n",
      "```",
      "```json\n",
      "```\n",
      "\n```",
      "`",
      "{",
      "}",
      "[",
      "]",
      '"name"',
      '"arguments"',
      ":",
      ",",
      "'",
      '"',
      "\\",
      "<think>",
      "</think>",
      "<function=get_weather>",
      "<function=",
      "</function>",
      "<parameter=city>",
      "</parameter>",
      "<tasks>",
      "</tasks>",
      '[{"tool": "get_time", "task": "t"}]',
      "<tool_result>",
      "<tool_response",
      "<![CDATA[",
      "]]>",
      "<!--",
      "-->",
    ),
  },
);

const answer = fc.array(piece, { maxLength: 30 }).map((ps) => ps.join(""));

const cutsOf = fc.oneof(
  { weight: 4, arbitrary: fc.array(fc.nat(), { maxLength: 10 }) },
  { weight: 1, arbitrary: fc.constant("chars" as const) },
);

function pieces(text: string, cuts: number[] | "chars"): string[] {
  return cuts === "chars" ? [...text] : cutText(text, cuts);
}

/** Fails unless each event has the types `parser/types.ts` promises. */
function assertEvents(events: ParseEvent[]): void {
  for (const e of events) {
    switch (e.type) {
      case "text":
        assert(typeof e.text === "string");
        break;
      case "calls":
        assert(typeof e.raw === "string" && e.calls.length > 0, JSON.stringify(e));
        for (const c of e.calls) assert(c.name === undefined || typeof c.name === "string");
        break;
      case "broken":
        assert(typeof e.raw === "string" && typeof e.detail === "string");
        assert(e.reason === "truncated" || e.reason === "invalid");
        break;
      case "tasks":
        assert(typeof e.raw === "string");
        break;
      case "end":
        break;
      default:
        throw new Error(`an unknown event: ${JSON.stringify(e)}`);
    }
  }
}

Deno.test("fuzz toolcall parser: an answer cut anywhere gives the events of the whole", async () => {
  await check(
    fc.property(
      answer,
      cutsOf,
      fc.boolean(),
      timedSync((text, cuts, tasks) => {
        const whole = parse([text], tasks);
        assertEvents(whole);
        assertEquals(parse(pieces(text, cuts), tasks), whole, JSON.stringify(text));
      }),
    ),
    600,
  );
});

Deno.test("fuzz toolcall parser: an answer read as text only is the answer unchanged", async () => {
  await check(
    fc.property(
      fc.oneof(answer, anyText),
      fc.boolean(),
      timedSync((text, tasks) => {
        const events = parse([text], tasks);
        // A `<tasks>` plan the answer cuts off is dropped, as documented (tasks mode only).
        if (tasks && text.includes("<tasks>")) return;
        if (events.every((e) => e.type === "text")) {
          assertEquals(events.map((e) => e.type === "text" ? e.text : "").join(""), text);
        }
      }),
    ),
    600,
  );
});

Deno.test("fuzz toolcall parser: long answers of markup pieces in small chunks stay linear", async () => {
  await check(
    fc.property(
      fc.array(piece, { minLength: 1, maxLength: 8 }),
      fc.boolean(),
      timedSync((ps, tasks) => {
        // About 100 KB of the same near-markup, 7 characters at a time.
        const unit = ps.join("") || "<";
        const text = unit.repeat(Math.ceil(100_000 / unit.length));
        const chunks: string[] = [];
        for (let i = 0; i < text.length; i += 7) chunks.push(text.slice(i, i + 7));
        assertEvents(parse(chunks, tasks));
      }, 8_000),
    ),
    25,
  );
});

Deno.test("fuzz loose JSON: standard JSON reads as JSON.parse reads it", async () => {
  await check(
    fc.property(fc.jsonValue({ maxDepth: 4 }), fc.boolean(), (value, pretty) => {
      const text = pretty ? JSON.stringify(value, null, 2) : JSON.stringify(value);
      assertEquals(parseLooseJson(text), JSON.parse(text));
    }),
    500,
  );
});

Deno.test("fuzz loose JSON: any text is a value or a LooseJsonError", async () => {
  await check(
    fc.property(
      fc.oneof(
        anyText,
        fc.array(
          fc.oneof(
            callJson,
            fc.constantFrom(
              "{",
              "}",
              "[",
              "]",
              ",",
              "'",
              '"',
              ":",
              "True",
              "None",
              "//",
              "/*",
              "\\u12",
              "1e999",
              "-",
              "0x1",
            ),
          ),
          { maxLength: 12 },
        ).map((a) => a.join("")),
        fc.nat(5000).map((n) => "[".repeat(n)),
      ),
      timedSync((text) => {
        try {
          parseLooseJson(text);
        } catch (err) {
          if (!(err instanceof LooseJsonError)) throw err;
        }
      }),
    ),
    800,
  );
});
