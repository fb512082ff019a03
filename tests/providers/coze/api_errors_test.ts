/**
 * Coze's refusals through the running gateway: each documented code with an honest status,
 * secrets masked, what the pool does with the token, and streams that fail or break off.
 */
import OpenAI from "openai";
import { assert, assertEquals, assertMatch, assertStringIncludes } from "../../assert.ts";
import { parseSseBody, startGateway } from "../../helpers.ts";
import { BOT_2, BOT_DRAFT, PAT_A, PAT_B, PAT_BAD, setup, tokenState } from "./helpers.ts";

function ask(client: OpenAI, model = "coze") {
  return client.chat.completions.create({ model, messages: [{ role: "user", content: "hi" }] });
}

/** The error a request fails with (the test fails when it does not). */
async function fail(client: OpenAI, model = "coze"): Promise<InstanceType<typeof OpenAI.APIError>> {
  try {
    await ask(client, model);
  } catch (err) {
    if (err instanceof OpenAI.APIError) return err;
    throw err;
  }
  throw new Error(`the request for ${model} did not fail`);
}

/** A streamed request's SSE body through plain fetch (to see the error event). */
async function streamed(url: string, model = "coze") {
  const res = await fetch(`${url}/chat/completions`, {
    method: "POST",
    headers: { authorization: "Bearer gw-pass", "content-type": "application/json" },
    body: JSON.stringify({ model, stream: true, messages: [{ role: "user", content: "hi" }] }),
  });
  return { status: res.status, ...parseSseBody(await res.text()) };
}

Deno.test("coze errors: a token Coze refuses (4100 with HTTP 200) is a 401; the token never shows", async () => {
  await using t = await setup({ coze: { tokens: [PAT_BAD] } });
  const err = await fail(t.client);
  assertEquals(err.status, 401);
  assertStringIncludes(err.message, "code 4100");
  assertStringIncludes(err.message, "logid");
  assert(!err.message.includes(PAT_BAD));
});

Deno.test("coze errors: a bot not published to the API channel is a 404 on the model", async () => {
  await using t = await setup();
  const err = await fail(t.client, `coze/${BOT_DRAFT}`);
  assertEquals(err.status, 404);
  assertEquals((err.error as { param?: string }).param, "model");
  assertStringIncludes(err.message, "not published to the API channel");
  // The token did nothing wrong: it stays ready.
  assertEquals((await tokenState(t.gw))[0].ready, true);
});

Deno.test("coze errors: a bot the token may not use (4101) is a 403; the token is not rested, another token serves", async () => {
  await using only = await setup();
  const err = await fail(only.client, `coze/${BOT_2}`);
  assertEquals(err.status, 403);
  assertStringIncludes(err.message, "code 4101");
  const [a] = await tokenState(only.gw);
  assertEquals(a.ready, true);

  await using t = await setup({ coze: { tokens: [PAT_A, PAT_B] } });
  const res = await ask(t.client, `coze/${BOT_2}`);
  assertEquals(res.choices[0].message.content, "You said: hi");
  assertEquals(t.fake.chats.map((c) => c.token), [PAT_B]);
  assert((await tokenState(t.gw)).every((acct) => acct.ready));
});

Deno.test("coze errors: a busy conversation (4016) and Coze's rate limit (4013) are 429s", async () => {
  await using t = await setup();
  t.fake.respond = () => ({ refuse: { code: 4016, msg: "Conversation occupied" } });
  const busy = await fail(t.client);
  assertEquals(busy.status, 429);
  assertEquals(busy.headers?.get("retry-after"), "1");
  assertEquals((busy.error as { code?: string }).code, "conversation_busy");
  // Not the token's fault: it is not rested.
  assertEquals((await tokenState(t.gw))[0].ready, true);

  t.fake.respond = () => ({ refuse: { code: 4013, msg: "rate limit" } });
  const limited = await fail(t.client);
  assertEquals(limited.status, 429);
  assertEquals((limited.error as { code?: string }).code, "rate_limit_exceeded");
});

