/**
 * The claude provider through the running gateway, with the official `openai` client, against
 * the fake claude.ai.
 */
import OpenAI from "openai";
import {
  assert,
  assertEquals,
  assertMatch,
  assertRejects,
  assertStringIncludes,
} from "../../assert.ts";
import { type ClaudeAccount, rateLimitMessage, startFakeClaude } from "../../fakes/claude.ts";
import {
  abortedWithin,
  parseSseBody,
  readTextThenAbort,
  settled,
  startGateway,
  waitFor,
} from "../../helpers.ts";
import { countTokens } from "../../../src/util/tokens.ts";
import { ask, poolAccounts, streamText } from "../web_helpers.ts";

async function setup(
  accounts: Partial<ClaudeAccount>[] = [{}],
  claude: Record<string, unknown> = {},
  server: Record<string, unknown> = { password: ["gateway-pass"] },
) {
  const fake = await startFakeClaude(accounts);
  const gw = await startGateway({
    server,
    claude: { "base-url": fake.origin, cookies: fake.accounts.map((a) => a.sessionKey), ...claude },
  });
  const client = new OpenAI({ baseURL: gw.url, apiKey: "gateway-pass", maxRetries: 0 });
  return {
    fake,
    gw,
    client,
    pool: () => poolAccounts(gw, "claude", "gateway-pass"),
    async [Symbol.asyncDispose]() {
      await settled(gw, "claude");
      await gw.close();
      await fake.close();
    },
  };
}

function paths(fake: { requests: { method: string; path: string }[] }): string[] {
  return fake.requests.map((r) => `${r.method} ${r.path.replace(/[0-9a-f-]{36}/g, ":id")}`);
}

Deno.test("claude: models are listed", async () => {
  await using t = await setup();
  const ids: string[] = [];
  for await (const m of t.client.models.list()) ids.push(m.id);
  for (const id of ["claude", "claude-3", "claude-3-5-sonnet-20240620", "claude-3-opus-20240229"]) {
    assert(ids.includes(id), `${id} listed in ${ids.join(", ")}`);
  }
});

Deno.test("claude: a plain answer walks org, statsig, create, completion, delete", async () => {
  await using t = await setup();
  const res = await t.client.chat.completions.create({
    model: "claude",
    messages: [
      { role: "system", content: "Be brief." },
      { role: "user", content: "ping" },
    ],
  });
  assertEquals(res.model, "claude");
  assertEquals(res.choices[0].message.content, "Hello from claude.ai!");
  assertEquals(res.choices[0].finish_reason, "stop");
  await settled(t.gw, "claude");
  assertEquals(paths(t.fake), [
    "GET /api/organizations",
    "GET /api/bootstrap/:id/statsig",
    "POST /api/organizations/:id/chat_conversations",
    "POST /api/organizations/:id/chat_conversations/:id/completion",
    "DELETE /api/organizations/:id/chat_conversations/:id",
  ]);
  const call = t.fake.completions[0];
  // `claude` is the account's default model from statsig.
  assertEquals(call.body.model, "claude-3-5-sonnet-20240620");
  assertEquals(call.body.rendering_mode, "raw");
  assertEquals(call.body.prompt, " ");
  const paste = call.body.attachments[0];
  assertEquals(paste.file_name, "paste.txt");
  assertEquals(paste.file_type, "text/plain");
  assertEquals(paste.extracted_content, "Be brief.\n\nHuman: ping\n\nAssistant: ");
  assertEquals(paste.file_size, new TextEncoder().encode(paste.extracted_content).length);
  assertEquals(t.fake.deleted, [call.conv]);
  const headers = call.rec.headers;
  assertEquals(headers.get("accept"), "text/event-stream");
  assertEquals(headers.get("origin"), "https://claude.ai");
  // Usage: the prompt counted with the tokenizer, not guessed.
  assertEquals(res.usage!.prompt_tokens, countTokens(paste.extracted_content));
  assertEquals(res.usage!.completion_tokens, countTokens("Hello from claude.ai!"));
});

