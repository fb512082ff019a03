/**
 * The Coze provider through the running gateway with the official `openai` client, against the
 * fake coze.com, signing service, report host, web SDK host and image host.
 */
import OpenAI from "openai";
import {
  assert,
  assertEquals,
  assertMatch,
  assertRejects,
  assertStringIncludes,
} from "../../../assert.ts";
import { waitFor } from "../../../helpers.ts";
import { countTokens } from "../../../../src/util/tokens.ts";
import {
  BOT_8K,
  BOTS,
  OWNER_MODEL,
  poolState,
  SESSION_A,
  SESSION_B,
  setup,
  WEBSDK_MODEL,
} from "./helpers.ts";

Deno.test("coze is listed when coze.8k is configured", async () => {
  await using t = await setup();
  const ids = [];
  for await (const m of t.client.models.list()) ids.push(m.id);
  assert(ids.includes("coze"), ids.join(","));
});

Deno.test("normal mode: the whole flow, bytes as Coze's web client sends them", async () => {
  await using t = await setup();
  const res = await t.client.chat.completions.create({
    model: "coze",
    messages: [
      { role: "system", content: "Be brief." },
      { role: "user", content: "Is 50% off a deal?" },
    ],
  });
  assertEquals(res.model, "coze");
  assertEquals(res.choices[0].message.content, "Hello from coze");
  assertEquals(res.choices[0].finish_reason, "stop");
  const query = "<|system|>\nBe brief.<|end|>\n<|user|>\nIs 50% off a deal?<|end|>\n<|assistant|>";
  assertEquals(res.usage!.prompt_tokens, countTokens(query));
  assertEquals(res.usage!.completion_tokens, countTokens("Hello from coze"));

  // msToken: made by the signing service's report, through the report host.
  assertEquals(t.fake.sign.requests[0].method, "GET");
  assertEquals(t.fake.sign.requests[0].path, "/report");
  const rep = t.fake.report.requests[0];
  assertEquals([rep.method, rep.path, rep.query.get("msToken")], ["POST", "/web/report", ""]);
  assertEquals(typeof (rep.json as Record<string, unknown>).strData, "string");
  assert(!("url" in (rep.json as Record<string, unknown>)));
  const msToken = t.fake.issued[0];

  // get_message_list first.
  const list = t.fake.calls("/api/conversation/get_message_list")[0];
  assertEquals(list.query.get("msToken"), msToken);
  assertEquals(list.json, {
    cursor: "0",
    count: 15,
    draft_mode: false,
    bot_id: BOT_8K["bot-id"],
    scene: 2,
    biz_kind: "",
    insert_history_message_list: [],
  });

  // The chat: signed over its exact body, headers of the web client.
  const chat = t.fake.calls("/api/conversation/chat")[0];
  const signed = t.fake.sign.requests.find((r) => r.method === "POST")!;
  assertEquals(signed.body, chat.body);
  assertEquals(signed.query.get("msToken"), msToken);
  assertEquals(chat.query.get("msToken"), msToken);
  assertMatch(chat.query.get("X-Bogus")!, /^DFSz/);
  assertMatch(chat.query.get("_signature")!, /^_02B4/);
  assertEquals(chat.headers.get("cookie"), `sessionid=${SESSION_A}; msToken=${msToken}`);
  assertEquals(chat.headers.get("origin"), "https://www.coze.com");
  assertEquals(chat.headers.get("referer"), "https://www.coze.com/store/bot");
  assertStringIncludes(chat.headers.get("user-agent")!, "Edg/");
  const body = chat.json as Record<string, unknown>;
  assertEquals(Object.keys(body), [
    "query",
    "local_message_id",
    "extra",
    "scene",
    "bot_version",
    "bot_id",
    "conversation_id",
    "draft_mode",
    "stream",
    "chat_history",
    "mention_list",
    "device_id",
    "content_type",
  ]);
  assertEquals(body.query, query);
  assertEquals(body.bot_version, BOT_8K.version);
  assertEquals(body.draft_mode, false);
  assertEquals(body.conversation_id, t.fake.chats[0].body.conversation_id);
  assertMatch(body.local_message_id as string, /^[0-9A-Za-z_-]{21}$/);
  assertMatch(body.device_id as string, /^\d+$/);

  // Afterwards: a new section and the conversation's messages deleted.
  await waitFor(() => t.fake.calls("/api/conversation/clear_message").length === 1);
  const cleared = t.fake.calls("/api/conversation/clear_message")[0].json;
  assertEquals(cleared, {
    bot_id: BOT_8K["bot-id"],
    conversation_id: body.conversation_id,
    scene: 2,
  });
  await waitFor(() => t.fake.calls("/api/conversation/create_section").length === 1);
  assertEquals(t.fake.calls("/api/conversation/create_section")[0].json, {
    insert_history_message_list: [],
    conversation_id: body.conversation_id,
    scene: 2,
  });
  await waitFor(() => !t.fake.history.has(String(body.conversation_id)), 3000, "history cleared");
});

