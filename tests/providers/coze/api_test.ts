/**
 * Coze's official API through the running gateway with the `openai` client: the `/v3/chat` body,
 * streamed and collected answers with reasoning and usage, model ids, whose token serves, images,
 * bot discovery, `<echo />` and the emulated tools.
 */
import OpenAI from "openai";
import { assert, assertEquals, assertStringIncludes } from "../../assert.ts";
import { abortedWithin, readThenAbort } from "../../helpers.ts";
import { pngBytes } from "../../fakes/gradio_spaces.ts";
import { BOT_1, BOT_2, PAT_A, PAT_B, PAT_BAD, setup, tokenState } from "./helpers.ts";

Deno.test("coze: a collected answer; the /v3/chat body as Coze takes it", async () => {
  await using t = await setup();
  const res = await t.client.chat.completions.create({
    model: "coze",
    user: "alice",
    temperature: 0.3,
    messages: [
      { role: "system", content: "Be brief." },
      { role: "user", content: "Hello" },
      { role: "assistant", content: "Hi! 100% here." },
      { role: "user", content: "What is Coze?" },
    ],
  });
  assertEquals(res.model, "coze");
  assertEquals(res.choices[0].message.content, "You said: What is Coze?");
  assertEquals(res.choices[0].finish_reason, "stop");
  // Usage is Coze's own (conversation.chat.completed).
  assertEquals([res.usage?.prompt_tokens, res.usage?.completion_tokens], [11, 7]);
  const call = t.fake.chats[0];
  assertEquals(call.rec.headers.get("authorization"), `Bearer ${PAT_A}`);
  assertEquals(call.rec.path, "/v3/chat");
  assertEquals(call.body, {
    bot_id: BOT_1,
    user_id: "alice",
    stream: true,
    auto_save_history: false,
    additional_messages: [
      { role: "user", type: "question", content: "Be brief.", content_type: "text" },
      { role: "user", type: "question", content: "Hello", content_type: "text" },
      { role: "assistant", type: "answer", content: "Hi! 100% here.", content_type: "text" },
      { role: "user", type: "question", content: "What is Coze?", content_type: "text" },
    ],
  });
});

Deno.test("coze: streamed text and reasoning deltas, usage, then [DONE]", async () => {
  await using t = await setup();
  t.fake.respond = () => ({ reasoning: ["Let me ", "think."], pieces: ["Forty", "-two"] });
  const stream = await t.client.chat.completions.create({
    model: "coze",
    messages: [{ role: "user", content: "answer?" }],
    stream: true,
    stream_options: { include_usage: true },
  });
  const text: string[] = [];
  const reasoning: string[] = [];
  let finish: string | null = null;
  let usage: OpenAI.CompletionUsage | undefined;
  for await (const chunk of stream) {
    const c = chunk.choices[0];
    if (c?.delta.content) text.push(c.delta.content);
    const r = (c?.delta as { reasoning_content?: string } | undefined)?.reasoning_content;
    if (r) reasoning.push(r);
    if (c?.finish_reason) finish = c.finish_reason;
    if (chunk.usage) usage = chunk.usage;
  }
  assertEquals(text, ["Forty", "-two"]);
  assertEquals(reasoning.join(""), "Let me think.");
  assertEquals(finish, "stop");
  assertEquals([usage?.prompt_tokens, usage?.completion_tokens], [11, 7]);
  // The completed answer, the verbose end-of-answers note and follow-ups add nothing.
  assert(!text.join("").includes("Ask me more"));
});

Deno.test("coze: an answer that comes only as message.completed is passed on", async () => {
  await using t = await setup();
  t.fake.respond = () => ({ pieces: ["whole ", "answer"], completedOnly: true });
  const res = await t.client.chat.completions.create({
    model: "coze",
    messages: [{ role: "user", content: "x" }],
  });
  assertEquals(res.choices[0].message.content, "whole answer");
});