Deno.test("claude: streamed deltas pass through, % untouched, finish and usage last", async () => {
  await using t = await setup();
  const answer = "50% off: 100%s %d %% done";
  t.fake.respond = () => ({ text: answer, pieceSize: 4, delayMs: 2 });
  const { chunks, parts, finish, usage } = await streamText(t.client, {
    model: "claude-3-opus-20240229",
    messages: [{ role: "user", content: "discount 50% off %s" }],
  });
  for (const chunk of chunks) assertEquals(chunk.model, "claude-3-opus-20240229");
  assertEquals(parts.join(""), answer);
  assert(parts.length >= 5, `answer came in ${parts.length} pieces`);
  assertEquals(finish, "stop");
  assert(usage && usage.completion_tokens === countTokens(answer));
  const call = t.fake.completions[0];
  assertEquals(call.body.model, "claude-3-opus-20240229");
  assertStringIncludes(call.body.attachments[0].extracted_content, "Human: discount 50% off %s");
});

Deno.test("claude: the message-style stream gives reasoning and text; max_tokens is length", async () => {
  await using t = await setup();
  t.fake.respond = () => ({
    format: "messages",
    thinking: "Let me think.",
    text: "Done thinking.",
    stopReason: "max_tokens",
  });
  const stream = await t.client.chat.completions.create({
    model: "claude-3-haiku-20240307",
    messages: [{ role: "user", content: "think" }],
    stream: true,
  });
  let reasoning = "";
  let text = "";
  let finish: string | null = null;
  for await (const chunk of stream) {
    const d = chunk.choices[0]?.delta as { content?: string; reasoning_content?: string };
    if (d?.reasoning_content) reasoning += d.reasoning_content;
    if (d?.content) text += d.content;
    finish = chunk.choices[0]?.finish_reason ?? finish;
  }
  assertEquals(reasoning, "Let me think.");
  assertEquals(text, "Done thinking.");
  assertEquals(finish, "length");
});

Deno.test("claude: a Pro account names the model when creating the conversation", async () => {
  await using t = await setup([{ pro: true }]);
  await t.client.chat.completions.create({
    model: "claude-3-opus-20240229",
    messages: [{ role: "user", content: "hi" }],
  });
  const conv = t.fake.conversations.get(t.fake.completions[0].conv)!;
  assertEquals(conv.model, "claude-3-opus-20240229");
});

Deno.test("claude: an assistant prefill is continued, char_sequences-free prompt keeps roles", async () => {
  await using t = await setup();
  await t.client.chat.completions.create({
    model: "claude",
    messages: [
      { role: "user", content: "Count to three." },
      { role: "assistant", content: "One," },
    ],
  });
  assertEquals(
    t.fake.completions[0].body.attachments[0].extracted_content,
    "Human: Count to three.\n\nAssistant: One,",
  );
});

Deno.test("claude: Invalid model is a 404 without blame on the account or a retry", async () => {
  await using t = await setup([{}, {}]);
  const err = await assertRejects(() => ask(t.client, "claude-9-nonexistent"), OpenAI.APIError);
  assertEquals(err.status, 404);
  assertEquals(err.code, "model_not_found");
  assertStringIncludes(err.message, "claude-9-nonexistent");
  // One attempt only (no retry on the second cookie), and the conversation was still deleted.
  assertEquals(t.fake.requests.filter((r) => r.path.endsWith("/completion")).length, 1);
  await settled(t.gw, "claude");
  assertEquals(t.fake.deleted.length, 1);
  const pool = await t.pool();
  assertEquals(pool.length, 2);
  assert(pool.every((a) => a.ready && a.busy === 0), JSON.stringify(pool));
});

Deno.test("claude: 403 sets the account aside and the next cookie answers", async () => {
  await using t = await setup([{}, {}]);
  const [first] = t.fake.accounts;
  t.fake.respond = (call) =>
    call.sessionKey === first.sessionKey
      ? { error: { status: 403, type: "permission_error", message: "Account suspended" } }
      : { text: "second account" };
  const res = await t.client.chat.completions.create({
    model: "claude",
    messages: [{ role: "user", content: "hi" }],
  });
  assertEquals(res.choices[0].message.content, "second account");
  assertEquals(
    t.fake.completions.map((c) => c.sessionKey),
    t.fake.accounts.map((a) => a.sessionKey),
  );
  const pool = await t.pool();
  const aside = pool.filter((a) => !a.ready);
  assertEquals(aside.length, 1);
  assertStringIncludes(aside[0].last_error!, "403");
  assert(!aside[0].id.includes(first.sessionKey), "pool ids are masked");
  // Both conversations are deleted.
  await settled(t.gw, "claude");
  assertEquals(t.fake.deleted.length, 2);
});

