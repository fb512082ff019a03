/**
 * `generateCozeImage` (used by `/v1/images/generations`) against the fake Coze: the painting
 * query, the URL from the answer, retries, the cookie from the argument or the pool.
 */
import { assert, assertEquals, assertRejects, assertStringIncludes } from "../../../assert.ts";
import { startFakeCoze } from "../../../fakes/coze_web.ts";
import { parseConfig } from "../../../../src/config/mod.ts";
import { GatewayError } from "../../../../src/openai/errors.ts";
import { createCozeProvider } from "../../../../src/providers/coze/mod.ts";
import type { RequestContext } from "../../../../src/providers/types.ts";
import { createLogger } from "../../../../src/util/log.ts";
import { requestContext, testDeps } from "../../../context.ts";
import { BOTS, SESSION_A, SESSION_B } from "./helpers.ts";

const IMAGE_BOT = { "bot-id": BOTS[4].id, version: "1", scene: 2 };

async function setup(cozeConfig: Record<string, unknown> = {}) {
  const fake = await startFakeCoze({ sessions: [SESSION_A, SESSION_B], bots: BOTS });
  const config = parseConfig(
    JSON.stringify({ coze: { ...fake.config, images: IMAGE_BOT, ...cozeConfig } }),
    "test.yaml",
  ).config;
  const abort = new AbortController();
  const logs: string[] = [];
  const log = createLogger("debug", (_l, line) => logs.push(line));
  const coze = createCozeProvider(testDeps(log));
  const ctx: RequestContext = requestContext({ config, signal: abort.signal, log });
  return {
    fake,
    ctx,
    logs,
    coze,
    paint: (prompt: string, cookie?: string) => coze.paint!(prompt, ctx, cookie),
    async [Symbol.asyncDispose]() {
      abort.abort();
      await coze.settled!();
      await fake.close();
    },
  };
}

Deno.test("image: the painting query, the URL from the markdown answer", async () => {
  await using t = await setup({ cookies: [`sessionid=${SESSION_A}`] });
  t.fake.respond = () => ({
    pieces: ["Here is your picture:\n\n", "![a fox](https://s.coze.example/img/fox.png)"],
  });
  const url = await t.paint("a red fox, 100% cute");
  assertEquals(url, "https://s.coze.example/img/fox.png");
  const chat = t.fake.chats[0];
  assertEquals(
    chat.query,
    "Paint on command:\n    style: exquisite, HD\n    prompt: a red fox, 100% cute",
  );
  assertEquals(chat.bot.id, IMAGE_BOT["bot-id"]);
  assertEquals(chat.session, SESSION_A);
  const req = t.fake.calls("/api/conversation/chat")[0];
  assertEquals(req.headers.get("referer"), "https://www.coze.com/");
});

Deno.test("image: the cookie argument wins over the pool", async () => {
  await using t = await setup({ cookies: [`sessionid=${SESSION_A}`] });
  t.fake.respond = () => ({
    pieces: ['{"data":[{"url":"https://s.coze.example/b.png","size":1}]}'],
  });
  const url = await t.paint("b", `sessionid=${SESSION_B}`);
  assertEquals(url, "https://s.coze.example/b.png");
  assertEquals(t.fake.chats[0].session, SESSION_B);
});

Deno.test("image: a bot that apologises is asked again, up to three times", async () => {
  await using t = await setup({ cookies: [`sessionid=${SESSION_A}`] });
  let n = 0;
  t.fake.respond = () =>
    ++n < 3
      ? { text: "I apologize, but I am unable to fulfill your request." }
      : { text: "[image](https://s.coze.example/third.png)" };
  assertEquals(await t.paint("c"), "https://s.coze.example/third.png");
  assertEquals(t.fake.chats.length, 3);
});

Deno.test("image: three answers without an image are a clear 502, not retried on other accounts", async () => {
  await using t = await setup({ cookies: [`sessionid=${SESSION_A}`, `sessionid=${SESSION_B}`] });
  t.fake.respond = () => ({ text: "I cannot draw that." });
  const err = await assertRejects(() => t.paint("d"), GatewayError);
  assertEquals(err.status, 502);
  assertStringIncludes(err.message, "no image URL in 3 attempts");
  assertStringIncludes(err.message, "I cannot draw that.");
  assertEquals(t.fake.chats.length, 3);
});

Deno.test("image: an invalid pooled cookie is set aside and the next serves", async () => {
  await using t = await setup({
    cookies: ["sessionid=gone0123456789abcdef0123456789ab", `sessionid=${SESSION_B}`],
  });
  t.fake.respond = () => ({ text: "![x](https://s.coze.example/x.png)" });
  assertEquals(await t.paint("e"), "https://s.coze.example/x.png");
  const accounts = t.coze.pools!().find((p) => p.provider === "coze-web")!.accounts;
  assertEquals(accounts.map((a) => a.ready), [false, true]);
});

Deno.test("image: no cookie anywhere is a 401; no coze.images is a 400", async () => {
  {
    await using t = await setup();
    const err = await assertRejects(() => t.paint("f"), GatewayError);
    assertEquals(err.status, 401);
  }
  {
    await using t = await setup({ images: undefined, cookies: [`sessionid=${SESSION_A}`] });
    const err = await assertRejects(() => t.paint("f"), GatewayError);
    assertEquals(err.status, 400);
    assertStringIncludes(err.message, "coze.images");
  }
});

Deno.test("image: a web SDK image bot needs no cookie", async () => {
  await using t = await setup({ images: { "bot-id": BOTS[3].id, scene: 1000, websdk: true } });
  t.fake.respond = () => ({ text: "![w](https://s.coze.example/w.png)" });
  assertEquals(await t.paint("g"), "https://s.coze.example/w.png");
  assertEquals(t.fake.chats[0].kind, "web_chat");
  assert(t.fake.chats[0].query.includes("prompt: g"));
});

Deno.test("image: errors of the upstream pass as GatewayErrors", async () => {
  await using t = await setup({ cookies: [`sessionid=${SESSION_A}`] });
  t.fake.respond = () => ({
    refuse: { code: 700012014, msg: "We've detected unusual traffic from your network" },
  });
  const err = await assertRejects(() => t.paint("h"), GatewayError);
  assertEquals(err.status, 503);
});
