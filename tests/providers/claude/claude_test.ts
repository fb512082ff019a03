/**
 * The claude provider through the running gateway, with the official `openai` client, against
 * the claude.ai fake behind the Cloudflare-like TLS gate (the chrome transport passes it).
 */
import OpenAI from "openai";
import {
  assert,
  assertEquals,
  assertMatch,
  assertRejects,
  assertStringIncludes,
} from "../../assert.ts";
import {
  type ClaudeScript,
  rateLimited,
  startFakeClaudeWeb,
  type WebAccount,
} from "../../fakes/claude_web.ts";
import { abortedWithin, parseSseBody, readTextThenAbort, startGateway } from "../../helpers.ts";
import { chromeUserAgent } from "../../../src/net/transport/mod.ts";
import { countTokens } from "../../../src/util/tokens.ts";
import { ask, poolAccounts, streamText } from "../web_helpers.ts";

type AccountOptions = Partial<WebAccount & { sid: "01" | "02" }>;

async function setup(
  accounts: AccountOptions[] = [{}],
  claude: Record<string, unknown> = {},
  server: Record<string, unknown> = { password: ["gateway-pass"] },
) {
  const fake = await startFakeClaudeWeb(accounts);
  const gw = await startGateway({
    server: { ...server, "ca-file": fake.caFile },
    claude: { "base-url": fake.origin, cookies: fake.accounts.map((a) => a.sessionKey), ...claude },
  });
  const client = new OpenAI({ baseURL: gw.url, apiKey: "gateway-pass", maxRetries: 0 });
  return {
    fake,
    gw,
    client,
    pool: () => poolAccounts(gw, "claude", "gateway-pass"),
    async [Symbol.asyncDispose]() {
      await gw.close();
      await fake.close();
    },
  };
}

function paths(fake: { requests: { method: string; path: string }[] }): string[] {
  return fake.requests.map((r) => `${r.method} ${r.path.replace(/[0-9a-f-]{36}/g, ":id")}`);
}

/** Seconds until an account of the pool is ready again. */
function restOf(a: { aside_until: string | null }): number {
  return (Date.parse(a.aside_until!) - Date.now()) / 1000;
}

Deno.test("claude: the current models and their thinking variants are listed, retired ids are not", async () => {
  await using t = await setup();
  const ids: string[] = [];
  for await (const m of t.client.models.list()) ids.push(m.id);
  for (const id of ["claude", "claude-opus-4-8", "claude-opus-4-8-thinking", "claude-sonnet-5"]) {
    assert(ids.includes(id), `${id} listed in ${ids.join(", ")}`);
  }
  assert(!ids.includes("claude-3-opus-20240229"));
});

Deno.test("claude: an answer walks bootstrap, organizations, a temporary conversation and the completion", async () => {
  await using t = await setup([{ plan: "pro" }]);
  const res = await t.client.chat.completions.create({
    model: "claude-opus-4-8",
    messages: [
      { role: "system", content: "Be brief." },
      { role: "user", content: "ping" },
    ],
  });
  assertEquals(res.model, "claude-opus-4-8");
  assertEquals(res.choices[0].message.content, "Hello from claude.ai!");
  assertEquals(res.choices[0].finish_reason, "stop");
  assertEquals(paths(t.fake), [
    "GET /api/bootstrap",
    "GET /api/organizations",
    "POST /api/organizations/:id/chat_conversations",
    "POST /api/organizations/:id/chat_conversations/:id/completion",
  ]);
  const [account] = t.fake.accounts;
  const call = t.fake.completions[0];
  // The organization that can chat, not the first one listed.
  assertEquals(call.org, account.chatOrg);
  assertEquals(t.fake.conversations.get(call.conv)!.temporary, true);
  assertEquals(call.body.model, "claude-opus-4-8");
  assertEquals(call.body.rendering_mode, "raw");
  assertEquals(call.body.prompt, "");
  assertEquals(call.body.files, []);
  assertEquals(call.body.tools, []);
  assertEquals(call.body.timezone, Intl.DateTimeFormat().resolvedOptions().timeZone);
  const paste = call.body.attachments[0];
  assertEquals(paste.file_name, "paste.txt");
  assertEquals(paste.file_type, "txt");
  assertEquals(paste.extracted_content, "Be brief.\n\nHuman: ping\n\nAssistant: ");
  const headers = call.rec.headers;
  assertEquals(headers.get("accept"), "text/event-stream");
  assertEquals(headers.get("cookie"), `sessionKey=${account.sessionKey}`);
  assertEquals(headers.get("origin"), t.fake.origin);
  // What Cloudflare sees: Chrome's handshake with Chrome's own user agent, not another browser's.
  assertEquals(headers.get("user-agent"), chromeUserAgent());
  assertEquals(t.fake.gate.challenged, 0);
  assertEquals(res.usage!.prompt_tokens, countTokens(paste.extracted_content));
  assertEquals(res.usage!.completion_tokens, countTokens("Hello from claude.ai!"));
  // The account's facts are kept: the next request goes straight to a conversation.
  await ask(t.client, "claude");
  assertEquals(paths(t.fake).slice(4), [
    "POST /api/organizations/:id/chat_conversations",
    "POST /api/organizations/:id/chat_conversations/:id/completion",
  ]);
  // `claude` is the account's default: no model named.
  assertEquals(t.fake.completions[1].body.model, undefined);
});

