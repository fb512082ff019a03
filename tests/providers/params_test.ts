/**
 * The one policy for request parameters: clamp what is out of range, drop what the upstream
 * cannot take, and a 400 naming the field only for malformed values.
 */
import { assertEquals, assertMatch, assertThrows } from "../assert.ts";
import { GatewayError } from "../../src/openai/errors.ts";
import type { ChatRequest } from "../../src/openai/schema.ts";
import {
  clamp,
  maxTokens,
  reasoningOf,
  sampling,
  stopList,
  toolArguments,
} from "../../src/providers/params.ts";
import { createLogger } from "../../src/util/log.ts";

const req = (extra: Record<string, unknown>) =>
  ({ model: "m", messages: [{ role: "user", content: "hi" }], ...extra }) as ChatRequest;

Deno.test("params: sampling clamps into ranges, drops what is refused, keeps the rest", () => {
  const lines: string[] = [];
  const log = createLogger("debug", (_l, line) => lines.push(line));
  const out = sampling(
    req({ temperature: 1.7, top_p: 1, top_k: 900, presence_penalty: -1.5, seed: 7 }),
    {
      temperature: { min: 0, max: 1 },
      top_p: { min: 0.01, max: 0.99 },
      top_k: { min: 0, max: 500 },
      presence_penalty: false,
    },
    log,
  );
  assertEquals(out, { temperature: 1, top_p: 0.99, top_k: 500, seed: 7 });
  assertEquals(lines.length, 4, lines.join("\n"));
  assertMatch(lines.join("\n"), /presence_penalty dropped/);
  assertMatch(lines.join("\n"), /top_k 900 clamped to 500/);
  // Absent parameters stay absent; null is absent.
  assertEquals(sampling(req({ temperature: null }), { temperature: { min: 0, max: 1 } }), {});
  assertEquals(clamp(0.5, { min: 0, max: 1 }, "x"), 0.5);
});

Deno.test("params: stop list and max tokens", () => {
  assertEquals(stopList(req({ stop: "x" })), ["x"]);
  assertEquals(stopList(req({ stop: ["a", "", "b", "c"] }), 2), ["a", "b"]);
  assertEquals(stopList(req({})), []);
  assertEquals(maxTokens(req({ max_tokens: 100, max_completion_tokens: 50 })), 50);
  assertEquals(maxTokens(req({ max_tokens: 100_000 }), 8192), 8192);
  assertEquals(maxTokens(req({})), undefined);
});

Deno.test("params: tool-call arguments that are not a JSON object are a 400 naming the field", () => {
  assertEquals(toolArguments('{"a":1}', "f"), { a: 1 });
  assertEquals(toolArguments("  ", "f"), {});
  const bad = assertThrows(
    () => toolArguments("{not json", "messages[1].tool_calls[0].function.arguments"),
    GatewayError,
  );
  assertEquals([bad.status, bad.param], [400, "messages[1].tool_calls[0].function.arguments"]);
  assertMatch(bad.message, /is not valid JSON: \{not json/);
  const arr = assertThrows(() => toolArguments("[1,2]", "f"), GatewayError);
  assertMatch(arr.message, /f must be a JSON object/);
});

Deno.test("params: reasoning from reasoning_effort or the reasoning object", () => {
  assertEquals(reasoningOf(req({})), undefined);
  assertEquals(reasoningOf(req({ reasoning_effort: "high" })), { effort: "high" });
  assertEquals(reasoningOf(req({ reasoning_effort: "none" })), { effort: "none", enabled: false });
  assertEquals(reasoningOf(req({ reasoning: { max_tokens: 2048 } })), { budget_tokens: 2048 });
  assertEquals(
    reasoningOf(req({ reasoning: { budget_tokens: 1024, enabled: true, effort: "low" } })),
    { effort: "low", budget_tokens: 1024, enabled: true },
  );
});
