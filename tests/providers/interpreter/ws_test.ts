/**
 * open-interpreter 0.4's websocket (`interpreter.ws: true`, or model `open-interpreter-ws`)
 * through the running gateway with the `openai` client, against the fake 0.4 server: the auth
 * frame first, the user message between start and end, LMC chunks until `complete`, code and
 * console per the echo switches, refused keys, error frames, a socket that closes early,
 * silence, acknowledgements, and a client that leaves (the run stopped, its rest dropped).
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
  type OiChunk,
  startFakeInterpreter,
} from "../../fakes/interpreter.ts";
import { readTextThenAbort, settled, startGateway, waitFor } from "../../helpers.ts";

const KEY = "oi-server-key-0123456789";

async function setup(
  interpreter: Record<string, unknown> = {},
  fake: FakeInterpreterOptions = { apiKey: KEY },
) {
  const oi = await startFakeInterpreter(fake);
  const gw = await startGateway({
    interpreter: { "base-url": oi.origin, "api-key": KEY, ws: true, ...interpreter },
  });
  const client = new OpenAI({ baseURL: gw.url, apiKey: "unused", maxRetries: 0 });
  const ask = (content: string, model = "open-interpreter") =>
    client.chat.completions.create({ model, messages: [{ role: "user", content }] });
  return {
    oi,
    gw,
    client,
    ask,
    async [Symbol.asyncDispose]() {
      await settled(gw, "interpreter");
      await gw.close();
      await oi.close();
    },
  };
}

Deno.test("interpreter ws: auth frame, the message between start and end, messages until complete", async () => {
  await using t = await setup();
  const res = await t.ask("6*7");
  assertEquals(res.choices[0].message.content, "Let me compute 6*7.\n\nThe answer is 42.");
  assertEquals(res.choices[0].finish_reason, "stop");
  assertEquals(t.oi.frames[0], [
    { auth: KEY },
    { role: "user", start: true },
    { role: "user", type: "message", content: "6*7" },
    { role: "user", end: true },
  ]);
  await waitFor(() => t.oi.closedSockets === 1, 5000, "the socket to close");
  // No HTTP route was called.
  assertEquals(t.oi.requests.filter((r) => r.path !== "/").length, 0);
  // Streamed: the chunks arrive as they come.
  t.oi.respond = (m) => ({ ...defaultScript(m), delayMs: 2 });
  const stream = await t.client.chat.completions.create({
    model: "open-interpreter",
    messages: [{ role: "user", content: "7*6" }],
    stream: true,
  });
  const parts: string[] = [];
  for await (const c of stream) {
    if (c.choices[0]?.delta.content) parts.push(c.choices[0].delta.content);
  }
  assert(parts.length >= 4, "streamed in pieces");
  assertEquals(parts.join(""), "Let me compute 7*6.\n\nThe answer is 42.");
});

Deno.test("fake interpreter: refuses what the 0.4 server refuses", async () => {
  const oi = await startFakeInterpreter({ apiKey: KEY });
  try {
    const post = (body: unknown, key?: string) =>
      fetch(`${oi.origin}/openai/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", ...(key ? { "x-api-key": key } : {}) },
        body: JSON.stringify(body),
      });
    const user = { messages: [{ role: "user", content: "x" }], stream: false };
    const noKey = await post(user);
    assertEquals([noKey.status, await noKey.json()], [403, { detail: "Authentication failed" }]);
    const wrong = await post(user, "nope");
    assertEquals(wrong.status, 403);
    await wrong.body?.cancel();
    const notUser = await post({ messages: [{ role: "assistant", content: "x" }] }, KEY);
    assertEquals(notUser.status, 500);
    await notUser.body?.cancel();
    const noMessages = await post({}, KEY);
    assertEquals(noMessages.status, 422);
    await noMessages.body?.cancel();
    const heartbeat = await fetch(`${oi.origin}/heartbeat`);
    assertEquals(await heartbeat.json(), { status: "alive" });
    // A websocket that skips the auth frame gets {"auth": false} and nothing runs.
    const ws = new WebSocket(oi.origin.replace("http", "ws") + "/");
    const replies: unknown[] = [];
    ws.onmessage = (e) => replies.push(JSON.parse(e.data));
    await new Promise((r) => ws.onopen = r);
    ws.send(JSON.stringify({ role: "user", start: true }));
    ws.send(JSON.stringify({ role: "user", type: "message", content: "hi" }));
    ws.send(JSON.stringify({ role: "user", end: true }));
    await waitFor(() => replies.length === 3, 5000, "three refusals");
    assertEquals(replies, [{ auth: false }, { auth: false }, { auth: false }]);
    assertEquals(oi.messages.length, 0);
    ws.close();
    await waitFor(() => oi.closedSockets === 1, 5000, "the socket to close");
  } finally {
    await oi.close();
  }
});

Deno.test("interpreter ws: echo-code and echo-console, each on its own", async () => {
  {
    await using t = await setup({ "echo-code": true });
    const res = await t.ask("6*7");
    assertEquals(
      res.choices[0].message.content,
      "Let me compute 6*7.\n\n```python\nprint(6*7)\n```\n\nThe answer is 42.",
    );
  }
  {
    await using t = await setup({ "echo-code": true, "echo-console": true });
    const res = await t.ask("6*7");
    assertEquals(
      res.choices[0].message.content,
      "Let me compute 6*7.\n\n```python\nprint(6*7)\n```\n\n```text\n42\n```\n\nThe answer is 42.",
    );
  }
  {
    // The model id forces the socket even when interpreter.ws is off.
    await using t = await setup({ ws: false, "echo-console": true });
    const res = await t.ask("6*7", "open-interpreter-ws");
    assertEquals(
      res.choices[0].message.content,
      "Let me compute 6*7.\n\n```text\n42\n```\n\nThe answer is 42.",
    );
    assertEquals(t.oi.frames.length, 1);
  }
});

Deno.test("interpreter ws: a refused key is a 403; without required auth no reply is awaited", async () => {
  {
    await using t = await setup({ "api-key": "wrong-key-111111111" });
    const err = await assertRejects(() => t.ask("x"), OpenAI.PermissionDeniedError);
    assertStringIncludes(err.message, "interpreter.api-key");
    // The server answered {"auth": false} and dropped the message frames.
    assertEquals(t.oi.messages.length, 0);
  }
  {
    await using t = await setup({ "api-key": undefined }, { requireAuth: false });
    const res = await t.ask("x");
    assertStringIncludes(res.choices[0].message.content!, "The answer is 42.");
    // No configured key: the client's goes in the auth frame.
    assertEquals(t.oi.frames[0][0], { auth: "unused" });
  }
});

Deno.test("interpreter ws: error frames, a socket closing before complete, and silence are errors", async () => {
  await using t = await setup({ "ws-timeout": 0.3 });
  t.oi.respond = (m) => ({
    ...defaultScript(m),
    error: "Traceback (most recent call last):\nValueError: boom",
  });
  const e1 = await assertRejects(() => t.ask("x"), OpenAI.APIError);
  assertEquals(e1.status, 502);
  assertStringIncludes(e1.message, "ValueError: boom");

  t.oi.respond = (m) => ({ ...defaultScript(m), hangUp: true });
  const e2 = await assertRejects(() => t.ask("x"), OpenAI.APIError);
  assertEquals(e2.status, 502);
  assertStringIncludes(e2.message, "closed before the run completed");

  t.oi.respond = (m) => ({ ...defaultScript(m), stallAfter: 2 });
  const e3 = await assertRejects(() => t.ask("x"), OpenAI.APIError);
  assertEquals(e3.status, 504);
  assertMatch(e3.message, /no message from the interpreter for 0\.3s/);

  // The interpreter is free again afterwards.
  await settled(t.gw, "interpreter");
  t.oi.respond = defaultScript;
  const ok = await t.ask("again");
  assertStringIncludes(ok.choices[0].message.content!, "compute again.");
});

Deno.test("interpreter ws: each chunk acknowledged when the server asks for it", async () => {
  await using t = await setup({}, { apiKey: KEY, requireAck: true });
  const res = await t.ask("6*7");
  assertEquals(res.choices[0].message.content, "Let me compute 6*7.\n\nThe answer is 42.");
  assertEquals(t.oi.resent, 0);
  const acks = t.oi.frames[0].filter((f) => "ack" in f);
  assertEquals(acks.length, defaultScript("").chunks.length + 1);
});

Deno.test("interpreter ws: inline images go as LMC image chunks", async () => {
  await using t = await setup();
  await t.client.chat.completions.create({
    model: "open-interpreter",
    messages: [{
      role: "user",
      content: [{ type: "text", text: "look" }, {
        type: "image_url",
        image_url: { url: "data:image/jpeg;base64,/9j/4AAQ" },
      }],
    }],
  });
  assertEquals(t.oi.frames[0].slice(1), [
    { role: "user", start: true },
    { role: "user", type: "message", content: "look" },
    { role: "user", type: "image", format: "base64.jpeg", content: "/9j/4AAQ" },
    { role: "user", end: true },
  ]);
});

Deno.test("interpreter ws: a client that leaves stops the run; its rest never reaches the next answer", async () => {
  await using t = await setup();
  const many: OiChunk[] = Array.from({ length: 40 }, (_, i) => ({
    role: "assistant",
    type: "message",
    content: `old${i} `,
  }));
  t.oi.respond = () => ({ chunks: many, delayMs: 15 });
  const controller = new AbortController();
  const stream = await t.client.chat.completions.create(
    { model: "open-interpreter", messages: [{ role: "user", content: "long" }], stream: true },
    { signal: controller.signal },
  );
  const read = await readTextThenAbort(stream, controller, (text) => text.includes("old1 "));
  assertStringIncludes(read, "old0 ");
  // The gateway notices the client leaving, stops the run and drains it in the background.
  await waitFor(() => t.oi.stops === 1, 10_000, "the stop command");
  await settled(t.gw, "interpreter");
  assertEquals(t.oi.closedSockets, 1);
  const stopFrames = t.oi.frames[0].filter((f) => f.type === "command");
  assertEquals(stopFrames, [
    { role: "user", type: "command", start: true },
    { role: "user", type: "command", content: "stop" },
    { role: "user", type: "command", end: true },
  ]);
  t.oi.respond = defaultScript;
  const next = await t.ask("fresh");
  assertEquals(next.choices[0].message.content, "Let me compute fresh.\n\nThe answer is 42.");
  assert(!next.choices[0].message.content!.includes("old"));
});