Deno.test("claude: streamed deltas use the messages rendering, % untouched, finish and usage last", async () => {
  await using t = await setup();
  const answer = "50% off: 100%s %d %% done";
  t.fake.respond = () => ({ text: answer, pieceSize: 4, delayMs: 2 });
  const { chunks, parts, finish, usage } = await streamText(t.client, {
    model: "claude-sonnet-4-6",
    messages: [{ role: "user", content: "discount 50% off %s" }],
  });
  for (const chunk of chunks) assertEquals(chunk.model, "claude-sonnet-4-6");
  assertEquals(parts.join(""), answer);
  assert(parts.length >= 5, `answer came in ${parts.length} pieces`);
  assertEquals(finish, "stop");
  assert(usage && usage.completion_tokens === countTokens(answer));
  const call = t.fake.completions[0];
  assertEquals(call.body.rendering_mode, "messages");
  assertStringIncludes(call.body.attachments[0].extracted_content, "Human: discount 50% off %s");
});

Deno.test("claude: a -thinking model turns extended thinking on; thinking arrives as reasoning", async () => {
  await using t = await setup([{ plan: "max" }]);
  t.fake.respond = () => ({ thinking: "Let me think.", text: "Done.", stopReason: "max_tokens" });
  const stream = await t.client.chat.completions.create({
    model: "claude-opus-4-8-thinking",
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
  assertEquals(text, "Done.");
  assertEquals(finish, "length");
  const put = t.fake.requests.find((r) => r.method === "PUT")!;
  assertEquals(put.json, { settings: { paprika_mode: "extended" } });
  const call = t.fake.completions[0];
  assert(call.thinking);
  assertEquals(call.body.model, "claude-opus-4-8");
});

Deno.test("claude: reasoning_effort asks for thinking too, also unstreamed; 'none' does not", async () => {
  await using t = await setup([{ plan: "pro" }]);
  const res = await t.client.chat.completions.create({
    model: "claude-sonnet-4-6",
    messages: [{ role: "user", content: "think" }],
    reasoning_effort: "high",
  });
  const msg = res.choices[0].message as { content: string; reasoning_content?: string };
  assertEquals(msg.reasoning_content, "Let me think.");
  assertEquals(msg.content, "Hello from claude.ai!");
  // The raw rendering has no thinking: an unstreamed request that wants it gets messages.
  assertEquals(t.fake.completions[0].body.rendering_mode, "messages");
  await t.client.chat.completions.create({
    model: "claude-sonnet-4-6-thinking",
    messages: [{ role: "user", content: "no thinking" }],
    reasoning_effort: "none" as unknown as "low",
  });
  assertEquals(t.fake.completions[1].thinking, false);
  assertEquals(t.fake.requests.filter((r) => r.method === "PUT").length, 1);
});

Deno.test("claude: a free plan names no model and gets no thinking", async () => {
  await using t = await setup([{ plan: "free" }]);
  const res = await t.client.chat.completions.create({
    model: "claude-opus-4-8-thinking",
    messages: [{ role: "user", content: "hi" }],
  });
  assertEquals(res.choices[0].message.content, "Hello from claude.ai!");
  assertEquals(res.model, "claude-opus-4-8-thinking");
  assertEquals(t.fake.completions[0].body.model, undefined);
  assertEquals(t.fake.requests.filter((r) => r.method === "PUT").length, 0);
});

Deno.test("claude: retired model ids are sent as their current successors", async () => {
  await using t = await setup([{ plan: "pro" }]);
  for (
    const [old, now] of [
      ["claude-3-5-sonnet-20240620", "claude-sonnet-4-5-20250929"],
      ["claude-3-opus-20240229", "claude-opus-4-5-20251101"],
      ["claude-3-haiku-20240307", "claude-haiku-4-5-20251001"],
    ]
  ) {
    const res = await ask(t.client, old);
    assertEquals(res.model, old);
    assertEquals(t.fake.completions.at(-1)!.body.model, now);
  }
});

Deno.test("claude: sid01 and sid02 keys, bare or in a cookie string, reach claude.ai as sessionKey=…", async () => {
  const fake = await startFakeClaudeWeb([{ sid: "01" }, { sid: "02" }]);
  const [a, b] = fake.accounts;
  const gw = await startGateway({
    server: { password: ["gateway-pass"], "ca-file": fake.caFile },
    claude: {
      "base-url": fake.origin,
      cookies: [a.sessionKey, `sessionKey=${b.sessionKey}; lastActiveOrg=x; __cf_bm=y`],
      concurrency: 1,
    },
  });
  try {
    const client = new OpenAI({ baseURL: gw.url, apiKey: "gateway-pass", maxRetries: 0 });
    await Promise.all([ask(client, "claude"), ask(client, "claude")]);
    const cookies = new Set(fake.completions.map((c) => c.rec.headers.get("cookie")));
    assertEquals(cookies, new Set([`sessionKey=${a.sessionKey}`, `sessionKey=${b.sessionKey}`]));
    assertMatch(b.sessionKey, /^sk-ant-sid02-/);
  } finally {
    await gw.close();
    await fake.close();
  }
});

Deno.test("claude: Invalid model is a 404 without blame on the account or a retry", async () => {
  await using t = await setup([{}, {}]);
  const err = await assertRejects(() => ask(t.client, "claude-9-nonexistent"), OpenAI.APIError);
  assertEquals(err.status, 404);
  assertEquals(err.code, "model_not_found");
  assertStringIncludes(err.message, "claude-9-nonexistent");
  assertEquals(t.fake.requests.filter((r) => r.path.endsWith("/completion")).length, 1);
  const pool = await t.pool();
  assertEquals(pool.length, 2);
  assert(pool.every((a) => a.ready && a.busy === 0), JSON.stringify(pool));
});

for (const where of ["body", "header"] as const) {
  Deno.test(`claude: a 429 with its reset time in the ${where} rests the account exactly until then`, async () => {
    await using t = await setup([{}, {}]);
    const [first] = t.fake.accounts;
    const resetsAt = Math.floor(Date.now() / 1000) + 7200;
    t.fake.respond = (call) =>
      call.sessionKey === first.sessionKey ? rateLimited(resetsAt, where) : { text: "fresh" };
    const res = await ask(t.client, "claude");
    assertEquals(res.choices[0].message.content, "fresh");
    const aside = (await t.pool()).filter((a) => !a.ready);
    assertEquals(aside.length, 1);
    const until = Date.parse(aside[0].aside_until!) / 1000;
    assert(Math.abs(until - resetsAt) < 5, `aside until ${until}, resets at ${resetsAt}`);
    assertStringIncludes(aside[0].last_error!, "rate limited");
  });
}

Deno.test("claude: a 429 without a reset time rests for claude.cooldown (default an hour), Retry-After wins", async () => {
  {
    await using t = await setup([{}]);
    t.fake.respond = () => ({
      error: { status: 429, type: "rate_limit_error", message: "Too many requests" },
    });
    const err = await assertRejects(() => ask(t.client, "claude"), OpenAI.APIError);
    assertEquals(err.status, 429);
    const [a] = await t.pool();
    assert(restOf(a) > 3500 && restOf(a) <= 3600, `aside for ${restOf(a)}s`);
    // Now every account rests: a clear 429 with Retry-After, claude.ai not asked.
    const res = await fetch(`${t.gw.url}/chat/completions`, {
      method: "POST",
      headers: { authorization: "Bearer gateway-pass", "content-type": "application/json" },
      body: JSON.stringify({ model: "claude", messages: [{ role: "user", content: "hi" }] }),
    });
    assertEquals(res.status, 429);
    assert(Number(res.headers.get("retry-after")) > 3500);
    assertStringIncludes((await res.json()).error.message, "cooling down");
    assertEquals(t.fake.completions.length, 1);
  }
  {
    await using t = await setup([{}, {}], { cooldown: 120 });
    const [first] = t.fake.accounts;
    t.fake.respond = (call): ClaudeScript => ({
      error: {
        status: 429,
        type: "rate_limit_error",
        message: "slow down",
        headers: call.sessionKey === first.sessionKey ? { "retry-after": "30" } : undefined,
      },
    });
    await assertRejects(() => ask(t.client, "claude"), OpenAI.APIError);
    const rest = (await t.pool()).map(restOf).sort((x, y) => x - y);
    assert(rest[0] > 25 && rest[0] <= 30, `retry-after rest ${rest[0]}`);
    assert(rest[1] > 110 && rest[1] <= 120, `configured cooldown ${rest[1]}`);
  }
});

Deno.test("claude: a disabled organization sets the account aside with that reason; the next answers", async () => {
  await using t = await setup([{ disabled: true }, {}]);
  const res = await ask(t.client, "claude");
  assertEquals(res.choices[0].message.content, "Hello from claude.ai!");
  const pool = await t.pool();
  const aside = pool.filter((a) => !a.ready);
  assertEquals(aside.length, 1);
  assertStringIncludes(aside[0].last_error!, "This organization has been disabled.");
  assert(restOf(aside[0]) > 3000, "set aside, not a short rest");
});

Deno.test("claude: a banned flag sets the account aside; a restriction rests it until it expires", async () => {
  const expires = new Date(Date.now() + 5 * 3600_000).toISOString();
  await using t = await setup([
    { flags: [{ type: "consumer_banned", expires_at: null }] },
    { flags: [{ type: "consumer_restricted_mode", expires_at: expires }] },
    { flags: [{ type: "first_warning", expires_at: expires }] },
  ]);
  const res = await ask(t.client, "claude");
  assertEquals(res.choices[0].message.content, "Hello from claude.ai!");
  assertEquals(t.fake.completions.map((c) => c.sessionKey), [t.fake.accounts[2].sessionKey]);
  const pool = await t.pool();
  assertStringIncludes(pool[0].last_error!, "consumer_banned");
  assertStringIncludes(pool[1].last_error!, "restricted");
  assert(Math.abs(restOf(pool[1]) - 5 * 3600) < 10, `restricted rest ${restOf(pool[1])}`);
  assert(pool[2].ready);
});

Deno.test("claude: a dead session key (401, or a bootstrap without account) is set aside", async () => {
  const fake = await startFakeClaudeWeb([{ loggedOut: true }, {}]);
  const gw = await startGateway({
    server: { password: ["gateway-pass"], "ca-file": fake.caFile },
    claude: {
      "base-url": fake.origin,
      cookies: [...fake.accounts.map((a) => a.sessionKey), "sk-ant-sid01-revoked-key-0000"],
    },
  });
  try {
    const client = new OpenAI({ baseURL: gw.url, apiKey: "gateway-pass", maxRetries: 0 });
    // The logged-out key and the unknown one are tried and set aside; the good one answers.
    for (let i = 0; i < 2; i++) await ask(client, "claude");
    const pool = await poolAccounts(gw, "claude", "gateway-pass");
    const aside = pool.filter((a) => !a.ready);
    assertEquals(aside.length, 2, JSON.stringify(pool));
    assert(aside.some((a) => a.last_error!.includes("no longer signed in")));
    assert(aside.some((a) => a.last_error!.includes("session key was refused")));
    assert(pool.every((a) => !a.id.includes("revoked-key")), "ids are masked");
  } finally {
    await gw.close();
    await fake.close();
  }
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

Deno.test("claude: a client abort mid-stream reaches claude.ai and frees the account", async () => {
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
  await abortedWithin(t.fake.completions[0].rec);
  t.fake.respond = () => ({ text: "next" });
  const res = await ask(t.client, "claude");
  assertEquals(res.choices[0].message.content, "next");
});

Deno.test("claude: an error event before any text goes to the next cookie; after text it ends the stream", async () => {
  await using t = await setup([{}, {}]);
  const [first] = t.fake.accounts;
  t.fake.respond = (call) =>
    call.sessionKey === first.sessionKey
      ? { streamError: { type: "overloaded_error", message: "Overloaded" } }
      : { text: "from the second" };
  const { text } = await streamText(t.client, {
    model: "claude",
    messages: [{ role: "user", content: "hi" }],
  });
  assertEquals(text, "from the second");

  t.fake.respond = () => ({
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
  const streamed = events.map((e) =>
    (e.choices as { delta?: { content?: string } }[] | undefined)?.[0]?.delta?.content ?? ""
  ).join("");
  assertEquals(streamed, "partial");
  assert(done);
  assertMatch(body, /data: \{"error":\{"message":"claude upstream failed mid-stream: overloaded/);
});

Deno.test("claude: a stream that ends without its end event is an error, in both renderings", async () => {
  await using t = await setup([{}]);
  t.fake.respond = () => ({ text: "cut off", truncate: true });
  const err = await assertRejects(() => ask(t.client, "claude"), OpenAI.APIError);
  assertEquals(err.status, 502);
  assertStringIncludes(err.message, "ended before its end");
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
  assertStringIncludes(body, "ended before its end");
  assert(!/"finish_reason":"stop"/.test(body), "no stop after a cut-off answer");
});

Deno.test("claude: a Cloudflare challenge or a 302 is a 502 that does not blame the account", async () => {
  await using t = await setup([{}]);
  const blocks: ClaudeScript[] = [
    {
      raw: {
        status: 403,
        body: "<!DOCTYPE html><html><title>Just a moment...</title></html>",
        contentType: "text/html; charset=UTF-8",
        headers: { "cf-mitigated": "challenge" },
      },
    },
    { raw: { status: 302, body: "", contentType: "text/html", headers: { location: "/login" } } },
  ];
  for (const block of blocks) {
    t.fake.respond = () => block;
    const err = await assertRejects(() => ask(t.client, "claude"), OpenAI.APIError);
    assertEquals(err.status, 502);
    assertStringIncludes(err.message, "IP address is not trusted");
    const [a] = await t.pool();
    assert(a.ready, "the account is not set aside");
  }
});

Deno.test("claude: an empty answer, or a page instead of a stream, is a 502", async () => {
  await using t = await setup([{}]);
  t.fake.respond = () => ({ text: "" });
  let err = await assertRejects(() => ask(t.client, "claude"), OpenAI.APIError);
  assertEquals(err.status, 502);
  assertStringIncludes(err.message, "empty");
  t.fake.respond = () => ({
    raw: {
      status: 200,
      body: `<html>\n  <body>Maintenance   window</body>${" ".repeat(5000)}</html>`,
      contentType: "text/html",
    },
  });
  err = await assertRejects(() => ask(t.client, "claude"), OpenAI.APIError);
  assertEquals(err.status, 502);
  assertStringIncludes(err.message, "expected text/event-stream but got text/html");
});

Deno.test("claude: the client's session key is used when it sends one; a wrong one is a masked 401", async () => {
  const fake = await startFakeClaudeWeb([{}]);
  const gw = await startGateway({
    server: { "ca-file": fake.caFile },
    claude: { "base-url": fake.origin },
  });
  try {
    const key = fake.accounts[0].sessionKey;
    const client = new OpenAI({ baseURL: gw.url, apiKey: key, maxRetries: 0 });
    const res = await ask(client, "claude");
    assertEquals(res.choices[0].message.content, "Hello from claude.ai!");
    assertEquals(fake.requests[0].headers.get("cookie"), `sessionKey=${key}`);
    const bad = new OpenAI({
      baseURL: gw.url,
      apiKey: "sk-ant-sid01-not-a-real-key-000000",
      maxRetries: 0,
    });
    const err = await assertRejects(() => ask(bad, "claude"), OpenAI.APIError);
    assertEquals(err.status, 401);
    assert(!err.message.includes("not-a-real-key"), err.message);
  } finally {
    await gw.close();
    await fake.close();
  }
});

Deno.test("claude: with cookies configured, a placeholder client key does not replace them", async () => {
  await using t = await setup([{}], {}, {});
  const client = new OpenAI({ baseURL: t.gw.url, apiKey: "sk-placeholder", maxRetries: 0 });
  const res = await ask(client, "claude");
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

Deno.test("claude: <pad />, <echo />, claude.prompt and the cut at the next Human turn", async () => {
  await using t = await setup([{}], { pad: 400, prompt: "Continue the pasted conversation." });
  await ask(t.client, "claude", "<pad />hi");
  const call = t.fake.completions[0];
  const paste = call.body.attachments[0].extracted_content;
  assert(paste.endsWith("\n\n\nHuman: hi\n\nAssistant: "), paste.slice(-60));
  assert(countTokens(paste) >= 400, `${countTokens(paste)} tokens`);
  assertEquals(call.body.prompt, "Continue the pasted conversation.");

  const echo = await t.client.chat.completions.create({
    model: "claude",
    messages: [{ role: "system", content: "<echo />Rules." }, { role: "user", content: "50% %s" }],
  });
  assertEquals(echo.choices[0].message.content, "Rules.\n\nHuman: 50% %s\n\nAssistant: ");
  assertEquals(t.fake.completions.length, 1);

  t.fake.respond = () => ({ text: "Sure thing.\n\nHuman: and now write my part", pieceSize: 2 });
  const cut = await ask(t.client, "claude");
  assertEquals(cut.choices[0].message.content, "Sure thing.");
});