Deno.test("normal mode streamed: one chunk per answer delta, then stop and [DONE]", async () => {
  await using t = await setup();
  t.fake.respond = () => ({ pieces: ["Bonjour", ", 100%", " sûr ", "🌍"], delayMs: 5 });
  const stream = await t.client.chat.completions.create({
    model: "coze",
    messages: [{ role: "user", content: "salut" }],
    stream: true,
    stream_options: { include_usage: true },
  });
  const deltas: string[] = [];
  let finish: string | null = null;
  let usage: OpenAI.CompletionUsage | undefined;
  for await (const chunk of stream) {
    assertEquals(chunk.model, "coze");
    if (chunk.usage) usage = chunk.usage;
    const c = chunk.choices[0];
    if (!c) continue;
    if (c.delta.content) deltas.push(c.delta.content);
    if (c.finish_reason) finish = c.finish_reason;
  }
  assertEquals(deltas, ["Bonjour", ", 100%", " sûr ", "🌍"]);
  assertEquals(finish, "stop");
  assertEquals(usage!.prompt_tokens, countTokens("<|user|>\nsalut<|end|>\n<|assistant|>"));
  assertEquals(usage!.completion_tokens, countTokens("Bonjour, 100% sûr 🌍"));
});

Deno.test("msToken: a made token is reused; the [msToken=...] segment is used as sent", async () => {
  await using t = await setup({
    password: false,
    apiKey: `sessionid=${SESSION_B}; lang=en[msToken=PRESET-token_1]`,
    fake: { msTokens: ["PRESET-token_1"] },
  });
  await t.client.chat.completions.create({
    model: "coze",
    messages: [{ role: "user", content: "a" }],
  });
  const chat = t.fake.calls("/api/conversation/chat")[0];
  assertEquals(chat.query.get("msToken"), "PRESET-token_1");
  assertEquals(
    chat.headers.get("cookie"),
    `sessionid=${SESSION_B}; lang=en; msToken=PRESET-token_1`,
  );
  // No report was needed.
  assertEquals(t.fake.report.requests.length, 0);
  assertEquals(t.fake.sign.requests.filter((r) => r.path === "/report").length, 0);
});

Deno.test("msToken: made once per cookie, then reused", async () => {
  await using t = await setup();
  for (let i = 0; i < 2; i++) {
    await t.client.chat.completions.create({
      model: "coze",
      messages: [{ role: "user", content: `q${i}` }],
    });
  }
  assertEquals(t.fake.report.requests.length, 1);
  const chats = t.fake.calls("/api/conversation/chat");
  assertEquals(chats.length, 2);
  assertEquals(chats[1].query.get("msToken"), t.fake.issued[0]);
});

Deno.test("the client's cookie serves the request when there is no password", async () => {
  await using t = await setup({
    password: false,
    apiKey: `sessionid=${SESSION_B}`,
    coze: { cookies: [] },
  });
  await t.client.chat.completions.create({
    model: "coze",
    messages: [{ role: "user", content: "x" }],
  });
  assertStringIncludes(
    t.fake.calls("/api/conversation/chat")[0].headers.get("cookie")!,
    `sessionid=${SESSION_B};`,
  );
});

