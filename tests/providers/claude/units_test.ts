/**
 * The claude provider's parts: the stream reader (both renderings, from bytes split at every
 * position; a stream without its end is an error), the error mapping (reset times, disabled
 * organizations, Cloudflare blocks), the account facts, the session cookie, the request body, the
 * model ids, the prompt and its padding.
 */
import { assert, assertEquals, assertRejects, assertThrows } from "../../assert.ts";
import { readSse } from "../../../src/net/sse.ts";
import type { ChatEvent } from "../../../src/providers/types.ts";
import { fromClaudeStream } from "../../../src/providers/claude/stream.ts";
import { claudeError, resetSeconds, responseError } from "../../../src/providers/claude/errors.ts";
import {
  accountFrom,
  checkBootstrap,
  sessionCookie,
} from "../../../src/providers/claude/account.ts";
import { toClaudeRequest, wantsThinking } from "../../../src/providers/claude/request.ts";
import { claudeModel, listedModels } from "../../../src/providers/claude/models.ts";
import { claudeConversation, padPrompt } from "../../../src/providers/claude/prompt.ts";
import { emptyFlags } from "../../../src/flags/types.ts";
import { GatewayError } from "../../../src/openai/errors.ts";
import type { ChatRequest } from "../../../src/openai/schema.ts";
import { countTokens } from "../../../src/util/tokens.ts";
import { bodyOf, collect, splits } from "../../chunks.ts";
import { loadTokenizer } from "../../../src/util/tokens.ts";

// Counting tokens needs the tokenizer loaded (the server loads it on its first request).
await loadTokenizer();

const RAW = [
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
  'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"max_tokens"}}\n\n',
  'event: message_limit\ndata: {"type":"message_limit","message_limit":{"type":"within_limit"}}\n\n',
  'event: message_stop\ndata: {"type":"message_stop"}\n\n',
].join("");

function eventsOf(pieces: Uint8Array[]): Promise<ChatEvent[]> {
  return collect(fromClaudeStream(readSse(bodyOf(pieces)), "claude-x"));
}

Deno.test("claude stream: the raw rendering at every split stops at its stop reason", async () => {
  for (const pieces of splits(RAW)) {
    assertEquals(await eventsOf(pieces), [
      { type: "text", text: "Hel" },
      { type: "text", text: "lo % ünï" },
      { type: "finish", reason: "stop" },
    ]);
  }
});

Deno.test("claude stream: the messages rendering at every split gives reasoning, text, finish", async () => {
  for (const pieces of splits(MESSAGES)) {
    assertEquals(await eventsOf(pieces), [
      { type: "reasoning", text: "hmm" },
      { type: "text", text: "A" },
      { type: "text", text: "nswer" },
      { type: "finish", reason: "length" },
    ]);
  }
});

Deno.test("claude stream: a stream without message_stop or a stop reason is a 502", async () => {
  const enc = new TextEncoder();
  for (
    const text of [
      MESSAGES.replace(/event: message_stop[^\n]*\n[^\n]*\n\n/, ""),
      RAW.split("event: completion").slice(0, 3).join("event: completion"),
    ]
  ) {
    const err = await assertRejects(() => eventsOf([enc.encode(text)]), GatewayError);
    assertEquals(err.status, 502);
    assert(err.message.includes("ended before its end"), err.message);
  }
});

Deno.test("claude stream: error events become mapped errors", async () => {
  const enc = new TextEncoder();
  const stream = (error: unknown) =>
    eventsOf([enc.encode(`event: error\ndata: ${JSON.stringify({ type: "error", error })}\n\n`)]);
  assertEquals(
    (await assertRejects(() => stream({ type: "rate_limit_error", message: "slow" }), GatewayError))
      .status,
    429,
  );
  assertEquals(
    (await assertRejects(() => stream({ type: "overloaded_error", message: "busy" }), GatewayError))
      .status,
    503,
  );
});