Deno.test("coze: model ids name bots; /v1/models lists the configured ones", async () => {
  await using t = await setup({ coze: { tokens: [PAT_B], bots: { writer: BOT_2 } } });
  const ask = (model: string) =>
    t.client.chat.completions.create({ model, messages: [{ role: "user", content: "hi" }] });
  await ask(`coze/${BOT_2}`);
  await ask("coze/writer");
  // The original's ids: the bot, whatever the version, scene and mode letters said.
  await ask(`coze/${BOT_2}-1716801150371-2`);
  await ask(`coze/${BOT_2}-7290000000000000001-4-o`);
  await ask(`coze/${BOT_1}-0-1000-w`);
  await ask("coze/websdk");
  assertEquals(
    t.fake.chats.map((c) => c.body.bot_id),
    [BOT_2, BOT_2, BOT_2, BOT_2, BOT_1, BOT_1],
  );
  const err = await ask("coze/not a bot").catch((e) => e);
  assertEquals(err.status, 404);
  const ids = (await t.client.models.list()).data.map((m) => m.id);
  assert(ids.includes("coze") && ids.includes("coze/writer"), ids.join(","));
});

Deno.test("coze: 'coze' without a default bot is a 404 naming coze.bot", async () => {
  await using t = await setup({ coze: { bot: undefined } });
  const err = await t.client.chat.completions.create({
    model: "coze",
    messages: [{ role: "user", content: "hi" }],
  }).catch((e) => e);
  assertEquals(err.status, 404);
  assertStringIncludes(err.message, "coze.bot");
  assertEquals(t.fake.chats.length, 0);
});

Deno.test("coze: the original's coze.8k bot serves 'coze'; long prompts go to coze.128k", async () => {
  await using t = await setup({
    coze: {
      bot: undefined,
      "8k": { "bot-id": BOT_1 },
      "128k": { "bot-id": BOT_2 },
      tokens: [PAT_B],
    },
  });
  const ask = (content: string) =>
    t.client.chat.completions.create({ model: "coze", messages: [{ role: "user", content }] });
  await ask("short");
  await ask("word ".repeat(8000));
  assertEquals(t.fake.chats.map((c) => c.body.bot_id), [BOT_1, BOT_2]);
});

Deno.test("coze: the client's pat_ key serves; a key that is no PAT never displaces coze.tokens", async () => {
  await using t = await setup({ password: false, apiKey: PAT_B });
  await t.client.chat.completions.create({
    model: `coze/${BOT_2}`,
    messages: [{ role: "user", content: "mine" }],
  });
  assertEquals(t.fake.chats[0].token, PAT_B);
  const placeholder = new OpenAI({ baseURL: t.gw.url, apiKey: "sk-anything", maxRetries: 0 });
  await placeholder.chat.completions.create({
    model: "coze",
    messages: [{ role: "user", content: "pooled" }],
  });
  assertEquals(t.fake.chats[1].token, PAT_A);
});

