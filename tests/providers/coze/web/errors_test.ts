/**
 * Coze's failures through the running gateway: refusals, limits, broken services, the pool's
 * handling of accounts, and a client that leaves mid-stream.
 */
import OpenAI from "openai";
import { assert, assertEquals, assertRejects, assertStringIncludes } from "../../../assert.ts";
import { abortedWithin, parseSseBody, readThenAbort, waitFor } from "../../../helpers.ts";
import { poolState, SESSION_A, SESSION_B, setup } from "./helpers.ts";
import { ask } from "../../web_helpers.ts";

const UNUSUAL = {
  code: 700012014,
  msg: "We've detected unusual traffic from your network, so Coze is temporarily unavailable.",
};
const LIMIT =
  "You have reached the daily limit for sending messages to the bot. Please try again tomorrow.";

Deno.test("login invalid: 401, the cookie never appears in the error", async () => {
  const cookie = "sessionid=expired0123456789abcdef0123456789";
  await using t = await setup({ password: false, apiKey: cookie, coze: { cookies: [] } });
  const err = await assertRejects(() => ask(t.client, "coze"), OpenAI.AuthenticationError);
  assertStringIncludes(err.message, "login is invalid");
  assertStringIncludes(err.message, "Login verification is invalid");
  assert(!err.message.includes("expired0123456789abcdef"), err.message);
  assert(!t.gw.logs.join("\n").includes("expired0123456789abcdef0123456789"));
});

Deno.test("unusual traffic: 503 with Coze's message", async () => {
  await using t = await setup();
  t.fake.respond = () => ({ refuse: UNUSUAL });
  const err = await assertRejects(() => ask(t.client, "coze"), OpenAI.APIError);
  assertEquals(err.status, 503);
  assertStringIncludes(err.message, "unusual traffic");
});

Deno.test("a stale signature is refused by Coze as unusual traffic (503)", async () => {
  await using t = await setup();
  t.fake.signer = "stale";
  const err = await assertRejects(() => ask(t.client, "coze"), OpenAI.APIError);
  assertEquals(err.status, 503);
  assertStringIncludes(err.message, "unusual traffic");
  assertEquals(t.fake.chats.length, 0);
});

Deno.test("an msToken Coze does not know is refused as unusual traffic (503)", async () => {
  await using t = await setup({
    password: false,
    apiKey: `sessionid=${SESSION_A}[msToken=never-issued-token]`,
  });
  const err = await assertRejects(() => ask(t.client, "coze"), OpenAI.APIError);
  assertEquals(err.status, 503);
  assert(!err.message.includes("never-issued-token"), err.message);
});

Deno.test("message limit: 429, the account rests and another serves", async () => {
  await using t = await setup({
    coze: { cookies: [`sessionid=${SESSION_A}`, `sessionid=${SESSION_B}`] },
  });
  // Coze sends the notice as one answer message.
  t.fake.respond = (call) => call.session === SESSION_A ? { pieces: [LIMIT] } : { text: "from B" };
  const res = await ask(t.client, "coze");
  assertEquals(res.choices[0].message.content, "from B");
  const accounts = await poolState(t.gw);
  const a = accounts.find((x) => !x.ready)!;
  assertStringIncludes(a.last_error!, "message limit");
  assertEquals(accounts.filter((x) => x.ready).length, 1);
  // With every account at its limit the client gets 429.
  t.fake.respond = () => ({ pieces: [LIMIT] });
  const err = await assertRejects(() => ask(t.client, "coze"), OpenAI.RateLimitError);
  assertStringIncludes(err.message, "daily limit");
});

Deno.test("pool: an invalid login is put aside and the next cookie serves", async () => {
  await using t = await setup({
    coze: { cookies: ["sessionid=unknown0123456789abcdef0123456789", `sessionid=${SESSION_B}`] },
  });
  const res = await ask(t.client, "coze");
  assertEquals(res.choices[0].message.content, "Hello from coze");
  assertStringIncludes(t.fake.calls("/api/conversation/chat")[0].headers.get("cookie")!, SESSION_B);
  const accounts = await poolState(t.gw);
  const bad = accounts.find((x) => !x.ready)!;
  assertStringIncludes(bad.last_error!, "login is invalid");
  assert(!JSON.stringify(accounts).includes("unknown0123456789abcdef0123456789"));
  // The next request goes straight to the good account.
  await ask(t.client, "coze");
  assertEquals(t.fake.calls("/api/conversation/get_message_list").length, 3);
});

Deno.test("pool: one request per cookie at a time; a busy pool waits, then serves", async () => {
  await using t = await setup();
  t.fake.respond = () => ({ pieces: ["a", "b", "c", "d"], delayMs: 60 });
  const [r1, r2] = await Promise.all([ask(t.client, "coze", "1"), ask(t.client, "coze", "2")]);
  assertEquals([r1.choices[0].message.content, r2.choices[0].message.content], ["abcd", "abcd"]);
  // The second chat started only after the first one's answer was over.
  const chats = t.fake.calls("/api/conversation/chat");
  assertEquals(chats.length, 2);
  assertEquals((await poolState(t.gw))[0].busy, 0);
});

