/**
 * Unit tests of the Gemini provider's pure parts: schema cleaning, name mapping, the signature
 * cache, and the stream mapping fed with Google's CRLF-framed SSE bytes split at every position.
 */
import { assert, assertEquals, assertMatch, assertRejects } from "../../assert.ts";
import { GatewayError } from "../../../src/openai/errors.ts";
import { nearestLevel, thinkingConfigOf } from "../../../src/providers/gemini/thinking.ts";
import { successorOf, thinkingSpec } from "../../../src/providers/gemini/models.ts";
import { readSse } from "../../../src/net/sse.ts";
import {
  COHERE_NAMES,
  GEMINI_NAMES,
  ToolNames,
  upstreamName,
} from "../../../src/providers/gemini/names.ts";
import { toGeminiParameters, toGeminiSchema } from "../../../src/providers/gemini/schema.ts";
import { SignatureCache } from "../../../src/providers/gemini/signatures.ts";
import { fromGeminiStream, GeminiMapper } from "../../../src/providers/gemini/stream.ts";
import type { ChatEvent } from "../../../src/providers/types.ts";
import { bodyOf, collect, splits } from "../../chunks.ts";
import { durationSeconds, fromGoogleError } from "../../../src/providers/gemini/errors.ts";

Deno.test("gemini schema: refs, recursion, allOf, oneOf, type lists, enums, formats", () => {
  const s = toGeminiSchema({
    type: "object",
    properties: {
      node: { $ref: "#/definitions/node" },
      both: {
        allOf: [{ type: "object", properties: { a: { type: "string" } }, required: ["a"] }, {
          properties: { b: { type: "number" } },
        }],
      },
      either: { oneOf: [{ type: "string" }, { type: "integer" }] },
      maybe: { type: ["integer", "null"], format: "int64" },
      level: { enum: [1, 2, 3] },
      when: { type: "string", format: "date-time" },
      link: { type: "string", format: "uri", default: "x", examples: ["y"] },
      list: { type: "array" },
    },
    definitions: {
      node: { type: "object", properties: { child: { $ref: "#/definitions/node" } } },
    },
  });
  const p = s.properties as Record<string, Record<string, unknown>>;
  assertEquals(p.both, {
    type: "OBJECT",
    properties: { a: { type: "STRING" }, b: { type: "NUMBER" } },
    required: ["a"],
  });
  assertEquals(p.either, { anyOf: [{ type: "STRING" }, { type: "INTEGER" }] });
  assertEquals(p.maybe, { type: "INTEGER", format: "int64", nullable: true });
  assertEquals(p.level, { type: "INTEGER", description: "(one of 1, 2, 3)" });
  assertEquals(p.when, { type: "STRING", format: "date-time" });
  assertEquals(p.link, { type: "STRING" });
  assertEquals(p.list, { type: "ARRAY", items: { type: "STRING" } });
  // A recursive schema is cut off, not followed forever.
  let depth = 0;
  let node: Record<string, unknown> | undefined = p.node;
  while (node?.properties) {
    depth++;
    node = (node.properties as Record<string, Record<string, unknown>>).child;
  }
  assert(depth > 3 && depth < 40, `depth ${depth}`);
  assertEquals(toGeminiParameters({ type: "object", properties: {} }), undefined);
  assertEquals(toGeminiParameters(undefined), undefined);
});

Deno.test("tool names: valid names stay, others map to valid stable names and back", () => {
  assertEquals(upstreamName("get_weather", GEMINI_NAMES), "get_weather");
  assertEquals(upstreamName("ns.tool:v1-x", GEMINI_NAMES), "ns.tool:v1-x");
  const long = "a".repeat(80);
  for (
    const [name, rule] of [
      ["1tool", GEMINI_NAMES],
      ["-x", GEMINI_NAMES],
      [long, GEMINI_NAMES],
      ["my-tool", COHERE_NAMES],
      ["a.b", COHERE_NAMES],
      ["über tool", COHERE_NAMES],
    ] as const
  ) {
    const up = upstreamName(name, rule);
    assert(rule.valid.test(up), `${up} is not valid`);
    assertEquals(upstreamName(name, rule), up, "stable");
    const names = new ToolNames(rule);
    assertEquals(names.upstream(name), up);
    assertEquals(names.client(up), name);
  }
  // Names that sanitize alike stay apart.
  assert(upstreamName("my-tool", COHERE_NAMES) !== upstreamName("my.tool", COHERE_NAMES));
  assertEquals(new ToolNames(COHERE_NAMES).client("unknown_name"), "unknown_name");
});