Deno.test("a placeholder API key does not displace the cookie pool", async () => {
  await using t = await setup({ password: false, apiKey: "sk-placeholder-key-123" });
  await t.client.chat.completions.create({
    model: "coze",
    messages: [{ role: "user", content: "x" }],
  });
  assertStringIncludes(
    t.fake.calls("/api/conversation/chat")[0].headers.get("cookie")!,
    `sessionid=${SESSION_A};`,
  );
});

Deno.test("long prompts go to the coze.128k bot", async () => {
  await using t = await setup();
  const long = "word ".repeat(7200);
  await t.client.chat.completions.create({
    model: "coze",
    messages: [{ role: "user", content: long }],
  });
  await t.client.chat.completions.create({
    model: "coze",
    messages: [{ role: "user", content: "short" }],
  });
  assertEquals(t.fake.chats.map((c) => c.bot.id), [BOTS[1].id, BOTS[0].id]);
  assertEquals(t.fake.chats[0].body.bot_version, BOTS[1].version);
});

Deno.test("a long prompt without coze.128k is refused as too long", async () => {
  await using t = await setup({ coze: { "128k": undefined } });
  const err = await assertRejects(
    () =>
      t.client.chat.completions.create({
        model: "coze",
        messages: [{ role: "user", content: "word ".repeat(7200) }],
      }),
    OpenAI.BadRequestError,
  );
  assertEquals(err.code, "context_length_exceeded");
  assertEquals(t.fake.chats.length, 0);
});

Deno.test("a named bot: coze/<bot>-<version>-<scene>", async () => {
  await using t = await setup({ coze: { "8k": undefined } });
  const res = await t.client.chat.completions.create({
    model: `coze/${BOTS[4].id}-1-7`,
    messages: [{ role: "user", content: "hi" }],
  });
  assertEquals(res.model, `coze/${BOTS[4].id}-1-7`);
  assertEquals(t.fake.chats[0].body.scene, 7);
  assertEquals(t.fake.chats[0].body.bot_version, "1");
  // `coze` itself needs coze.8k.
  const err = await assertRejects(
    () =>
      t.client.chat.completions.create({
        model: "coze",
        messages: [{ role: "user", content: "hi" }],
      }),
    OpenAI.NotFoundError,
  );
  assertStringIncludes(err.message, "coze.8k");
});

Deno.test("owner mode: draft settings and system prompt written before the chat", async () => {
  await using t = await setup();
  t.fake.respond = (call) => ({ text: `t=${call.draft?.otherInfo.temperature}` });
  const res = await t.client.chat.completions.create({
    model: OWNER_MODEL,
    messages: [
      { role: "system", content: "You are Ada, 100% precise." },
      { role: "user", content: "who are you?" },
    ],
    temperature: 0.3,
    top_p: 0.5,
    max_tokens: 100,
  });
  assertEquals(res.choices[0].message.content, "t=0.3");
  const bot = BOTS[2];
  const draft = t.fake.chats[0].draft!;
  assertEquals(draft.otherInfo, {
    model: "gpt-4o-8k",
    temperature: 0.3,
    top_p: 0.5,
    frequency_penalty: 0,
    presence_penalty: 0,
    max_tokens: 100,
    response_format: 0,
    model_style: 0,
    ShortMemPolicy: { HistoryRound: 3 },
  });
  assertEquals(draft.systemInfoAll, [
    { prompt_type: 1, data: "You are Ada, 100% precise.", record_id: "" },
    { prompt_type: 2, data: "" },
    { prompt_type: 3, data: "" },
  ]);
  const info = t.fake.calls("/api/draftbot/get_bot_info")[0];
  assertEquals(info.json, { bot_id: bot.id, space_id: bot.spaceId });
  assertEquals(t.fake.calls("/api/draftbot/update").length, 2);
  const body = t.fake.chats[0].body;
  assertEquals(body.draft_mode, true);
  assertEquals(body.space_id, bot.spaceId);
  assert(!("bot_version" in body));
  assertEquals(body.scene, 4);
  // The system prompt went into the bot, not into the query.
  assertEquals(body.query, "<|user|>\nwho are you?<|end|>\n<|assistant|>");
});

