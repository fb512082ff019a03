/**
 * The claude provider's parts: the stream reader (both formats, from bytes split at every
 * position), the error mapping, the prompt and its padding.
 */
import { assert, assertEquals, assertThrows } from "../../assert.ts";
import { readSse } from "../../../src/net/sse.ts";
import type { ChatEvent } from "../../../src/providers/types.ts";
import { ClaudeStreamMapper } from "../../../src/providers/claude/stream.ts";
import { claudeError, resetSeconds, responseError } from "../../../src/providers/claude/errors.ts";
import { claudeConversation, padPrompt } from "../../../src/providers/claude/prompt.ts";
import { completionBody, cookieHeader } from "../../../src/providers/claude/api.ts";
import { emptyFlags } from "../../../src/flags/types.ts";
import { GatewayError } from "../../../src/openai/errors.ts";
import { countTokens } from "../../../src/util/tokens.ts";
import { bodyOf as body } from "../../chunks.ts";
import { loadTokenizer } from "../../../src/util/tokens.ts";

// Counting tokens needs the tokenizer loaded (the server loads it on its first request).
await loadTokenizer();

const enc = new TextEncoder();

async function mapAll(
  text: string,
  cut: number,
): Promise<{ events: ChatEvent[]; m: ClaudeStreamMapper }> {
  const bytes = enc.encode(text);
  const m = new ClaudeStreamMapper("claude-x");
  const events: ChatEvent[] = [];
  for await (const ev of readSse(body([bytes.slice(0, cut), bytes.slice(cut)]))) {
    events.push(...m.map(ev));
    if (m.done) break;
  }
  return { events, m };
}

const LEGACY = [
  'event: ping\ndata: {"type": "ping"}\n\n',
  'event: completion\ndata: {"type":"completion","completion":"Hel","stop_reason":null,"model":"claude-x"}\n\n',
  'event: completion\ndata: {"type":"completion","completion":"lo % ünï","stop_reason":null}\n\n',
  'event: completion\ndata: {"type":"completion","completion":"","stop_reason":"stop_sequence"}\n\n',
  'event: completion\ndata: {"type":"completion","completion":"after the end","stop_reason":null}\n\n',
].join("");

const MESSAGES = [
  'event: message_start\ndata: {"type":"message_start","message":{"id":"x","content":[]}}\n\n',
  'event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}}\n\n',
  'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"hmm"}}\n\n',
  'event: content_block_start\ndata: {"type":"content_block_start","index":1,"content_block":{"type":"text","text":"A"}}\n\n',
  'event: content_block_delta\ndata: {"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"nswer"}}\n\n',
  'event: content_block_delta\ndata: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{"}}\n\n',
  'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn"}}\n\n',
  'event: message_limit\ndata: {"type":"message_limit","message_limit":{"type":"within_limit"}}\n\n',
  'event: message_stop\ndata: {"type":"message_stop"}\n\n',
].join("");

Deno.test("claude stream: the original format at every split", async () => {
  for (let cut = 0; cut <= enc.encode(LEGACY).length; cut++) {
    const { events, m } = await mapAll(LEGACY, cut);
    assertEquals(events, [{ type: "text", text: "Hel" }, { type: "text", text: "lo % ünï" }]);
    assertEquals(m.finish, "stop");
  }
});

Deno.test("claude stream: the message-style format at every split", async () => {
  for (let cut = 0; cut <= enc.encode(MESSAGES).length; cut += 3) {
    const { events, m } = await mapAll(MESSAGES, cut);
    assertEquals(events, [
      { type: "reasoning", text: "hmm" },
      { type: "text", text: "A" },
      { type: "text", text: "nswer" },
    ]);
    assert(m.done);
    assertEquals(m.finish, "stop");
  }
});

Deno.test("claude stream: error events become mapped errors; events without a name use their type", () => {
  const m = new ClaudeStreamMapper("claude-x");
  assertEquals(
    m.map({ data: '{"type":"completion","completion":"x","stop_reason":"max_tokens"}' }),
    [
      { type: "text", text: "x" },
    ],
  );
  assertEquals(m.finish, "length");
  const rate = assertThrows(() =>
    m.map({
      event: "error",
      data: '{"type":"error","error":{"type":"rate_limit_error","message":"slow"}}',
    })
  ) as GatewayError;
  assertEquals(rate.status, 429);
  const over = assertThrows(() =>
    m.map({
      event: "error",
      data: '{"type":"error","error":{"type":"overloaded_error","message":"busy"}}',
    })
  ) as GatewayError;
  assertEquals(over.status, 503);
  assertEquals(m.map({ event: "completion", data: "not json" }), []);
});