Deno.test("claude: 429 with resetsAt rests the account until then; the next cookie answers", async () => {
  await using t = await setup([{}, {}]);
  const [first] = t.fake.accounts;
  const resetsAt = Math.floor(Date.now() / 1000) + 7200;
  t.fake.respond = (call) =>
    call.sessionKey === first.sessionKey
      ? { error: { status: 429, type: "rate_limit_error", message: rateLimitMessage(resetsAt) } }
      : { text: "fresh account" };
  const res = await t.client.chat.completions.create({
    model: "claude",
    messages: [{ role: "user", content: "hi" }],
  });
  assertEquals(res.choices[0].message.content, "fresh account");
  const aside = (await t.pool()).filter((a) => !a.ready);
  assertEquals(aside.length, 1);
  const until = Date.parse(aside[0].aside_until!) / 1000;
  assert(Math.abs(until - resetsAt) < 5, `aside until ${until}, resets at ${resetsAt}`);
});

Deno.test("claude: 429 without a reset time rests the account for the default hour", async () => {
  await using t = await setup([{}]);
  t.fake.respond = () => ({
    error: { status: 429, type: "rate_limit_error", message: "Too many requests" },
  });
  const err = await assertRejects(() => ask(t.client, "claude"), OpenAI.APIError);
  assertEquals(err.status, 429);
  const [a] = await t.pool();
  const seconds = (Date.parse(a.aside_until!) - Date.now()) / 1000;
  assert(seconds > 3500 && seconds <= 3600, `aside for ${seconds}s`);
  // Now every account rests: a clear 429 with Retry-After.
  const res = await fetch(`${t.gw.url}/chat/completions`, {
    method: "POST",
    headers: { authorization: "Bearer gateway-pass", "content-type": "application/json" },
    body: JSON.stringify({ model: "claude", messages: [{ role: "user", content: "hi" }] }),
  });
  assertEquals(res.status, 429);
  assert(Number(res.headers.get("retry-after")) > 3500);
  assertStringIncludes((await res.json()).error.message, "cooling down");
  assertEquals(t.fake.completions.length, 1);
});

Deno.test("claude: Retry-After and claude.cooldown decide the rest", async () => {
  await using t = await setup([{}, {}], { cooldown: 120 });
  const [first, second] = t.fake.accounts;
  t.fake.respond = (call) =>
    call.sessionKey === first.sessionKey
      ? {
        error: {
          status: 429,
          type: "rate_limit_error",
          message: "slow down",
          headers: { "retry-after": "30" },
        },
      }
      : call.sessionKey === second.sessionKey
      ? { error: { status: 429, type: "rate_limit_error", message: "slow down" } }
      : {};
  const err = await assertRejects(() => ask(t.client, "claude"), OpenAI.APIError);
  assertEquals(err.status, 429);
  const rest = (await t.pool()).map((a) =>
    Math.round((Date.parse(a.aside_until!) - Date.now()) / 1000)
  );
  rest.sort((a, b) => a - b);
  assert(rest[0] > 25 && rest[0] <= 30, `retry-after rest ${rest[0]}`);
  assert(rest[1] > 110 && rest[1] <= 120, `configured cooldown ${rest[1]}`);
});

Deno.test("claude: one request per cookie at a time unless claude.concurrency says more", async () => {
  for (const concurrency of [undefined, 2]) {
    await using t = await setup([{}], concurrency ? { concurrency } : {});
    t.fake.respond = () => ({ text: "slow answer here", delayMs: 30 });
    const both = await Promise.all([ask(t.client, "claude"), ask(t.client, "claude")]);
    assertEquals(both.map((r) => r.choices[0].message.content), [
      "slow answer here",
      "slow answer here",
    ]);
    assertEquals(t.fake.maxActive, concurrency ?? 1);
  }
});