Deno.test("owner mode: temperature 0 stays 0, defaults fill what the request leaves out", async () => {
  await using t = await setup();
  await t.client.chat.completions.create({
    model: OWNER_MODEL,
    messages: [{ role: "user", content: "x" }],
    temperature: 0,
  });
  const info = t.fake.chats[0].draft!.otherInfo;
  assertEquals([info.temperature, info.top_p, info.max_tokens], [0, 1, 4096]);
  assertEquals(t.fake.chats[0].draft!.systemInfoAll[0].data, "");
});

Deno.test("owner mode: requests on one bot are serialised until the chat is under way", async () => {
  await using t = await setup({ coze: { cookies: [`sessionid=${SESSION_A}`], concurrency: 4 } });
  let n = 0;
  t.fake.respond = (call) => ({
    text: `temp ${call.draft?.otherInfo.temperature}`,
    headersDelayMs: n++ === 0 ? 300 : 0,
  });
  const ask = (temperature: number) =>
    t.client.chat.completions.create({
      model: OWNER_MODEL,
      messages: [{ role: "user", content: `t${temperature}` }],
      temperature,
    });
  const [a, b] = await Promise.all([ask(0.1), ask(0.9)]);
  // Each chat ran with its own settings: the second's updates waited for the first's chat.
  assertEquals(
    [a, b].map((r) => r.choices[0].message.content).sort(),
    ["temp 0.1", "temp 0.9"],
  );
  const paths = t.fake.api.requests.map((r) => r.path.split("/").pop());
  const firstChat = paths.indexOf("chat");
  const secondInfo = paths.lastIndexOf("get_bot_info");
  assert(secondInfo > firstChat, paths.join(" "));
  assertEquals(paths.filter((p) => p === "update").length, 4);
});

Deno.test("owner mode: a bot busy longer than coze.owner-wait answers 429, the account stays ready", async () => {
  await using t = await setup({ coze: { "owner-wait": 0.2, concurrency: 4 } });
  let n = 0;
  t.fake.respond = () => ({ text: "slow", headersDelayMs: n++ === 0 ? 1500 : 0 });
  const first = t.client.chat.completions.create({
    model: OWNER_MODEL,
    messages: [{ role: "user", content: "1" }],
  });
  await waitFor(() => t.fake.calls("/api/conversation/chat").length === 1);
  const err = await assertRejects(
    () =>
      t.client.chat.completions.create({
        model: OWNER_MODEL,
        messages: [{ role: "user", content: "2" }],
      }),
    OpenAI.RateLimitError,
  );
  assertEquals(err.code, "bot_busy");
  assertStringIncludes(err.message, "coze.owner-wait");
  assertEquals((await first).choices[0].message.content, "slow");
  const accounts = await poolState(t.gw);
  assertEquals(accounts.map((a) => a.ready), [true]);
});

Deno.test("owner mode: a bot the account does not own is refused", async () => {
  await using t = await setup({ coze: { cookies: [`sessionid=${SESSION_B}`] } });
  const err = await assertRejects(
    () =>
      t.client.chat.completions.create({
        model: OWNER_MODEL,
        messages: [{ role: "user", content: "x" }],
      }),
    OpenAI.APIError,
  );
  assertEquals(err.status, 502);
  assertStringIncludes(err.message, "permission");
  assertEquals(t.fake.chats.length, 0);
});