Deno.test("claude errors: statuses, Invalid model, a disabled organization, reset times", async () => {
  const now = Math.floor(Date.now() / 1000);
  assertEquals(
    claudeError(400, { type: "invalid_request_error", message: "Invalid model" }, { model: "m" })
      .status,
    404,
  );
  const disabled = claudeError(400, {
    type: "invalid_request_error",
    message: "This organization has been disabled.",
  });
  assertEquals([disabled.status, disabled.code], [403, "account_disabled"]);
  assertEquals(claudeError(401, { message: "x" }).status, 401);
  assertEquals(claudeError(403, { type: "permission_error", message: "x" }).status, 403);
  assertEquals(claudeError(500, { message: "x" }).status, 502);
  assertEquals(claudeError(529, { type: "overloaded_error", message: "x" }).status, 503);
  // resetsAt inside the JSON message, on the error, ISO dates, milliseconds, the header.
  const inner = { message: JSON.stringify({ type: "exceeded_limit", resetsAt: now + 100 }) };
  assert(Math.abs(resetSeconds(inner)! - 100) <= 1);
  assert(Math.abs(resetSeconds({ resets_at: now + 50 })! - 50) <= 1);
  const iso = new Date(Date.now() + 60_000).toISOString();
  assert(Math.abs(resetSeconds({ resets_at: iso })! - 60) <= 1);
  assert(Math.abs(resetSeconds({ resetsAt: (now + 30) * 1000 })! - 30) <= 1);
  assertEquals(resetSeconds({ resetsAt: now - 10 }), undefined);
  const unified = new Headers({ "anthropic-ratelimit-unified-reset": String(now + 900) });
  assert(Math.abs(resetSeconds({ message: "limit" }, unified)! - 900) <= 1);
  // The body's reset wins over the header, the header over Retry-After.
  unified.set("retry-after", "7");
  assert(Math.abs(resetSeconds(inner, unified)! - 100) <= 1);
  assertEquals(resetSeconds({ message: "x" }, new Headers({ "retry-after": "7" })), 7);
  const res = new Response(
    JSON.stringify({ type: "error", error: { type: "rate_limit_error", message: inner.message } }),
    { status: 429, headers: { "content-type": "application/json" } },
  );
  const err = await responseError(res);
  assertEquals(err.status, 429);
  assert(Math.abs(err.retryAfter! - 100) <= 1);
  assert(err.message.includes("exceeded_limit"), err.message);
  // A redirect is Cloudflare blocking the address: a 502, not an auth failure.
  const moved = await responseError(
    new Response(null, { status: 302, headers: { location: "https://claude.ai/login" } }),
  );
  assertEquals([moved.status, moved.code], [502, "upstream_blocked"]);
});

Deno.test("claude account: the organization that can chat, its plan, its flags", () => {
  const api = { uuid: "api-org", capabilities: ["api", "api_individual", "billing"] };
  const chat = { uuid: "chat-org", capabilities: ["chat", "claude_pro"], active_flags: [] };
  const a = accountFrom([api, chat]);
  assertEquals([a.org, a.paid], ["chat-org", true]);
  assertEquals(accountFrom([{ uuid: "f", capabilities: ["chat"] }]).paid, false);
  assertEquals(accountFrom([{ uuid: "m", capabilities: ["chat", "claude_max"] }]).paid, true);
  const none = assertThrows(() => accountFrom([api])) as GatewayError;
  assertEquals([none.status, none.code], [403, "account_no_chat"]);
  const later = new Date(Date.now() + 3600_000).toISOString();
  const earlier = new Date(Date.now() - 3600_000).toISOString();
  const banned = assertThrows(() =>
    accountFrom([{ ...chat, active_flags: [{ type: "consumer_banned", expires_at: null }] }])
  ) as GatewayError;
  assertEquals([banned.status, banned.code], [403, "account_banned"]);
  const restricted = assertThrows(() =>
    accountFrom([{ ...chat, active_flags: [{ type: "consumer_restricted", expires_at: later }] }])
  ) as GatewayError;
  assertEquals([restricted.status, restricted.code], [429, "account_restricted"]);
  assert(Math.abs(restricted.retryAfter! - 3600) <= 2);
  // Expired flags are history; warnings are notes.
  const ok = accountFrom([{
    ...chat,
    active_flags: [
      { type: "consumer_banned", expires_at: earlier },
      { type: "first_warning", expires_at: later },
    ],
  }]);
  assertEquals(ok.notes.length, 1);
  const loggedOut = assertThrows(() => checkBootstrap({ account: null })) as GatewayError;
  assertEquals(loggedOut.status, 401);
  checkBootstrap({ account: { memberships: [] } });
});