Deno.test("signature cache: bounded, oldest first out", () => {
  const c = new SignatureCache(3);
  for (const i of [1, 2, 3, 4]) c.set(`id${i}`, `sig${i}`);
  assertEquals(c.size, 3);
  assertEquals(c.get("id1"), undefined);
  assertEquals(c.get("id4"), "sig4");
});

Deno.test("gemini errors: retry delays and key errors", () => {
  assertEquals(durationSeconds("37s"), 37);
  assertEquals(durationSeconds("1.2s"), 2);
  assertEquals(durationSeconds("soon"), undefined);
  const e = fromGoogleError({
    code: 429,
    status: "RESOURCE_EXHAUSTED",
    message: "q",
    details: [{ "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: "12s" }],
  });
  assertEquals([e.status, e.retryAfter], [429, 12]);
  assertEquals(
    fromGoogleError({ code: 400, message: "API key expired. Please renew the API key." }).status,
    401,
  );
});

const STREAM = [
  {
    candidates: [{
      content: { parts: [{ text: "Thinking", thought: true }], role: "model" },
      index: 0,
    }],
  },
  { candidates: [{ content: { parts: [{ text: "Héllo, " }], role: "model" }, index: 0 }] },
  {
    candidates: [{
      content: {
        parts: [{ text: "wörld" }, {
          functionCall: { name: "f_1a2b3c4d", args: { x: 1 } },
          thoughtSignature: "c2ln",
        }],
        role: "model",
      },
      index: 0,
    }],
  },
  {
    candidates: [{ content: { parts: [], role: "model" }, finishReason: "STOP", index: 0 }],
    usageMetadata: {
      promptTokenCount: 5,
      candidatesTokenCount: 7,
      thoughtsTokenCount: 2,
      totalTokenCount: 14,
    },
  },
].map((c) => `data: ${JSON.stringify(c)}\r\n\r\n`).join("");

async function mapBytes(pieces: Uint8Array[]): Promise<ChatEvent[]> {
  const body = bodyOf(pieces);
  const names = new ToolNames(GEMINI_NAMES);
  const mapper = new GeminiMapper(names, new SignatureCache(10));
  return await collect(fromGeminiStream(readSse(body), mapper));
}

Deno.test("gemini stream: Google's SSE bytes split at every position and byte by byte map the same", async () => {
  const whole = await mapBytes([new TextEncoder().encode(STREAM)]);
  const strip = (evs: ChatEvent[]) =>
    evs.map((e) => e.type === "tool_call" ? { ...e, id: "x" } : e);
  assertEquals(strip(whole), [
    { type: "reasoning", text: "Thinking", choice: 0 },
    { type: "text", text: "Héllo, ", choice: 0 },
    { type: "text", text: "wörld", choice: 0 },
    {
      type: "tool_call",
      index: 0,
      id: "x",
      name: "f_1a2b3c4d",
      arguments: '{"x":1}',
      choice: 0,
      extra: { extra_content: { google: { thought_signature: "c2ln" } } },
    },
    { type: "finish", reason: "stop", choice: 0 },
    { type: "usage", prompt_tokens: 5, completion_tokens: 9, reasoning_tokens: 2 },
  ]);
  for (const pieces of splits(STREAM)) {
    const cut = pieces.length === 2 ? `cut at ${pieces[0].length}` : "byte by byte";
    assertEquals(strip(await mapBytes(pieces)), strip(whole), cut);
  }
});

Deno.test("gemini stream: cut before the finishReason is an error, at every cut", async () => {
  const end = STREAM.lastIndexOf("data: ");
  for (let i = 0; i < end; i++) {
    // Cut between events: no finishReason; cut inside one: a broken event. Either is a 502.
    const err = await assertRejects(
      () => mapBytes([new TextEncoder().encode(STREAM.slice(0, i))]),
      GatewayError,
    );
    assertEquals(err.status, 502);
    if (STREAM.slice(0, i).endsWith("\r\n\r\n")) {
      assertMatch(err.message, /the stream ended without a finishReason/);
    }
  }
  // A blocked prompt has no candidates and no finishReason, and is complete.
  const blocked = `data: ${JSON.stringify({ promptFeedback: { blockReason: "SAFETY" } })}\r\n\r\n`;
  assertEquals(await mapBytes([new TextEncoder().encode(blocked)]), [
    { type: "finish", reason: "content_filter", choice: 0 },
  ]);
});

Deno.test("gemini thinking: levels, budgets and shut-down ids", () => {
  assertEquals(nearestLevel("medium", ["low", "high"]), "high");
  assertEquals(nearestLevel("minimal", ["low", "medium", "high"]), "low");
  assertEquals(nearestLevel("minimal", ["minimal", "low", "medium", "high"]), "minimal");
  assertEquals(thinkingSpec("gemini-2.0-flash"), undefined);
  assertEquals(thinkingSpec("gemini-2.5-flash-image"), undefined);
  assertEquals(thinkingSpec("models/gemini-2.5-pro"), {
    kind: "budget",
    min: 128,
    max: 32768,
    canDisable: false,
  });
  // Never both fields; nothing asked: only the thought summaries.
  for (const model of ["gemini-2.5-flash", "gemini-3.8-flash", "gemini-3.1-pro-preview"]) {
    for (const effort of ["none", "minimal", "low", "medium", "high", "xhigh"] as const) {
      const c = thinkingConfigOf({ effort, budget_tokens: 2000 }, model, true)!;
      assert(!("thinkingBudget" in c && "thinkingLevel" in c), `${model} ${effort}`);
    }
  }
  assertEquals(thinkingConfigOf(undefined, "gemini-3.8-flash", true), { includeThoughts: true });
  assertEquals(thinkingConfigOf(undefined, "gemini-3.8-flash", false), undefined);
  assertEquals(successorOf("gemini-2.5-flash"), undefined);
  assertEquals(successorOf("models/text-embedding-004"), {
    model: "gemini-embedding-001",
    dimensions: 768,
  });
  assertEquals(successorOf("gemini-1.5-flash-8b"), { model: "gemini-3.5-flash-lite" });
});

Deno.test("gemini stream: chunks of the wrong shape are a 502 naming the field, never a TypeError (fuzz finding)", async () => {
  const cases: [string, string][] = [
    ["null", "an answer that is not as documented"],
    ['{"candidates":1.5}', "candidates"],
    ['{"candidates":[{"content":{"parts":[{"text":7}]}}]}', "candidates[0].content.parts[0].text"],
    ['{"candidates":[{"content":{"parts":[{"functionCall":{"name":"f","args":[1]}}]}}]}', "args"],
    ['{"error":"quota"}', "an error it did not describe"],
    // An error object whose details are not a list is still Google's error, not a TypeError.
    ['{"error":{"code":429,"message":"slow down","details":{"a":1}}}', "slow down"],
  ];
  for (const [data, says] of cases) {
    await assertRejects(
      () => mapBytes([new TextEncoder().encode(`data: ${data}\n\n`)]),
      GatewayError,
      says,
    );
  }
  // A usage that cannot be read is dropped (the meter counts), the answer is not refused.
  const ok = '{"candidates":[{"content":{"parts":[{"text":"hi"}]},"finishReason":"STOP"}],' +
    '"usageMetadata":{"promptTokenCount":"x"}}';
  assertEquals(await mapBytes([new TextEncoder().encode(`data: ${ok}\n\n`)]), [
    { type: "text", text: "hi", choice: 0 },
    { type: "finish", reason: "stop", choice: 0 },
  ]);
});