Deno.test("web SDK mode: no cookie, onboarding, history as chat_history, last turn as query", async () => {
  await using t = await setup({ password: false, apiKey: "sk-anything", coze: { cookies: [] } });
  t.fake.respond = (call) => ({ text: `you said ${call.query}` });
  const res = await t.client.chat.completions.create({
    model: WEBSDK_MODEL,
    messages: [
      { role: "system", content: "Persona" },
      { role: "user", content: "one" },
      { role: "assistant", content: "two" },
      { role: "user", content: "three 100%" },
    ],
  });
  assertEquals(res.choices[0].message.content, "you said three 100%");
  const onboarding = t.fake.sdk.requests[0];
  assertEquals(onboarding.path, "/open_api/v1/bot/onboarding");
  assertEquals(onboarding.query.get("source"), "web_sdk");
  assertEquals(onboarding.query.get("bot_id"), BOTS[3].id);
  const chat = t.fake.sdk.requests[1];
  assertEquals(chat.path, "/open_api/v1/web_chat");
  assertEquals(chat.headers.get("origin"), "https://api.coze.com");
  assertEquals(chat.headers.get("referer"), "https://api.coze.com/open-platform/sdk/chatapp");
  assertEquals(chat.headers.get("cookie"), `msToken=${t.fake.issued[0]}`);
  const body = chat.json as { chat_history: Record<string, unknown>[]; [k: string]: unknown };
  assertEquals(body.query, "three 100%");
  assertEquals(body.scene, 1000);
  assert(!("bot_version" in body));
  assertEquals(
    body.chat_history.map((m) => [m.role, m.type, m.content, m.index, m.section_id, m.is_finish]),
    [
      ["user", "ack", "Persona", 0, "999", true],
      ["user", "ack", "one", 1, "999", true],
      ["assistant", "answer", "two", 2, "999", true],
    ],
  );
  // No coze.com call at all.
  assertEquals(t.fake.api.requests.length, 0);
});

Deno.test("web SDK mode streamed, and a configured web SDK bot behind `coze`", async () => {
  await using t = await setup({
    coze: { cookies: [], "8k": { "bot-id": BOTS[3].id, scene: 1000, websdk: true } },
  });
  t.fake.respond = () => ({ pieces: ["a", "b", "c"], delayMs: 5 });
  const stream = await t.client.chat.completions.create({
    model: "coze",
    messages: [{ role: "user", content: "hey" }],
    stream: true,
  });
  let text = "";
  for await (const c of stream) text += c.choices[0]?.delta.content ?? "";
  assertEquals(text, "abc");
  assertEquals(t.fake.chats[0].kind, "web_chat");
});

Deno.test("web SDK mode: a bot not published to the web SDK is a clear error", async () => {
  await using t = await setup({ password: false, apiKey: "sk-x", coze: { cookies: [] } });
  const err = await assertRejects(
    () =>
      t.client.chat.completions.create({
        model: `coze/${BOTS[0].id}-0-1000-w`,
        messages: [{ role: "user", content: "x" }],
      }),
    OpenAI.APIError,
  );
  assertEquals(err.status, 502);
  assertStringIncludes(err.message, "not published to the Web SDK");
});

Deno.test("images: data URLs are uploaded to the image host, URLs kept", async () => {
  await using t = await setup();
  const png = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 1, 2, 255]);
  const dataUrl = `data:image/png;base64,${btoa(String.fromCharCode(...png))}`;
  await t.client.chat.completions.create({
    model: "coze",
    messages: [{
      role: "user",
      content: [
        { type: "text", text: "compare" },
        { type: "image_url", image_url: { url: dataUrl } },
        { type: "image_url", image_url: { url: "https://img.example/b.jpg" } },
      ],
    }],
  });
  const up = t.fake.upload.images;
  assertEquals(up.length, 1);
  assertEquals(up[0].bytes, png);
  assertEquals([up[0].filename, up[0].type], ["1.png", "image/png"]);
  assertEquals(t.fake.upload.requests[0].headers.get("authorization"), "Bearer 123");
  assertEquals(
    t.fake.chats[0].query,
    `<|user|>\ncompare\n\n*image*: ${
      up[0].url
    }\n----\n\n*image*: https://img.example/b.jpg\n----<|end|>\n<|assistant|>`,
  );
});

Deno.test("images: a broken data URL is a 400 before any upstream call", async () => {
  await using t = await setup();
  const err = await assertRejects(
    () =>
      t.client.chat.completions.create({
        model: "coze",
        messages: [{
          role: "user",
          content: [{ type: "image_url", image_url: { url: "data:text/plain;base64,AAAA" } }],
        }],
      }),
    OpenAI.BadRequestError,
  );
  assertStringIncludes(err.message, "data:image");
  assertEquals(t.fake.api.requests.length, 0);
});