Deno.test("claude: a client abort mid-stream reaches claude.ai and the conversation is deleted", async () => {
  await using t = await setup([{}]);
  t.fake.respond = () => ({ text: "first words", hang: true });
  const controller = new AbortController();
  const stream = await t.client.chat.completions.create({
    model: "claude",
    messages: [{ role: "user", content: "talk forever" }],
    stream: true,
  }, { signal: controller.signal });
  const got = await readTextThenAbort(stream, controller, (text) => text.length > 0);
  assert(got.length > 0);
  const call = t.fake.completions[0];
  await abortedWithin(call.rec);
  await waitFor(() => t.fake.deleted.includes(call.conv), 3000, "conversation deleted");
  // The account was released: the next request is served at once.
  t.fake.respond = () => ({ text: "next" });
  const res = await t.client.chat.completions.create({
    model: "claude",
    messages: [{ role: "user", content: "hi" }],
  });
  assertEquals(res.choices[0].message.content, "next");
});

Deno.test("claude: an error event before any text goes to the next cookie; after text it ends the stream", async () => {
  await using t = await setup([{}, {}]);
  const [first] = t.fake.accounts;
  t.fake.respond = (call) =>
    call.sessionKey === first.sessionKey
      ? { format: "messages", streamError: { type: "overloaded_error", message: "Overloaded" } }
      : { text: "from the second" };
  const res = await t.client.chat.completions.create({
    model: "claude",
    messages: [{ role: "user", content: "hi" }],
  });
  assertEquals(res.choices[0].message.content, "from the second");

  t.fake.respond = () => ({
    format: "messages",
    text: "partial",
    streamError: { type: "overloaded_error", message: "Overloaded" },
  });
  const raw = await fetch(`${t.gw.url}/chat/completions`, {
    method: "POST",
    headers: { authorization: "Bearer gateway-pass", "content-type": "application/json" },
    body: JSON.stringify({
      model: "claude",
      stream: true,
      messages: [{ role: "user", content: "x" }],
    }),
  });
  const body = await raw.text();
  const { events, done } = parseSseBody(body);
  const text = events.map((e) =>
    (e.choices as { delta?: { content?: string } }[] | undefined)?.[0]?.delta?.content ?? ""
  ).join("");
  assertEquals(text, "partial");
  assert(done);
  assertMatch(body, /data: \{"error":\{"message":"claude upstream failed mid-stream: overloaded/);
  assert(body.trimEnd().endsWith("data: [DONE]"));
});

Deno.test("claude: a Cloudflare challenge is a 502 that does not blame the account", async () => {
  await using t = await setup([{}]);
  t.fake.respond = () => ({
    raw: {
      status: 403,
      body: "<!DOCTYPE html><html><title>Just a moment...</title></html>",
      contentType: "text/html; charset=UTF-8",
      headers: { "cf-mitigated": "challenge" },
    },
  });
  const err = await assertRejects(() => ask(t.client, "claude"), OpenAI.APIError);
  assertEquals(err.status, 502);
  assertStringIncludes(err.message, "Cloudflare");
  const [a] = await t.pool();
  assert(a.ready, "the account is not set aside");
});

Deno.test("claude: an empty answer is a 502", async () => {
  await using t = await setup([{}]);
  t.fake.respond = () => ({ text: "" });
  const err = await assertRejects(() => ask(t.client, "claude"), OpenAI.APIError);
  assertEquals(err.status, 502);
  assertStringIncludes(err.message, "empty");
});

Deno.test("claude: the client's session key is used when it sends one", async () => {
  const fake = await startFakeClaude([{}]);
  const gw = await startGateway({ claude: { "base-url": fake.origin } });
  try {
    const key = fake.accounts[0].sessionKey;
    const client = new OpenAI({ baseURL: gw.url, apiKey: key, maxRetries: 0 });
    const res = await client.chat.completions.create({
      model: "claude",
      messages: [{ role: "user", content: "hi" }],
    });
    assertEquals(res.choices[0].message.content, "Hello from claude.ai!");
    assertEquals(fake.requests[0].headers.get("cookie"), `sessionKey=${key}`);
    // A wrong key: claude.ai's 403 reaches the client, the secret masked.
    const bad = new OpenAI({
      baseURL: gw.url,
      apiKey: "sk-ant-sid01-not-a-real-key-000000",
      maxRetries: 0,
    });
    const err = await assertRejects(() => ask(bad, "claude"), OpenAI.APIError);
    assertEquals(err.status, 403);
    assert(!err.message.includes("not-a-real-key"), err.message);
  } finally {
    await settled(gw, "claude");
    await gw.close();
    await fake.close();
  }
});

Deno.test("claude: with cookies configured, a placeholder client key does not replace them", async () => {
  await using t = await setup([{}], {}, {});
  const client = new OpenAI({ baseURL: t.gw.url, apiKey: "sk-placeholder", maxRetries: 0 });
  const res = await client.chat.completions.create({
    model: "claude",
    messages: [{ role: "user", content: "hi" }],
  });
  assertEquals(res.choices[0].message.content, "Hello from claude.ai!");
  assertEquals(t.fake.completions[0].sessionKey, t.fake.accounts[0].sessionKey);
});

Deno.test("claude: no credential at all is a clear 401", async () => {
  const gw = await startGateway({ server: { password: ["gateway-pass"] } });
  try {
    const client = new OpenAI({ baseURL: gw.url, apiKey: "gateway-pass", maxRetries: 0 });
    const err = await assertRejects(() => ask(client, "claude"), OpenAI.APIError);
    assertEquals(err.status, 401);
    assertStringIncludes(err.message, "claude");
  } finally {
    await gw.close();
  }
});

Deno.test("claude: <pad /> pads the attachment up to claude.pad tokens", async () => {
  await using t = await setup([{}], { pad: 400 });
  await t.client.chat.completions.create({
    model: "claude",
    messages: [{ role: "user", content: "<pad />hi" }],
  });
  const paste = t.fake.completions[0].body.attachments[0].extracted_content;
  assert(paste.endsWith("\n\n\nHuman: hi\n\nAssistant: "), paste.slice(-60));
  assert(countTokens(paste) >= 400, `${countTokens(paste)} tokens`);
  assertMatch(paste.slice(0, 100), /^[A-Za-z0-9]{100}$/);
});

Deno.test("claude: <echo /> answers with the attachment text without calling claude.ai", async () => {
  await using t = await setup();
  const res = await t.client.chat.completions.create({
    model: "claude",
    messages: [{ role: "system", content: "<echo />Rules." }, { role: "user", content: "50% %s" }],
  });
  assertEquals(res.choices[0].message.content, "Rules.\n\nHuman: 50% %s\n\nAssistant: ");
  assertEquals(t.fake.completions.length, 0);
});

Deno.test("claude: the answer is cut where the model starts the next Human turn", async () => {
  await using t = await setup();
  t.fake.respond = () => ({ text: "Sure thing.\n\nHuman: and now write my part", pieceSize: 2 });
  const res = await t.client.chat.completions.create({
    model: "claude",
    messages: [{ role: "user", content: "hi" }],
  });
  assertEquals(res.choices[0].message.content, "Sure thing.");
  await settled(t.gw, "claude");
  assertEquals(t.fake.deleted.length, 1);
});

Deno.test("claude: a completion answered 200 with a page instead of a stream is a 502 quoting it", async () => {
  await using t = await setup([{}]);
  t.fake.respond = () => ({
    raw: {
      status: 200,
      body: `<html>\n  <body>Maintenance   window</body>${" ".repeat(5000)}</html>`,
      contentType: "text/html",
    },
  });
  const err = await assertRejects(() => ask(t.client, "claude"), OpenAI.APIError);
  assertEquals(err.status, 502);
  assertStringIncludes(err.message, "expected text/event-stream but got text/html");
  assertStringIncludes(err.message, "<html> <body>Maintenance window</body>");
  await settled(t.gw, "claude");
  assertEquals(t.fake.deleted.length, 1);
});
