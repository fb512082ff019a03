/**
 * you.com's Agents API through the running gateway with the `openai` client: the run's body and
 * headers, streamed and collected answers, web results as numbered footnotes, agents and the
 * original's model ids, whose key serves, the documented refusals, aborts.
 */
import OpenAI from "openai";
import { assert, assertEquals, assertMatch, assertStringIncludes } from "../../assert.ts";
import { abortedWithin, parseSseBody, readThenAbort, startGateway } from "../../helpers.ts";
import { type FakeYouApi, startFakeYouApi } from "../../fakes/you_api.ts";
import { poolAccounts } from "../web_helpers.ts";

const KEY_A = "ydc-sk-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const KEY_B = "ydc-sk-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
const KEY_BROKE = "ydc-sk-cccccccccccccccccccccccccccccccc";
const KEY_FREE = "ydc-sk-dddddddddddddddddddddddddddddddd";
const AGENT = "3fa85f64-5717-4562-b3fc-2c963f66afa6";

async function setup(
  o: { you?: Record<string, unknown>; password?: boolean; apiKey?: string } = {},
) {
  const fake = await startFakeYouApi({
    keys: [
      { key: KEY_A },
      { key: KEY_B },
      { key: KEY_BROKE, credits: 0 },
      { key: KEY_FREE, custom: false },
    ],
    agents: [AGENT],
  });
  const password = o.password ?? true;
  const gw = await startGateway({
    ...(password ? { server: { password: ["gw-pass"] } } : {}),
    you: { ...fake.config, "api-key": [KEY_A], ...o.you },
  });
  const client = new OpenAI({ baseURL: gw.url, apiKey: o.apiKey ?? "gw-pass", maxRetries: 0 });
  return {
    fake,
    gw,
    client,
    async [Symbol.asyncDispose]() {
      await gw.close();
      await fake.close();
    },
  };
}

function ask(client: OpenAI, model = "you/express", content = "hi") {
  return client.chat.completions.create({ model, messages: [{ role: "user", content }] });
}

async function fail(client: OpenAI, model = "you/express") {
  try {
    await ask(client, model);
  } catch (err) {
    if (err instanceof OpenAI.APIError) return err;
    throw err;
  }
  throw new Error(`the request for ${model} did not fail`);
}

function lastRun(fake: FakeYouApi) {
  return fake.runs[fake.runs.length - 1];
}

Deno.test("you: a collected answer; the run's body and both auth headers", async () => {
  await using t = await setup();
  const res = await ask(t.client, "you/express", "What is Deno?");
  assertEquals(res.model, "you/express");
  assertEquals(res.choices[0].message.content, "You said: What is Deno?");
  assertEquals(res.choices[0].finish_reason, "stop");
  assert((res.usage?.prompt_tokens ?? 0) > 0 && (res.usage?.completion_tokens ?? 0) > 0);
  const run = lastRun(t.fake);
  assertEquals(run.body, { agent: "express", input: "What is Deno?", stream: true });
  assertEquals(run.rec.headers.get("authorization"), `Bearer ${KEY_A}`);
  assertEquals(run.rec.headers.get("x-api-key"), KEY_A);
});

Deno.test("you: streamed deltas, web results as numbered footnotes, then [DONE]", async () => {
  await using t = await setup();
  t.fake.respond = () => ({
    results: [
      { url: "https://deno.com/", title: "Deno" },
      { url: "https://docs.deno.com/", title: "Deno docs" },
      { url: "https://deno.com/", title: "Deno again" },
    ],
    deltas: ["Deno is a runtime ", "[[1]](https://deno.com/)", "."],
  });
  const stream = await t.client.chat.completions.create({
    model: "you/express",
    messages: [{ role: "user", content: "deno?" }],
    stream: true,
  });
  const parts: string[] = [];
  let finish: string | null = null;
  for await (const chunk of stream) {
    const c = chunk.choices[0];
    if (c?.delta.content) parts.push(c.delta.content);
    if (c?.finish_reason) finish = c.finish_reason;
  }
  assertEquals(parts.slice(0, 3), ["Deno is a runtime ", "[[1]](https://deno.com/)", "."]);
  assertEquals(
    parts.slice(3).join(""),
    '\n\n[1]: https://deno.com/ "Deno"\n[2]: https://docs.deno.com/ "Deno docs"',
  );
  assertEquals(finish, "stop");
});

