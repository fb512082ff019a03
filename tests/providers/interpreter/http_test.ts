/**
 * `open-interpreter` (HTTP mode) through the running gateway with the `openai` client, against
 * the fake interpreter server: `/settings` with history and system, `/chat` streamed as SSE,
 * code and console output as fenced blocks with `interpreter.echo-code`, errors.
 */
import OpenAI from "openai";
import { assert, assertEquals, assertMatch, assertRejects } from "../../assert.ts";
import { defaultScript, startFakeInterpreter } from "../../fakes/interpreter.ts";
import { abortedWithin, readTextThenAbort, startGateway } from "../../helpers.ts";

async function setup(echo: boolean) {
  const fake = await startFakeInterpreter();
  const gw = await startGateway({ interpreter: { "base-url": fake.origin, "echo-code": echo } });
  const client = new OpenAI({ baseURL: gw.url, apiKey: "unused", maxRetries: 0 });
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

Deno.test("interpreter http: settings then chat; messages only without echo-code", async () => {
  await using t = await setup(false);
  const res = await t.client.chat.completions.create({
    model: "open-interpreter",
    messages: conversation,
  });
  assertEquals(
    res.choices[0].message.content,
    "Let me compute six times seven\n*image*: https://example.com/sum.png.\n\nThe answer is 42.",
  );
  assertEquals(res.model, "open-interpreter");
  assertEquals(t.fake.settings, [{
    messages: [
      { role: "user", type: "message", content: "hello" },
      { role: "assistant", type: "message", content: "hi, what shall I compute?" },
    ],
    system: "You run code.",
  }]);
  const chat = t.fake.requests.find((r) => r.path === "/chat")!;
  assertEquals(chat.json, { message: "six times seven\n*image*: https://example.com/sum.png" });
  assert(res.usage!.completion_tokens > 0);
});

Deno.test("interpreter http: echo-code shows code and output as fenced blocks, streamed", async () => {
  await using t = await setup(true);
  t.fake.respond = (m) => ({ chunks: defaultChunks(m), delayMs: 2 });
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
  assert(parts.length > 5, "streamed in pieces");
  assertEquals(
    parts.join(""),
    "Let me compute 6*7.\n```python\nprint(6*7)\n```\n```text\n42\n\n```\n\nThe answer is 42.",
  );
  assertEquals(finish, "stop");
});

function defaultChunks(m: string) {
  return defaultScript(m).chunks;
}

Deno.test("interpreter http: the last message must be the user's; upstream failures are errors", async () => {
  await using t = await setup(false);
  const bad = await assertRejects(
    () =>
      t.client.chat.completions.create({
        model: "open-interpreter",
        messages: [{ role: "user", content: "a" }, { role: "assistant", content: "b" }],
      }),
    OpenAI.BadRequestError,
  );
  assertMatch(bad.message, /last message to be the user's/);
  assertEquals(t.fake.requests.length, 0);
  t.fake.respond = () => ({ chunks: [], status: 500 });
  const err = await assertRejects(
    () =>
      t.client.chat.completions.create({
        model: "open-interpreter",
        messages: [{ role: "user", content: "x" }],
      }),
    OpenAI.InternalServerError,
  );
  assertMatch(err.message, /interpreter upstream answered 500/);
  // An error message inside the stream.
  t.fake.respond = () => ({
    chunks: [
      { role: "assistant", type: "message", content: "working" },
      { role: "assistant", type: "error", content: "Traceback: boom" },
    ],
  });
  const raw = await fetch(`${t.gw.url}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      model: "open-interpreter",
      messages: [{ role: "user", content: "x" }],
      stream: true,
    }),
  });
  assertMatch(
    await raw.text(),
    /"content":"working".*\n\ndata: \{"error":\{"message":"interpreter upstream failed: the interpreter reported an error: \\"Traceback: boom\\"[^\n]*\n\ndata: \[DONE\]\n\n$/s,
  );
});

Deno.test("interpreter http: a client that leaves aborts the interpreter stream", async () => {
  await using t = await setup(false);
  t.fake.respond = (m) => ({ chunks: defaultChunks(m), stallAfter: 3 });
  const controller = new AbortController();
  const stream = await t.client.chat.completions.create(
    { model: "open-interpreter", messages: [{ role: "user", content: "x" }], stream: true },
    { signal: controller.signal },
  );
  // Leave at the first content.
  const text = await readTextThenAbort(stream, controller, (read) => read !== "");
  assert(text !== "", "some content arrived before the client left");
  const chat = t.fake.requests.find((r) => r.path === "/chat")!;
  await abortedWithin(chat);
  assert(chat.wasAborted);
});