Deno.test("coze errors: a bad parameter (4000) is a 400 quoting Coze; unknown codes are 502s", async () => {
  await using t = await setup();
  t.fake.respond = () => ({ refuse: { code: 4000, msg: "invalid param: additional_messages" } });
  const bad = await fail(t.client);
  assertEquals(bad.status, 400);
  assertStringIncludes(bad.message, "invalid param: additional_messages");
  t.fake.respond = () => ({ refuse: { code: 5000, msg: "internal error" } });
  const odd = await fail(t.client);
  assertEquals(odd.status, 502);
  assertStringIncludes(odd.message, "code 5000: internal error");
});

Deno.test("coze errors: a chat that fails after text: an SSE error event after it; collected: the error", async () => {
  await using t = await setup();
  t.fake.respond = () => ({ pieces: ["partial"], fail: { code: 4013, msg: "quota" } });
  const s = await streamed(t.gw.url);
  assertEquals(s.status, 200);
  const text = s.events.flatMap((e) =>
    ((e.choices ?? []) as { delta: { content?: string } }[]).map((c) => c.delta.content ?? "")
  ).join("");
  assertEquals(text, "partial");
  const error = s.events.find((e) => e.error) as { error: { message: string } } | undefined;
  assertMatch(error!.error.message, /coze rate limit: code 4013: quota/);
  assert(s.done);
  const collected = await fail(t.client);
  assertEquals(collected.status, 429);
});

Deno.test("coze errors: an error event, a stream without done and a requires_action are errors", async () => {
  await using t = await setup();
  t.fake.respond = () => ({ error: { code: 4100, msg: "token expired mid-way" } });
  assertEquals((await fail(t.client)).status, 401);
  t.fake.respond = () => ({ noDone: true });
  const cut = await fail(t.client);
  assertEquals(cut.status, 502);
  assertStringIncludes(cut.message, "without its done event");
  t.fake.respond = () => ({ requiresAction: "local_search" });
  const action = await fail(t.client);
  assertEquals(action.status, 502);
  assertStringIncludes(action.message, "local_search");
});

Deno.test("coze errors: Coze unreachable is a 502 naming the host", async () => {
  const gw = await startGateway({
    server: { password: ["gw-pass"] },
    coze: { "base-url": "http://127.0.0.1:9", tokens: [PAT_A], bot: "1" },
  });
  try {
    const client = new OpenAI({ baseURL: gw.url, apiKey: "gw-pass", maxRetries: 0 });
    const err = await fail(client);
    assertEquals(err.status, 502);
    assertStringIncludes(err.message, "127.0.0.1:9");
  } finally {
    await gw.close();
  }
});

Deno.test("coze fake: refuses what Coze refuses (missing bot_id or user_id, a user 'answer', 101 messages)", async () => {
  await using t = await setup();
  const post = async (body: unknown) => {
    const res = await fetch(`${t.fake.origin}/v3/chat`, {
      method: "POST",
      headers: { authorization: `Bearer ${PAT_A}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    assertEquals(res.status, 200);
    return (await res.json()) as { code: number; msg: string };
  };
  const msg = { role: "user", content: "x", content_type: "text" };
  assertEquals((await post({ user_id: "u", stream: true })).code, 4000);
  assertEquals((await post({ bot_id: "7350000000000000001", stream: true })).code, 4000);
  assertEquals(
    (await post({
      bot_id: "7350000000000000001",
      user_id: "u",
      additional_messages: [{ ...msg, type: "answer" }],
    })).code,
    4000,
  );
  assertEquals(
    (await post({
      bot_id: "7350000000000000001",
      user_id: "u",
      additional_messages: Array(101).fill(msg),
    })).code,
    4000,
  );
  const anon = await fetch(`${t.fake.origin}/v3/chat`, { method: "POST", body: "{}" });
  assertEquals((await anon.json()).code, 4100);
});