Deno.test("coze: with no tokens configured the client's key is tried as it is; none at all is a 401", async () => {
  await using t = await setup({ password: false, apiKey: PAT_A, coze: { tokens: [] } });
  await t.client.chat.completions.create({
    model: "coze",
    messages: [{ role: "user", content: "hi" }],
  });
  assertEquals(t.fake.chats[0].token, PAT_A);
  const res = await fetch(`${t.gw.url}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "coze", messages: [{ role: "user", content: "hi" }] }),
  });
  assertEquals(res.status, 401);
  assertStringIncludes((await res.json()).error.message, "no coze credential");
});

Deno.test("coze: images go as object_string parts, data URLs uploaded with the chatting token", async () => {
  await using t = await setup();
  const dataUrl = `data:image/png;base64,${btoa(String.fromCharCode(...pngBytes()))}`;
  const res = await t.client.chat.completions.create({
    model: "coze",
    messages: [{
      role: "user",
      content: [
        { type: "text", text: "What is in these?" },
        { type: "image_url", image_url: { url: "https://img.example/cat.png" } },
        { type: "image_url", image_url: { url: dataUrl } },
      ],
    }],
  });
  assertEquals(res.choices[0].message.content, "You said: What is in these?");
  const [id, file] = [...t.fake.files.entries()][0];
  assertEquals([file.token, file.type, file.name], [PAT_A, "image/png", "image.png"]);
  const msg = (t.fake.chats[0].body.additional_messages as { content: string }[])[0];
  assertEquals(JSON.parse(msg.content), [
    { type: "text", text: "What is in these?" },
    { type: "image", file_url: "https://img.example/cat.png" },
    { type: "image", file_id: id },
  ]);
  // A broken data URL is the client's 400, before anything is sent.
  const err = await t.client.chat.completions.create({
    model: "coze",
    messages: [{
      role: "user",
      content: [{ type: "image_url", image_url: { url: "data:image/png;base64,@@" } }],
    }],
  }).catch((e) => e);
  assertEquals(err.status, 400);
  assertEquals(t.fake.chats.length, 1);
});

Deno.test("coze: more than 100 messages: the earliest are folded into one context message", async () => {
  await using t = await setup();
  const messages: OpenAI.Chat.ChatCompletionMessageParam[] = [];
  for (let i = 0; i < 130; i++) {
    messages.push({ role: i % 2 === 0 ? "user" : "assistant", content: `m${i}` });
  }
  messages.push({ role: "user", content: "last" });
  await t.client.chat.completions.create({ model: "coze", messages });
  const sent = t.fake.chats[0].body.additional_messages as { role: string; content: string }[];
  assertEquals(sent.length, 100);
  assert(sent[0].content.startsWith("[earlier conversation]\n[user]\nm0\n\n[assistant]\nm1"));
  assertEquals(sent[99].content, "last");
});

Deno.test("coze: coze.workspace-id lists the workspace's published bots in /v1/models", async () => {
  await using t = await setup({ coze: { "workspace-id": "ws1" } });
  const ids = (await t.client.models.list()).data.map((m) => m.id);
  assert(ids.includes("coze/7350000000000000001"), ids.join(","));
  assert(ids.includes("coze/7350000000000000009"));
  // Not published to the API channel: not listed.
  assert(!ids.includes("coze/7350000000000000003"));
  // The list is kept a while.
  await t.client.models.list();
  assertEquals(t.fake.requests.filter((r) => r.path === "/v1/bots").length, 1);
});

Deno.test("coze: the client leaving mid-stream aborts the upstream chat", async () => {
  await using t = await setup();
  t.fake.respond = () => ({ pieces: ["a", "b", "c", "d"], stallAfter: 2 });
  const controller = new AbortController();
  const stream = await t.client.chat.completions.create(
    { model: "coze", messages: [{ role: "user", content: "go" }], stream: true },
    { signal: controller.signal },
  );
  await readThenAbort(stream, controller, (c) => c.choices[0]?.delta.content === "b");
  await abortedWithin(t.fake.chats[0].rec);
});

Deno.test("coze: <echo /> shows the /v3/chat body without calling Coze", async () => {
  await using t = await setup();
  const res = await t.client.chat.completions.create({
    model: `coze/${BOT_2}`,
    messages: [{ role: "user", content: "<echo />hello" }],
  });
  const body = JSON.parse(res.choices[0].message.content!);
  assertEquals(body.bot_id, BOT_2);
  assertEquals(body.additional_messages.at(-1).content, "hello");
  assertEquals(t.fake.chats.length, 0);
});

Deno.test("coze: the client's tools are emulated; the bot's <tool_call> becomes a tool call", async () => {
  await using t = await setup();
  const call = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>';
  t.fake.respond = () => ({ pieces: call.match(/.{1,6}/gs)! });
  const res = await t.client.chat.completions.create({
    model: "coze",
    messages: [{ role: "user", content: "Weather in Paris?" }],
    tools: [{
      type: "function",
      function: {
        name: "get_weather",
        parameters: { type: "object", properties: { city: { type: "string" } } },
      },
    }],
  });
  const tc = res.choices[0].message
    .tool_calls![0] as OpenAI.Chat.ChatCompletionMessageFunctionToolCall;
  assertEquals(res.choices[0].finish_reason, "tool_calls");
  assertEquals([tc.function.name, JSON.parse(tc.function.arguments)], ["get_weather", {
    city: "Paris",
  }]);
  // The tools went to the bot as text, never as a field Coze does not know.
  const sent = JSON.stringify(t.fake.chats[0].body.additional_messages);
  assertStringIncludes(sent, "get_weather");
  assert(!("tools" in t.fake.chats[0].body));
});

Deno.test("coze: an unknown token is set aside and the next one serves", async () => {
  await using t = await setup({ coze: { tokens: [PAT_BAD, PAT_A] } });
  const res = await t.client.chat.completions.create({
    model: "coze",
    messages: [{ role: "user", content: "hi" }],
  });
  assertEquals(res.choices[0].message.content, "You said: hi");
  const [bad, good] = await tokenState(t.gw);
  assertEquals([bad.ready, good.ready], [false, true]);
  assertStringIncludes(bad.last_error!, "4100");
});
