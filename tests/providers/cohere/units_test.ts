/**
 * Unit tests of the Cohere provider's pure parts: Python type names, tool outputs, and the NDJSON
 * event mapping fed with bytes split at every position.
 */
import { assertEquals } from "../../assert.ts";
import { readNdjson } from "../../../src/net/ndjson.ts";
import { toolOutputs } from "../../../src/providers/cohere/request.ts";
import { type CohereEvent, CohereMapper } from "../../../src/providers/cohere/stream.ts";
import { pythonType } from "../../../src/providers/cohere/tools.ts";
import { COHERE_NAMES, ToolNames } from "../../../src/providers/gemini/names.ts";
import type { ChatEvent } from "../../../src/providers/types.ts";
import { bodyOf, splits } from "../../chunks.ts";

Deno.test("cohere tools: JSON Schema types as Python type names", () => {
  assertEquals(pythonType({ type: "string" }), "str");
  assertEquals(pythonType({ type: ["integer", "null"] }), "int");
  assertEquals(pythonType({ type: "number" }), "float");
  assertEquals(pythonType({ type: "boolean" }), "bool");
  assertEquals(
    pythonType({ type: "array", items: { type: "array", items: { type: "string" } } }),
    "List[List[str]]",
  );
  assertEquals(pythonType({ type: "array" }), "List");
  assertEquals(
    pythonType({ type: "object", additionalProperties: { type: "integer" } }),
    "Dict[str, int]",
  );
  assertEquals(pythonType({ properties: { a: {} } }), "Dict");
  assertEquals(pythonType({ anyOf: [{ type: "null" }, { type: "number" }] }), "float");
});

Deno.test("cohere tools: outputs are lists of objects", () => {
  assertEquals(toolOutputs('{"a":1}'), [{ a: 1 }]);
  assertEquals(toolOutputs('[{"a":1},{"b":2}]'), [{ a: 1 }, { b: 2 }]);
  assertEquals(toolOutputs("[1,2]"), [{ result: [1, 2] }]);
  assertEquals(toolOutputs("42"), [{ result: 42 }]);
  assertEquals(toolOutputs("plain text"), [{ result: "plain text" }]);
});

const LINES = [
  { is_finished: false, event_type: "stream-start", generation_id: "g" },
  { is_finished: false, event_type: "text-generation", text: "Grüß " },
  { is_finished: false, event_type: "text-generation", text: "dich" },
  { is_finished: false, event_type: "tool-calls-chunk", tool_call_delta: { index: 0, name: "f" } },
  {
    is_finished: false,
    event_type: "tool-calls-generation",
    text: "",
    tool_calls: [{ name: "f", parameters: { x: "é" } }],
  },
  {
    is_finished: true,
    event_type: "stream-end",
    finish_reason: "COMPLETE",
    response: { meta: { billed_units: { input_tokens: 3, output_tokens: 4 } } },
  },
].map((l) => JSON.stringify(l) + "\n").join("");

async function mapBytes(pieces: Uint8Array[]): Promise<ChatEvent[]> {
  const body = bodyOf(pieces);
  const mapper = new CohereMapper(new ToolNames(COHERE_NAMES));
  const out: ChatEvent[] = [];
  for await (const v of readNdjson(body)) for (const e of mapper.map(v as CohereEvent)) out.push(e);
  return out.map((e) => e.type === "tool_call" ? { ...e, id: "x" } : e);
}

Deno.test("cohere stream: NDJSON bytes split at every position and byte by byte map the same", async () => {
  const whole = await mapBytes([new TextEncoder().encode(LINES)]);
  assertEquals(whole, [
    { type: "text", text: "Grüß " },
    { type: "text", text: "dich" },
    { type: "tool_call", index: 0, id: "x", name: "f", arguments: '{"x":"é"}' },
    { type: "usage", prompt_tokens: 3, completion_tokens: 4 },
    { type: "finish", reason: "stop" },
  ]);
  for (const pieces of splits(LINES)) {
    const cut = pieces.length === 2 ? `cut at ${pieces[0].length}` : "byte by byte";
    assertEquals(await mapBytes(pieces), whole, cut);
  }
});
