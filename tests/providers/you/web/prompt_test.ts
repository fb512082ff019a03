/**
 * The you.com request parts that need no server: the conversation as query and history or as an
 * uploaded file, the cookie rewrites, and the answer stream parser fed split at every position.
 */
import type { Message } from "../../../../src/openai/schema.ts";
import { answerDeltas } from "../../../../src/providers/you/web/api.ts";
import { accountCookies, cookieHeader } from "../../../../src/providers/you/web/cookies.ts";
import { youModel } from "../../../../src/providers/you/web/mod.ts";
import {
  buildPrompt,
  CONTINUE,
  describePrompt,
  URL_LIMIT,
} from "../../../../src/providers/you/web/prompt.ts";
import { configSchema } from "../../../../src/config/schema.ts";
import { GatewayError } from "../../../../src/openai/errors.ts";
import { assert, assertEquals, assertRejects } from "../../../assert.ts";
import { loadTokenizer } from "../../../../src/util/tokens.ts";

await loadTokenizer();

const OPTS = { fileTokens: 12000, notice: "Please review the attached prompt" };

Deno.test("short conversation: history as pairs, last user turn as q, system on the user side", () => {
  const messages: Message[] = [
    { role: "system", content: "Be terse." },
    { role: "user", content: "Hi" },
    { role: "assistant", content: "Hello." },
    { role: "user", content: "50% off?" },
    { role: "user", content: [{ type: "text", text: "Really?" }] },
  ];
  const p = buildPrompt(messages, OPTS);
  assertEquals(p.file, undefined);
  assertEquals(p.chat, [{ question: "Be terse.\n\nHi", answer: "Hello." }]);
  // `%` passes untouched; same-role turns merge.
  assertEquals(p.query, "50% off?\n\nReally?");
  assert(p.tokens > 5);
});

Deno.test("a lone surrogate in the prompt is measured as the URL carries it, never a URIError (issue item 9)", () => {
  const p = buildPrompt([{ role: "user", content: "broken \uD800 text" }], OPTS);
  assertEquals(p.file, undefined);
  assertEquals(p.query, "broken \uD800 text");
});

Deno.test("gaps in the history are filled; an assistant last turn asks to continue", () => {
  const p = buildPrompt([
    { role: "assistant", content: "I start." },
    { role: "user", content: "Go on" },
    { role: "assistant", content: "Part one" },
  ], OPTS);
  assertEquals(p.chat, [
    { question: "ok ~", answer: "I start." },
    { question: "Go on", answer: "Part one" },
  ]);
  assertEquals(p.query, CONTINUE);
});

Deno.test("tool results become user text naming the tool", () => {
  const p = buildPrompt([
    { role: "user", content: "Weather?" },
    {
      role: "assistant",
      content: null,
      tool_calls: [{
        id: "call_1",
        type: "function",
        function: { name: "weather", arguments: '{"city":"Oslo"}' },
      }],
    },
    { role: "tool", tool_call_id: "call_1", content: "rain" },
  ], OPTS);
  assertEquals(p.chat[0].question, "Weather?");
  assertEquals(p.chat[0].answer, '[called tool weather with arguments {"city":"Oslo"}]');
  assertEquals(p.query, "[result of tool weather]\nrain");
});

Deno.test("long conversation: uploaded as Human/Assistant text, q is the notice", () => {
  const long = "word ".repeat(200);
  const messages: Message[] = [
    { role: "system", content: "Rules." },
    { role: "user", content: long },
    { role: "assistant", content: "Ok." },
    { role: "user", content: "Summarise." },
  ];
  const p = buildPrompt(messages, { ...OPTS, fileTokens: 100 });
  assertEquals(p.query, OPTS.notice);
  assertEquals(p.chat, []);
  assertEquals(
    p.file,
    `Rules.\n\nHuman: ${long.trim()}\n\nAssistant: Ok.\n\nHuman: Summarise.\n\nAssistant: `,
  );
  assert(describePrompt(p).startsWith("[file messages.txt]\nRules."));
  // The same conversation under the threshold stays in the query.
  assertEquals(buildPrompt(messages, OPTS).file, undefined);
});

Deno.test("a query too long for a URL goes as a file even under the token threshold", () => {
  const p = buildPrompt([{ role: "user", content: "é".repeat(URL_LIMIT / 4) }], OPTS);
  assert(p.file !== undefined, "URL-encoded é takes 6 characters each");
  const q = buildPrompt([{ role: "user", content: "e".repeat(URL_LIMIT / 4) }], OPTS);
  assertEquals(q.file, undefined);
});