Deno.test("you: a conversation is flattened into the input, system text first", async () => {
  await using t = await setup();
  await t.client.chat.completions.create({
    model: "you/advanced",
    messages: [
      { role: "system", content: "Be terse." },
      { role: "user", content: "Hi" },
      { role: "assistant", content: "Hello." },
      { role: "user", content: "100% sure?" },
    ],
  });
  assertEquals(lastRun(t.fake).body, {
    agent: "advanced",
    input: "Be terse.\n\nHuman: Hi\n\nAssistant: Hello.\n\nHuman: 100% sure?",
    stream: true,
  });
});

Deno.test("you: agents and the original's ids: mapped, express, advanced for o1, custom ids", async () => {
  await using t = await setup({ you: { agents: { gpt_4o: AGENT, mine: "advanced" } } });
  await ask(t.client, "you/gpt_4o");
  await ask(t.client, "you/claude_3_5_sonnet");
  await ask(t.client, "you/openai_o1");
  await ask(t.client, `you/${AGENT}`);
  await ask(t.client, "you/mine");
  assertEquals(t.fake.runs.map((r) => r.body.agent), [
    AGENT,
    "express",
    "advanced",
    AGENT,
    "advanced",
  ]);
  assertEquals((await fail(t.client, "you/not_a_model")).status, 404);
  const ids = (await t.client.models.list()).data.map((m) => m.id).filter((id) =>
    id.startsWith("you/")
  );
  assertEquals(ids, ["you/express", "you/advanced", "you/gpt_4o", "you/mine"]);
});

Deno.test("you: a client ydc-sk- key serves; an sk-... key never displaces you.api-key", async () => {
  await using t = await setup({ password: false, apiKey: KEY_B });
  await ask(t.client);
  assertEquals(lastRun(t.fake).key, KEY_B);
  const other = new OpenAI({ baseURL: t.gw.url, apiKey: "sk-placeholder", maxRetries: 0 });
  await ask(other);
  assertEquals(lastRun(t.fake).key, KEY_A);
});

Deno.test("you: out of credits (402) is OpenAI's 429 insufficient_quota; the key rests, the next serves", async () => {
  await using only = await setup({ you: { "api-key": [KEY_BROKE] } });
  const err = await fail(only.client);
  assertEquals(err.status, 429);
  assertEquals(err.type, "insufficient_quota");
  assertEquals(err.code, "insufficient_quota");
  assertStringIncludes(err.message, "Insufficient credits");
  assert(!err.message.includes(KEY_BROKE));

  await using t = await setup({ you: { "api-key": [KEY_BROKE, KEY_A] } });
  const res = await ask(t.client);
  assertEquals(res.choices[0].message.content, "You said: hi");
  const accounts = await poolAccounts(t.gw, "you", "gw-pass");
  assertEquals(accounts.map((a) => a.ready), [false, true]);
});

Deno.test("you: a bad key is 401, an unknown agent 404, a plan without custom agents 403", async () => {
  await using t = await setup({ you: { "api-key": ["ydc-sk-unknown"] } });
  const bad = await fail(t.client);
  assertEquals(bad.status, 401);
  assertStringIncludes(bad.message, "Invalid or expired API key");
  await using t2 = await setup();
  const missing = await fail(t2.client, "you/00000000-0000-0000-0000-000000000000");
  assertEquals(missing.status, 404);
  assertEquals(missing.code, "model_not_found");
  await using t3 = await setup({ you: { "api-key": [KEY_FREE] } });
  assertEquals((await fail(t3.client, `you/${AGENT}`)).status, 403);
});