Deno.test("claude errors: statuses, Invalid model, reset times", async () => {
  const now = Math.floor(Date.now() / 1000);
  assertEquals(
    claudeError(400, { type: "invalid_request_error", message: "Invalid model" }, { model: "m" })
      .status,
    404,
  );
  assertEquals(claudeError(401, { message: "x" }).status, 401);
  assertEquals(claudeError(403, { type: "permission_error", message: "x" }).status, 403);
  assertEquals(claudeError(500, { message: "x" }).status, 502);
  assertEquals(claudeError(529, { type: "overloaded_error", message: "x" }).status, 503);
  assertEquals(claudeError(404, { type: "not_found_error", message: "Not found" }).status, 502);
  // resetsAt inside the JSON message, resets_at on the error, ISO dates, milliseconds.
  const inner = { message: JSON.stringify({ type: "exceeded_limit", resetsAt: now + 100 }) };
  assert(Math.abs(resetSeconds(undefined, inner)! - 100) <= 1);
  assert(Math.abs(resetSeconds(undefined, { resets_at: now + 50 })! - 50) <= 1);
  const iso = new Date(Date.now() + 60_000).toISOString();
  assert(Math.abs(resetSeconds({ resets_at: iso }, {})! - 60) <= 1);
  assert(Math.abs(resetSeconds(undefined, { resetsAt: (now + 30) * 1000 })! - 30) <= 1);
  assertEquals(resetSeconds(undefined, { resetsAt: now - 10 }), undefined);
  const res = new Response(
    JSON.stringify({ type: "error", error: { type: "rate_limit_error", message: inner.message } }),
    { status: 429, headers: { "content-type": "application/json" } },
  );
  const err = await responseError(res);
  assertEquals(err.status, 429);
  assert(Math.abs(err.retryAfter! - 100) <= 1);
  assert(err.message.includes("exceeded_limit"), err.message);
  // Retry-After wins over the body.
  const withHeader = await responseError(
    new Response("{}", { status: 429, headers: { "retry-after": "7" } }),
  );
  assertEquals(withHeader.retryAfter, 7);
});

Deno.test("claude prompt: Human/Assistant turns, char_sequences, % untouched", () => {
  const flags = emptyFlags();
  const text = claudeConversation(
    [
      { role: "system", content: "sys 100%" },
      { role: "user", content: "a %s b %d" },
      { role: "assistant", content: "ok" },
      { role: "user", content: "again" },
    ],
    flags,
    25000,
  );
  assertEquals(
    text,
    "sys 100%\n\nHuman: a %s b %d\n\nAssistant: ok\n\nHuman: again\n\nAssistant: ",
  );
  const seq = { ...flags, charSequences: { user: "U:", assistant: "A:" } };
  assertEquals(
    claudeConversation([{ role: "user", content: "hi" }], seq, 25000),
    "U:hi\n\nA:",
  );
});

Deno.test("claude pad: junk before the prompt until the target token count", () => {
  const prompt = "Human: hi\n\nAssistant: ";
  for (let i = 0; i < 20; i++) {
    const padded = padPrompt(prompt, 2000);
    assert(padded.endsWith("\n\n\n" + prompt));
    const junk = padded.slice(0, -(prompt.length + 3));
    assertEquals(/^[A-Za-z0-9]+$/.test(junk), true);
    assertEquals(junk.length % 100, 0);
    assert(countTokens(padded) >= 2000, `${countTokens(padded)} tokens`);
    // Not much more than needed: about one line of junk over the target at most.
    assert(countTokens(padded) < 2000 + 150, `${countTokens(padded)} tokens`);
  }
  assertEquals(padPrompt(prompt, 3), prompt);
  const flags = { ...emptyFlags(), pad: true };
  const viaFlag = claudeConversation([{ role: "user", content: "hi" }], flags, 500);
  assert(viaFlag.endsWith("\n\n\nHuman: hi\n\nAssistant: ") && countTokens(viaFlag) >= 500);
});

Deno.test("claude api: cookie header and completion body", () => {
  assertEquals(cookieHeader("sk-ant-sid01-abc"), "sessionKey=sk-ant-sid01-abc");
  assertEquals(cookieHeader("sessionKey=abc; other=1"), "sessionKey=abc; other=1");
  const b = completionBody("claude-3-opus-20240229", "ünï");
  assertEquals(b.attachments[0].file_size, 5);
  assertEquals(b.rendering_mode, "raw");
  assertEquals(b.files, []);
});