Deno.test("char_sequences replace the role prefixes of the uploaded text", () => {
  const p = buildPrompt([{ role: "user", content: "x ".repeat(50) }], {
    ...OPTS,
    fileTokens: 10,
    charSequences: { user: "Me:", assistant: "Bot:" },
  });
  assertEquals(p.file, `Me:${"x ".repeat(50).trim()}\n\nBot:`);
});

Deno.test("describePrompt shows history and query for <echo />", () => {
  const text = describePrompt(buildPrompt([
    { role: "user", content: "a" },
    { role: "assistant", content: "b" },
    { role: "user", content: "c" },
  ], OPTS));
  assertEquals(text, "[question]\na\n\n[answer]\nb\n\n[q]\nc");
});

Deno.test("cookie rewrites: safe search off, freemium, selected model, upload hint, clearance", () => {
  const header = cookieHeader(
    "Cookie: stytch_session=abc; safesearch_guest=Moderate; you_subscription=free; ai_model=gpt_4o; cf_clearance=old; x=1=2",
    "claude_3_opus",
    { cf_clearance: "new", __cf_bm: "bm" },
  );
  assertEquals(
    header,
    "stytch_session=abc; safesearch_guest=Off; you_subscription=freemium; ai_model=claude_3_opus; cf_clearance=new; x=1=2; has_seen_agent_uploads_modal=true; __cf_bm=bm",
  );
  // A bare token is a session.
  assertEquals(accountCookies("tok-123"), [["stytch_session", "tok-123"], [
    "ydc_stytch_session",
    "tok-123",
  ]]);
});

Deno.test("model ids: built-in modes, configured extras, nothing else", () => {
  const config = configSchema.parse({ you: { models: ["gpt_5"] } });
  assertEquals(youModel("you/gpt_4o", config), "gpt_4o");
  assertEquals(youModel("you/claude_3_5_sonnet", config), "claude_3_5_sonnet");
  assertEquals(youModel("you/gemini_1_5_flash", config), "gemini_1_5_flash");
  assertEquals(youModel("you/gpt_5", config), "gpt_5");
  assertEquals(youModel("you/nope", config), undefined);
  assertEquals(youModel("gpt_4o", config), undefined);
});

const STREAM = 'event: youChatModeLimits\ndata: {"gpt_4o":{"remaining":3}}\n\n' +
  'event: youChatToken\r\ndata: {"youChatToken": "Hel"}\r\n\r\n' +
  'event: youChatToken\ndata: {"youChatToken": "#### You\'ve hit your free quota for GPT-4 mode. x"}\n\n' +
  'event: youChatToken\ndata: {"youChatToken": "lo, ✓ wörld"}\n\n' +
  "event: done\ndata: I'm done!\n\n" +
  'event: youChatToken\ndata: {"youChatToken": "after done"}\n\n';

function body(parts: Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(c) {
      for (const p of parts) c.enqueue(p);
      c.close();
    },
  });
}

async function collect(stream: ReadableStream<Uint8Array>, notices: string[] = []) {
  const it = answerDeltas(stream, (n) => notices.push(n));
  const out: string[] = [];
  while (true) {
    const r = await it.next();
    if (r.done) return { out, done: r.value };
    out.push(r.value);
  }
}

Deno.test("answer stream parser gives the same deltas however the bytes are split", async () => {
  const bytes = new TextEncoder().encode(STREAM);
  for (let cut = 0; cut <= bytes.length; cut++) {
    const notices: string[] = [];
    const { out, done } = await collect(
      body([bytes.slice(0, cut), bytes.slice(cut)]),
      notices,
    );
    assertEquals(out, ["Hel", "lo, ✓ wörld"], `split at ${cut}`);
    assertEquals(done, true);
    assertEquals(notices.length, 1);
  }
  // One byte at a time.
  const { out } = await collect(body([...bytes].map((b) => new Uint8Array([b]))));
  assertEquals(out.join(""), "Hello, ✓ wörld");
});

Deno.test("answer stream parser: no done, and broken token JSON", async () => {
  const enc = new TextEncoder();
  const r = await collect(
    body([enc.encode('event: youChatToken\ndata: {"youChatToken":"a"}\n\n')]),
  );
  assertEquals(r, { out: ["a"], done: false });
  const err = await assertRejects(
    () => collect(body([enc.encode("event: youChatToken\ndata: {oops\n\n")])),
    GatewayError,
  );
  assertEquals(err.status, 502);
});