Deno.test("code != 0 from get_message_list is a 502 quoting Coze", async () => {
  await using t = await setup();
  const err = await assertRejects(
    () =>
      t.client.chat.completions.create({
        model: "coze/123-1-2",
        messages: [{ role: "user", content: "x" }],
      }),
    OpenAI.APIError,
  );
  assertEquals(err.status, 502);
  assertStringIncludes(err.message, "702092001");
  assertStringIncludes(err.message, "Bot not exist");
});

Deno.test("chat answered 500: 502 naming the upstream status", async () => {
  await using t = await setup();
  t.fake.respond = () => ({
    status: { status: 500, body: "<html>oops</html>", contentType: "text/html" },
  });
  const err = await assertRejects(() => ask(t.client, "coze"), OpenAI.APIError);
  assertEquals(err.status, 502);
  assertStringIncludes(err.message, "500");
});

Deno.test("chat answered 200 with HTML instead of a stream: 502", async () => {
  await using t = await setup();
  t.fake.respond = () => ({
    status: { status: 200, body: "<html>captcha</html>", contentType: "text/html" },
  });
  const err = await assertRejects(() => ask(t.client, "coze"), OpenAI.APIError);
  assertEquals(err.status, 502);
  assertStringIncludes(err.message, "instead of an event stream");
});

Deno.test("a failing bot tool and an empty answer are 502s", async () => {
  await using t = await setup();
  t.fake.respond = () => ({ toolFailure: "Failed: the plugin timed out", text: "x" });
  const e1 = await assertRejects(() => ask(t.client, "coze"), OpenAI.APIError);
  assertEquals(e1.status, 502);
  assertStringIncludes(e1.message, "plugin timed out");
  t.fake.respond = () => ({ pieces: [] });
  const e2 = await assertRejects(() => ask(t.client, "coze"), OpenAI.APIError);
  assertEquals(e2.status, 502);
  assertStringIncludes(e2.message, "no text");
});

Deno.test("an error inside the stream after text: an SSE error event after the text", async () => {
  await using t = await setup();
  t.fake.respond = () => ({ pieces: ["par", "tial"], streamError: UNUSUAL });
  const res = await fetch(`${t.gw.url}/chat/completions`, {
    method: "POST",
    headers: { authorization: "Bearer gw-pass", "content-type": "application/json" },
    body: JSON.stringify({
      model: "coze",
      stream: true,
      messages: [{ role: "user", content: "x" }],
    }),
  });
  assertEquals(res.status, 200);
  const { events } = parseSseBody(await res.text());
  const text = events.map((e) =>
    (e.choices as { delta?: { content?: string } }[] | undefined)?.[0]?.delta?.content ?? ""
  )
    .join("");
  assertEquals(text, "partial");
  const last = events.at(-1) as { error?: { message: string } };
  assertStringIncludes(last.error!.message, "unusual traffic");
});

Deno.test("the signing service unreachable: 502 naming it", async () => {
  await using t = await setup({ coze: { "sign-url": "http://127.0.0.1:9" } });
  const err = await assertRejects(() => ask(t.client, "coze"), OpenAI.APIError);
  assertEquals(err.status, 502);
  assertStringIncludes(err.message, "127.0.0.1:9");
});

Deno.test("web mode without coze.sign-url (no default any more): 500 naming the key, nothing sent", async () => {
  await using t = await setup({ coze: { "sign-url": undefined } });
  const err = await assertRejects(() => ask(t.client, "coze"), OpenAI.APIError);
  assertEquals(err.status, 500);
  assertStringIncludes(err.message, "set coze.sign-url");
  assertEquals(t.fake.api.requests.length, 0);
});

Deno.test("the signing service refusing: 502 with its message", async () => {
  await using t = await setup();
  t.fake.signer = "refuse";
  const err = await assertRejects(() => ask(t.client, "coze"), OpenAI.APIError);
  assertEquals(err.status, 502);
  assertStringIncludes(err.message, "sign service overloaded");
});

Deno.test("a signing service answering 404 is still a 502 (never the client's 404)", async () => {
  await using t = await setup({ coze: (fake) => ({ "sign-url": `${fake.sign.origin}/nope` }) });
  const err = await assertRejects(() => ask(t.client, "coze"), OpenAI.APIError);
  assertEquals(err.status, 502);
  assertStringIncludes(err.message, "/nope/report) answered 404");
});

Deno.test("client abort mid-stream: the chat request is aborted, the conversation still cleared", async () => {
  await using t = await setup();
  // 60 s of answer: still running whenever the gateway notices the client left.
  t.fake.respond = () => ({ text: "x".repeat(6000), pieceSize: 2, delayMs: 20 });
  const controller = new AbortController();
  const stream = await t.client.chat.completions.create({
    model: "coze",
    messages: [{ role: "user", content: "long" }],
    stream: true,
  }, { signal: controller.signal });
  const n = await readThenAbort(stream, controller);
  assertEquals(n, 3);
  const chat = t.fake.calls("/api/conversation/chat")[0];
  await abortedWithin(chat);
  assert(chat.wasAborted);
  await waitFor(
    () => t.fake.calls("/api/conversation/clear_message").length === 1,
    3000,
    "clear_message",
  );
  // The account is free again and the server keeps serving.
  await waitFor(
    () => t.gw.logs.some((l) => l.includes("client disconnected")),
    3000,
    "disconnect log",
  );
  t.fake.respond = () => ({ text: "again" });
  assertEquals((await ask(t.client, "coze")).choices[0].message.content, "again");
});
