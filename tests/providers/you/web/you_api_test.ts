/**
 * you.com through the running gateway without a browser: a you.com mirror without Cloudflare
 * (`you.clearance: false`), credentials from the client or the pool, invalid sessions, quota
 * notices, and what happens when the challenge is there but the browser is off or missing.
 */
import OpenAI from "openai";
import { DEFAULT_USER_AGENT } from "../../../../src/providers/you/web/api.ts";
import { assert, assertEquals, assertInstanceOf, assertMatch } from "../../../assert.ts";
import { type FakeAccount, type FakeYou, startFakeYou } from "../../../fakes/you_web.ts";
import { startGateway, type TestGateway } from "../../../helpers.ts";

const A = "sess-api-alpha-00000000";
const B = "sess-api-bravo-11111111";

interface Setup extends AsyncDisposable {
  fake: FakeYou;
  gw: TestGateway;
  client: OpenAI;
}

async function setup(
  accounts: FakeAccount[],
  options: {
    cookies?: string[];
    you?: Record<string, unknown>;
    extra?: Record<string, unknown>;
    challenge?: boolean;
    password?: boolean;
    apiKey?: string;
  } = {},
): Promise<Setup> {
  const fake = await startFakeYou({ accounts, noChallenge: !options.challenge });
  const gw = await startGateway({
    ...(options.password === false ? {} : { server: { password: ["gw-pass"] } }),
    you: {
      mode: "web",
      "web-url": fake.origin,
      cookies: options.cookies ?? accounts.map((a) => `stytch_session=${a.session}`),
      clearance: false,
      ...options.you,
    },
    ...options.extra,
  });
  const client = new OpenAI({
    baseURL: gw.url,
    apiKey: options.apiKey ?? "gw-pass",
    maxRetries: 0,
  });
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

Deno.test("you without clearance: a mirror answers, streamed and not", async () => {
  await using t = await setup([{ session: A }]);
  const r = await t.client.chat.completions.create({
    model: "you/gpt_4o_mini",
    messages: [{ role: "user", content: "ping" }],
  });
  assertEquals(r.choices[0].message.content, "You said: ping");
  t.fake.respond = () => ({ tokens: ["po", "ng"], delayMs: 10 });
  const stream = await t.client.chat.completions.create({
    model: "you/gpt_4o_mini",
    messages: [{ role: "user", content: "ping" }],
    stream: true,
  });
  let text = "";
  for await (const c of stream) text += c.choices[0]?.delta.content ?? "";
  assertEquals(text, "pong");
  // Without a clearance the calls use the default user agent and no Cloudflare cookie.
  const sent = t.fake.searches[0].rec.headers;
  assertEquals(sent.get("user-agent"), DEFAULT_USER_AGENT);
  assert(!/cf_clearance/.test(sent.get("cookie") ?? ""));
});

Deno.test("you: the client's own cookie (Authorization) is used without any pool", async () => {
  await using t = await setup([{ session: A }], { cookies: [], password: false, apiKey: A });
  const r = await t.client.chat.completions.create({
    model: "you/gpt_4o",
    messages: [{ role: "user", content: "mine" }],
  });
  assertEquals(r.choices[0].message.content, "You said: mine");
  // A bare token is sent as the session cookies.
  assertMatch(
    t.fake.searches[0].rec.headers.get("cookie")!,
    new RegExp(`^stytch_session=${A}; ydc_stytch_session=${A}`),
  );
});

Deno.test("you: an sk-... key does not displace the accounts; a cookie-looking key does", async () => {
  await using t = await setup([{ session: A }, { session: B }], {
    cookies: [`stytch_session=${A}`],
    password: false,
    apiKey: "sk-placeholder-0123456789",
  });
  const r = await t.client.chat.completions.create({
    model: "you/gpt_4o",
    messages: [{ role: "user", content: "hi" }],
  });
  assertEquals(r.choices[0].message.content, "You said: hi");
  assertEquals(t.fake.searches[0].session, A);
  assert(!(t.fake.searches[0].rec.headers.get("cookie") ?? "").includes("sk-placeholder"));
  const own = new OpenAI({ baseURL: t.gw.url, apiKey: `stytch_session=${B}`, maxRetries: 0 });
  await own.chat.completions.create({
    model: "you/gpt_4o",
    messages: [{ role: "user", content: "mine" }],
  });
  assertEquals(t.fake.searches[1].session, B);
});

Deno.test("you: youChatUpdate texts are read; progress notes without text are not", async () => {
  await using t = await setup([{ session: A }]);
  t.fake.respond = () => ({ tokens: ["Thinking. "], updates: ["Agent ", "answer"] });
  const r = await t.client.chat.completions.create({
    model: "you/gpt_4o",
    messages: [{ role: "user", content: "hi" }],
  });
  assertEquals(r.choices[0].message.content, "Thinking. Agent answer");
});

Deno.test("you: no account configured and none sent is a 401", async () => {
  await using t = await setup([], { cookies: [] });
  const err = await t.client.chat.completions.create({
    model: "you/gpt_4o",
    messages: [{ role: "user", content: "hi" }],
  }).catch((e) => e);
  assertInstanceOf(err, OpenAI.AuthenticationError);
  assertMatch(err.message, /no you-web credential/);
});

Deno.test("you: an invalid session is set aside and the next account answers", async () => {
  await using t = await setup([{ session: B }], {
    cookies: ["stytch_session=sess-expired-99999999", `stytch_session=${B}`],
  });
  const r = await t.client.chat.completions.create({
    model: "you/gpt_4o",
    messages: [{ role: "user", content: "hi" }],
  });
  assertEquals(r.choices[0].message.content, "You said: hi");
  const pool = await (await fetch(`${t.gw.origin}/v1/pool`, {
    headers: { authorization: "Bearer gw-pass" },
  })).json();
  const accounts = pool.data.find((p: { provider: string }) => p.provider === "you-web").accounts;
  assertEquals(accounts[0].ready, false);
  assertMatch(accounts[0].last_error, /answered 401/);
  assertEquals(accounts[1].ready, true);
});

Deno.test("you: quota notices inside the answer are dropped", async () => {
  await using t = await setup([{ session: A }]);
  t.fake.respond = () => ({
    tokens: [
      "#### You've hit your free quota for GPT-4 mode. Using a basic model.\n\n",
      "Basic ",
      "answer",
    ],
  });
  const r = await t.client.chat.completions.create({
    model: "you/gpt_4",
    messages: [{ role: "user", content: "hi" }],
  });
  assertEquals(r.choices[0].message.content, "Basic answer");
  assert(t.gw.logs.some((l) => l.includes("quota notice in the answer")));
});

Deno.test("you: with the challenge in place and the browser off, the 403 says so", async () => {
  await using t = await setup([{ session: A }], { challenge: true });
  const err = await t.client.chat.completions.create({
    model: "you/gpt_4o",
    messages: [{ role: "user", content: "hi" }],
  }).catch((e) => e);
  assertInstanceOf(err, OpenAI.PermissionDeniedError);
  assertMatch(err.message, /Cloudflare's challenge stopped the call .*you\.clearance is off/);
  assertEquals(t.fake.searches.length, 0);
});

Deno.test("you: with the browser on but not installed, a 500 says what to install", async () => {
  await using t = await setup([{ session: A }], {
    challenge: true,
    you: { clearance: true },
    extra: { browser: { executable: "/nonexistent/chromium" } },
  });
  const err = await t.client.chat.completions.create({
    model: "you/gpt_4o",
    messages: [{ role: "user", content: "hi" }],
  }).catch((e) => e);
  assertInstanceOf(err, OpenAI.InternalServerError);
  assertEquals(err.status, 500);
  assertEquals(err.code, "browser_unavailable");
  assertMatch(err.message, /install it \(apt-get install chromium\) or set browser\.executable/);
  assertEquals(t.fake.requests.length, 0, "nothing was sent without a clearance");
});

Deno.test("you: a 400 from you.com stays a 400", async () => {
  await using t = await setup([{ session: A }], { you: { models: ["made_up_mode"] } });
  const err = await t.client.chat.completions.create({
    model: "you/made_up_mode",
    messages: [{ role: "user", content: "hi" }],
  }).catch((e) => e);
  assertInstanceOf(err, OpenAI.BadRequestError);
  assertMatch(err.message, /you upstream answered 400/);
});

Deno.test("<echo /> answers with what you.com would get, without calling it", async () => {
  await using t = await setup([{ session: A }]);
  const res = await t.client.chat.completions.create({
    model: "you/gpt_4o",
    messages: [
      { role: "system", content: "<echo />Be brief." },
      { role: "user", content: "50% of 8?" },
      { role: "assistant", content: "4" },
      { role: "user", content: "And of 10?" },
    ],
  });
  assertEquals(
    res.choices[0].message.content,
    "[question]\nBe brief.\n\n50% of 8?\n\n[answer]\n4\n\n[q]\nAnd of 10?",
  );
  assertEquals(t.fake.requests.length, 0);
});