Deno.test("claude session cookie: sid01 and sid02, bare or in a cookie string", () => {
  const k1 = "sk-ant-sid01-" + "a".repeat(86) + "-bbbbbbAA";
  const k2 = "sk-ant-sid02-" + "c".repeat(109) + "-ddddddAA";
  assertEquals(sessionCookie(k1), `sessionKey=${k1}`);
  assertEquals(sessionCookie(` ${k2}\n`), `sessionKey=${k2}`);
  assertEquals(sessionCookie(`sessionKey=${k2}; lastActiveOrg=x`), `sessionKey=${k2}`);
  assertEquals(sessionCookie(`Cookie: a=1; sessionKey=${k1}`), `sessionKey=${k1}`);
  assertEquals(sessionCookie(`intercom=1; ${k1}`), `sessionKey=${k1}`);
});

Deno.test("claude request: the completion body's fields; model and thinking only on paid plans", () => {
  const req = (extra: Partial<ChatRequest> = {}) =>
    ({ model: "m", messages: [{ role: "user", content: "hi" }], ...extra }) as ChatRequest;
  const o = { conversation: "ünï", prompt: "", timezone: "Europe/Paris" };
  const paid = toClaudeRequest(req({ stream: true }), {
    ...o,
    model: claudeModel("claude-opus-4-8-thinking")!,
    paid: true,
  });
  assertEquals(paid.thinking, true);
  assertEquals(paid.body, {
    prompt: "",
    attachments: [{
      extracted_content: "ünï",
      file_name: "paste.txt",
      file_type: "txt",
      file_size: 5,
    }],
    files: [],
    rendering_mode: "messages",
    timezone: "Europe/Paris",
    tools: [],
    model: "claude-opus-4-8",
  });
  const free = toClaudeRequest(req({ max_tokens: 100 }), {
    ...o,
    model: claudeModel("claude-opus-4-8-thinking")!,
    paid: false,
  });
  assertEquals(free.thinking, false);
  assertEquals(free.body.model, undefined);
  assertEquals(free.body.rendering_mode, "raw");
  assertEquals(free.body.max_tokens_to_sample, 100);
  const plain = claudeModel("claude-sonnet-4-6")!;
  assertEquals(wantsThinking(req(), plain), false);
  assertEquals(wantsThinking(req({ reasoning_effort: "low" }), plain), true);
  assertEquals(
    wantsThinking(
      req({ reasoning_effort: "none" } as Partial<ChatRequest>),
      claudeModel("claude-opus-5-thinking")!,
    ),
    false,
  );
});

Deno.test("claude models: defaults, thinking variants, retired ids, others passed on", () => {
  assertEquals(claudeModel("claude"), { thinking: false });
  assertEquals(claudeModel("claude-3-thinking"), { thinking: true });
  assertEquals(claudeModel("claude-opus-4-8-thinking"), { id: "claude-opus-4-8", thinking: true });
  assertEquals(claudeModel("claude-3-5-sonnet-20240620"), {
    id: "claude-sonnet-4-5-20250929",
    thinking: false,
  });
  assertEquals(claudeModel("claude-future-9"), { id: "claude-future-9", thinking: false });
  assertEquals(claudeModel("gpt-4o"), undefined);
  const listed = listedModels();
  assert(listed.includes("claude-haiku-4-5-20251001-thinking") && listed.includes("claude"));
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
    assert(countTokens(padded) < 2000 + 150, `${countTokens(padded)} tokens`);
  }
  assertEquals(padPrompt(prompt, 3), prompt);
  const flags = { ...emptyFlags(), pad: true };
  const viaFlag = claudeConversation([{ role: "user", content: "hi" }], flags, 500);
  assert(viaFlag.endsWith("\n\n\nHuman: hi\n\nAssistant: ") && countTokens(viaFlag) >= 500);
});
