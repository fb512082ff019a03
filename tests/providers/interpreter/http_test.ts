/**
 * `open-interpreter` over open-interpreter 0.4's `/openai/chat/completions` through the running
 * gateway with the `openai` client, against the fake 0.4 server: only the last user message
 * sent, streamed and not, code per `interpreter.echo-code`, `X-API-KEY`, a body that breaks off,
 * bad requests, and a client that leaves.
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
  defaultScript,
  type FakeInterpreterOptions,
  startFakeInterpreter,
} from "../../fakes/interpreter.ts";
import { abortedWithin, readTextThenAbort, startGateway } from "../../helpers.ts";

const KEY = "oi-server-key-0123456789";

async function setup(
  interpreter: Record<string, unknown> = {},
  fake: FakeInterpreterOptions = { apiKey: KEY },
  apiKey = "unused",
) {
  const oi = await startFakeInterpreter(fake);
  const gw = await startGateway({
    interpreter: { "base-url": oi.origin, "api-key": KEY, ...interpreter },
  });
  const client = new OpenAI({ baseURL: gw.url, apiKey, maxRetries: 0 });
  return {
    oi,
    gw,
    client,
    async [Symbol.asyncDispose]() {
      await gw.close();
      await oi.close();
    },
  };
}

const conversation: OpenAI.Chat.ChatCompletionMessageParam[] = [
  { role: "system", content: "You run code." },
  { role: "user", content: "hello" },
  { role: "assistant", content: "hi, what shall I compute?" },
  {
    role: "user",
    content: [
      { type: "text", text: "six times seven" },
      { type: "image_url", image_url: { url: "https://example.com/sum.png" } },
    ],
  },
];

Deno.test("interpreter http: only the last user message goes; messages without echo-code", async () => {
  await using t = await setup();
  const res = await t.client.chat.completions.create({
    model: "open-interpreter",
    messages: conversation,
  });
  assertEquals(
    res.choices[0].message.content,
    "Let me compute six times seven\n*image*: https://example.com/sum.png.\n\nThe answer is 42.",
  );
  assertEquals(res.model, "open-interpreter");
  assertEquals(res.choices[0].finish_reason, "stop");
  assert(res.usage!.completion_tokens > 0);
  const sent = t.oi.requests.find((r) => r.path === "/openai/chat/completions")!;
  assertEquals(sent.headers.get("x-api-key"), KEY);
  assertEquals(sent.json, {
    model: "open-interpreter",
    messages: [{
      role: "user",
      content: "six times seven\n*image*: https://example.com/sum.png",
    }],
    stream: true,
  });
  // The 2024 routes are not called.
  assert(!t.oi.requests.some((r) => r.path === "/settings" || r.path === "/chat"));
});

Deno.test("interpreter http: echo-code shows the code as a fenced block, streamed", async () => {
  await using t = await setup({ "echo-code": true });
  t.oi.respond = (m) => ({ ...defaultScript(m), delayMs: 2 });
  const stream = await t.client.chat.completions.create({
    model: "open-interpreter",
    messages: [{ role: "user", content: "6*7" }],
    stream: true,
  });
  const parts: string[] = [];
  let finish: string | null = null;
  for await (const c of stream) {
    if (c.choices[0]?.delta.content) parts.push(c.choices[0].delta.content);
    if (c.choices[0]?.finish_reason) finish = c.choices[0].finish_reason;
  }
  assert(parts.length > 4, "streamed in pieces");
  // The console never comes over this route; the fence gets a line of its own.
  assertEquals(
    parts.join(""),
    "Let me compute 6*7.\n\n```python\nprint(6*7)\n```\nThe answer is 42.",
  );
  assertEquals(finish, "stop");
});

Deno.test("interpreter http: inline images as data: URLs; a control string answers empty", async () => {
  await using t = await setup();
  const png = "data:image/png;base64,iVBORw0KGgo=";
  await t.client.chat.completions.create({
    model: "open-interpreter",
    messages: [{
      role: "user",
      content: [{ type: "text", text: "what is this?" }, {
        type: "image_url",
        image_url: { url: png },
      }],
    }],
  });
  const sent = t.oi.requests.at(-1)!.json as { messages: { content: unknown }[] };
  assertEquals(sent.messages[0].content, [
    { type: "text", text: "what is this?" },
    { type: "image_url", image_url: { url: png } },
  ]);
  assertEquals(t.oi.messages.find((m) => m.type === "image")?.format, "base64.png");
  const ctl = await t.client.chat.completions.create({
    model: "open-interpreter",
    messages: [{ role: "user", content: "{AUTO_RUN_ON}" }],
  });
  assertEquals(ctl.choices[0].message.content, "");
});

Deno.test("interpreter http: a missing or wrong X-API-KEY is the server's 403; the client's key serves when none is configured", async () => {
  {
    await using t = await setup({ "api-key": "wrong-key-000000000" });
    const err = await assertRejects(
      () =>
        t.client.chat.completions.create({
          model: "open-interpreter",
          messages: [{ role: "user", content: "x" }],
        }),
      OpenAI.PermissionDeniedError,
    );
    assertStringIncludes(err.message, "Authentication failed");
    assert(!err.message.includes("wrong-key-000000000"), "the key is masked");
  }
  {
    await using t = await setup({ "api-key": undefined }, { apiKey: KEY }, KEY);
    const res = await t.client.chat.completions.create({
      model: "open-interpreter",
      messages: [{ role: "user", content: "x" }],
    });
    assertStringIncludes(res.choices[0].message.content!, "The answer is 42.");
    assertEquals(t.oi.requests.at(-1)!.headers.get("x-api-key"), KEY);
  }
  {
    await using t = await setup({ "api-key": undefined }, { apiKey: KEY }, "sk-not-the-key");
    await assertRejects(
      () =>
        t.client.chat.completions.create({
          model: "open-interpreter",
          messages: [{ role: "user", content: "x" }],
        }),
      OpenAI.PermissionDeniedError,
    );
  }
});

Deno.test("interpreter http: bad requests are 400s naming the field; a body that breaks off is an error", async () => {
  await using t = await setup();
  const create = (messages: unknown[], stream = false) =>
    t.client.chat.completions.create({
      model: "open-interpreter",
      messages: messages as OpenAI.Chat.ChatCompletionMessageParam[],
      stream,
    } as OpenAI.Chat.ChatCompletionCreateParamsNonStreaming);
  const notUser = await assertRejects(
    () => create([{ role: "user", content: "a" }, { role: "assistant", content: "b" }]),
    OpenAI.BadRequestError,
  );
  assertEquals(notUser.param, "messages[1].role");
  const audio = await assertRejects(
    () =>
      create([{
        role: "user",
        content: [{ type: "input_audio", input_audio: { data: "AAAA", format: "wav" } }],
      }]),
    OpenAI.BadRequestError,
  );
  assertEquals(audio.param, "messages[0].content[0].type");
  const ftp = await assertRejects(
    () =>
      create([{ role: "user", content: [{ type: "image_url", image_url: { url: "ftp://x/y" } }] }]),
    OpenAI.BadRequestError,
  );
  assertEquals(ftp.param, "messages[0].content[0].image_url.url");
  assertEquals(t.oi.requests.length, 0);

  // The generator fails mid-answer: the connection drops before the body's end.
  t.oi.respond = (m) => ({ ...defaultScript(m), delayMs: 5, error: "Traceback: boom" });
  const raw = await fetch(`${t.gw.url}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      model: "open-interpreter",
      messages: [{ role: "user", content: "x" }],
      stream: true,
    }),
  });
  const text = await raw.text();
  assertMatch(text, /"content":"Let me "/);
  assertMatch(
    text,
    /data: \{"error":\{"message":"interpreter upstream failed: [^\n]*broke off[^\n]*\n\ndata: \[DONE\]\n\n$/,
  );
  const err = await assertRejects(
    () => create([{ role: "user", content: "x" }]),
    OpenAI.APIError,
  );
  assertEquals(err.status, 502);
});

Deno.test("interpreter http: a client that leaves aborts the interpreter stream", async () => {
  await using t = await setup();
  t.oi.respond = (m) => ({ ...defaultScript(m), stallAfter: 3 });
  const controller = new AbortController();
  const stream = await t.client.chat.completions.create(
    { model: "open-interpreter", messages: [{ role: "user", content: "x" }], stream: true },
    { signal: controller.signal },
  );
  const text = await readTextThenAbort(stream, controller, (read) => read !== "");
  assert(text !== "", "some content arrived before the client left");
  const chat = t.oi.requests.find((r) => r.path === "/openai/chat/completions")!;
  await abortedWithin(chat);
  assert(chat.wasAborted);
  // The turn is free again: the next request is served.
  t.oi.respond = defaultScript;
  const next = await t.client.chat.completions.create({
    model: "open-interpreter",
    messages: [{ role: "user", content: "y" }],
  });
  assertStringIncludes(next.choices[0].message.content!, "compute y.");
});