Deno.test("you: 422, 400 and 429 keep honest statuses and you.com's words", async () => {
  await using t = await setup();
  t.fake.respond = () => ({
    status: 422,
    body: { detail: [{ loc: ["body", "input"], msg: "Field required", type: "missing" }] },
  });
  const invalid = await fail(t.client);
  assertEquals(invalid.status, 400);
  assertStringIncludes(invalid.message, "body.input: Field required");
  t.fake.respond = () => ({ status: 500, body: { detail: "Internal authentication error" } });
  assertEquals((await fail(t.client)).status, 502);
  t.fake.respond = () => ({
    status: 429,
    body: { detail: "slow down" },
    headers: { "retry-after": "7" },
  });
  const limited = await fail(t.client);
  assertEquals(limited.status, 429);
  assertEquals(limited.headers?.get("retry-after"), "7");
});

Deno.test("you: a stream without response.done is an error, also after text", async () => {
  await using t = await setup();
  t.fake.respond = () => ({ deltas: ["partial"], noDone: true });
  const err = await fail(t.client);
  assertEquals(err.status, 502);
  assertStringIncludes(err.message, "without its response.done event");
  const res = await fetch(`${t.gw.url}/chat/completions`, {
    method: "POST",
    headers: { authorization: "Bearer gw-pass", "content-type": "application/json" },
    body: JSON.stringify({
      model: "you/express",
      stream: true,
      messages: [{ role: "user", content: "hi" }],
    }),
  });
  const { events, done } = parseSseBody(await res.text());
  const error = events.find((e) => e.error) as { error: { message: string } } | undefined;
  assertMatch(error!.error.message, /response\.done/);
  assert(done);
});

Deno.test("you: the client leaving mid-stream aborts the run upstream", async () => {
  await using t = await setup();
  t.fake.respond = () => ({ deltas: ["a", "b", "c", "d"], stallAfter: 2 });
  const controller = new AbortController();
  const stream = await t.client.chat.completions.create(
    { model: "you/express", messages: [{ role: "user", content: "go" }], stream: true },
    { signal: controller.signal },
  );
  await readThenAbort(stream, controller, (c) => c.choices[0]?.delta.content === "b");
  await abortedWithin(lastRun(t.fake).rec);
});

Deno.test("you: images go as links, data URLs are a 400 before any call; <echo /> shows the input", async () => {
  await using t = await setup();
  await t.client.chat.completions.create({
    model: "you/express",
    messages: [{
      role: "user",
      content: [
        { type: "text", text: "Describe" },
        { type: "image_url", image_url: { url: "https://img.example/a.png" } },
      ],
    }],
  });
  assertEquals(lastRun(t.fake).body.input, "Describe\n[image: https://img.example/a.png]");
  const err = await t.client.chat.completions.create({
    model: "you/express",
    messages: [{
      role: "user",
      content: [{ type: "image_url", image_url: { url: "data:image/png;base64,AA==" } }],
    }],
  }).catch((e) => e);
  assertEquals(err.status, 400);
  const echo = await ask(t.client, "you/express", "<echo />hello there");
  assertEquals(echo.choices[0].message.content, "hello there");
  assertEquals(t.fake.runs.length, 1);
});

Deno.test("you: no key anywhere is a 401 naming the pool", async () => {
  const gw = await startGateway({ you: { "base-url": "http://127.0.0.1:9" } });
  try {
    const res = await fetch(`${gw.url}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "you/express", messages: [{ role: "user", content: "x" }] }),
    });
    assertEquals(res.status, 401);
    assertStringIncludes((await res.json()).error.message, "no you credential");
  } finally {
    await gw.close();
  }
});

Deno.test("you fake: refuses what the API refuses (no key, missing input or agent, bad JSON)", async () => {
  await using t = await setup();
  const post = (body: string, headers: Record<string, string> = { "x-api-key": KEY_A }) =>
    fetch(`${t.fake.origin}/v1/agents/runs`, { method: "POST", headers, body });
  assertEquals((await post("{}", {})).status, 401);
  const noInput = await post(JSON.stringify({ agent: "express" }));
  assertEquals(noInput.status, 422);
  assertEquals((await noInput.json()).detail[0].loc, ["body", "input"]);
  assertEquals((await post(JSON.stringify({ input: "x" }))).status, 422);
  assertEquals((await post("{oops")).status, 400);
  assertEquals((await post(JSON.stringify({ agent: "nope", input: "x" }))).status, 404);
});
