/**
 * Unit tests of the Cohere provider's pure parts: tool outputs as v2 content, the model rules,
 * and the `/v2/chat` event stream fed with bytes split at every position.
 */
import { assertEquals, assertRejects } from "../../assert.ts";
import { readSse } from "../../../src/net/sse.ts";
import { GatewayError } from "../../../src/openai/errors.ts";
import { toolContent } from "../../../src/providers/cohere/messages.ts";
import { safetyModeFor, takesSafetyMode } from "../../../src/providers/cohere/models.ts";
import { fromCohereStream } from "../../../src/providers/cohere/stream.ts";
import { COHERE_NAMES, ToolNames } from "../../../src/providers/gemini/names.ts";
import type { ChatEvent } from "../../../src/providers/types.ts";
import { bodyOf, collect, splits } from "../../chunks.ts";

Deno.test("cohere tools: outputs as v2 tool content", () => {
  assertEquals(toolContent('{"a":1}'), '{"a":1}');
  assertEquals(toolContent('[{"a":1},{"b":2}]'), [
    { type: "document", document: { data: { a: 1 } } },
    { type: "document", document: { data: { b: 2 } } },
  ]);
  assertEquals(toolContent("[1,2]"), [{ type: "text", text: "[1,2]" }]);
  assertEquals(toolContent("42"), [{ type: "text", text: "42" }]);
  assertEquals(toolContent("plain text"), [{ type: "text", text: "plain text" }]);
});

Deno.test("cohere models: safety modes by generation", () => {
  assertEquals(takesSafetyMode("command-r-08-2024"), true);
  assertEquals(takesSafetyMode("command-a-03-2025"), true);
  assertEquals(takesSafetyMode("c4ai-aya-expanse-32b"), false);
  assertEquals(safetyModeFor("command-r-plus-08-2024", "OFF"), "OFF");
  assertEquals(safetyModeFor("command-r7b-12-2024", "OFF"), "CONTEXTUAL");
  assertEquals(safetyModeFor("command-a-03-2025", "STRICT"), "STRICT");
});

const EVENTS = [
  { type: "message-start", id: "m", delta: { message: { role: "assistant" } } },
  { type: "content-start", index: 0, delta: { message: { content: { type: "thinking" } } } },
  { type: "content-delta", index: 0, delta: { message: { content: { thinking: "hmm " } } } },
  { type: "content-end", index: 0 },
  { type: "tool-plan-delta", delta: { message: { tool_plan: "Grüß dich" } } },
  {
    type: "tool-call-start",
    index: 0,
    delta: {
      message: {
        tool_calls: { id: "f_1", type: "function", function: { name: "f", arguments: "" } },
      },
    },
  },
  // Cohere's own examples leave the index out on some deltas.
  {
    type: "tool-call-delta",
    delta: { message: { tool_calls: { function: { arguments: '{"x":' } } } },
  },
  {
    type: "tool-call-delta",
    index: 0,
    delta: { message: { tool_calls: { function: { arguments: '"é"}' } } } },
  },
  { type: "tool-call-end", index: 0 },
  { type: "debug", prompt: "..." },
  {
    type: "citation-start",
    index: 0,
    delta: {
      message: {
        citations: {
          start: 0,
          end: 1,
          text: "x",
          sources: [{
            type: "document",
            id: "d",
            document: { url: "https://x.example", title: "X" },
          }],
        },
      },
    },
  },
  { type: "citation-end", index: 0 },
  {
    type: "message-end",
    delta: {
      finish_reason: "TOOL_CALL",
      usage: {
        billed_units: { input_tokens: 3, output_tokens: 4 },
        tokens: { input_tokens: 30, output_tokens: 6 },
        cached_tokens: 2,
      },
    },
  },
];
const SSE = EVENTS.map((e) => `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`).join("") +
  "data: [DONE]\n\n";

function map(pieces: Uint8Array[]): Promise<ChatEvent[]> {
  return collect(fromCohereStream(readSse(bodyOf(pieces)), new ToolNames(COHERE_NAMES)));
}

Deno.test("cohere stream: SSE bytes split at every position and byte by byte map the same", async () => {
  const whole = await map([new TextEncoder().encode(SSE)]);
  assertEquals(whole, [
    { type: "reasoning", text: "hmm " },
    { type: "reasoning", text: "Grüß dich" },
    { type: "tool_call", index: 0, id: "f_1", name: "f", arguments: "" },
    { type: "tool_call", index: 0, arguments: '{"x":' },
    { type: "tool_call", index: 0, arguments: '"é"}' },
    { type: "citation", index: 1, url: "https://x.example", title: "X" },
    { type: "usage", prompt_tokens: 3, completion_tokens: 4, cached_tokens: 2 },
    { type: "finish", reason: "tool_calls" },
  ]);
  for (const pieces of splits(SSE)) {
    const cut = pieces.length === 2 ? `cut at ${pieces[0].length}` : "byte by byte";
    assertEquals(await map(pieces), whole, cut);
  }
});

Deno.test("cohere stream: an end without message-end is an error, [DONE] or not", async () => {
  const cut = EVENTS.slice(0, 4).map((e) => `data: ${JSON.stringify(e)}\n\n`).join("");
  for (const text of [cut, cut + "data: [DONE]\n\n"]) {
    await assertRejects(
      () => map([new TextEncoder().encode(text)]),
      GatewayError,
      "the stream ended without message-end",
    );
  }
  await assertRejects(
    () => map([new TextEncoder().encode("data: {not json\n\n")]),
    GatewayError,
    "stream event is not JSON",
  );
});

Deno.test("cohere stream: events of the wrong shape are a 502 naming the field, never a TypeError (fuzz finding)", async () => {
  const cases: [string, string][] = [
    ["null", "a stream event that is not as documented"],
    ['{"type":"content-delta","delta":{"message":{"content":{"text":5}}}}', "content.text"],
    ['{"type":"citation-start","delta":{"message":{"citations":{"sources":{}}}}}', "sources"],
    ['{"type":"citation-start","delta":{"message":{"citations":{"sources":[null]}}}}', "sources"],
    [
      '{"type":"tool-call-start","delta":{"message":{"tool_calls":{"function":{"name":1}}}}}',
      "name",
    ],
  ];
  for (const [data, says] of cases) {
    await assertRejects(
      () => map([new TextEncoder().encode(`data: ${data}\n\n`)]),
      GatewayError,
      says,
    );
  }
  // A usage that cannot be read is dropped (the meter counts), the answer is not refused.
  const end = '{"type":"message-end","delta":{"finish_reason":"COMPLETE","usage":"x"}}';
  assertEquals(await map([new TextEncoder().encode(`data: ${end}\n\n`)]), [
    { type: "finish", reason: "stop" },
  ]);
});
