/**
 * The bing provider through the running gateway, with the official `openai` client, against the
 * fake Bing (conversation create, ChatHub websocket, plugins, kblob).
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
  type BingScript,
  type FakeBing,
  SEARCH_PLUGIN_ID,
  startFakeBing,
} from "../../fakes/bing.ts";
import {
  parseSseBody,
  readTextThenAbort,
  settled,
  startGateway,
  waitFor,
  within,
} from "../../helpers.ts";
import { countTokens } from "../../../src/util/tokens.ts";
import { serveFake } from "../../fakes/serve.ts";
import { ask, poolAccounts, streamText } from "../web_helpers.ts";
import { startSocks5 } from "./socks5.ts";

async function setup(options: {
  cookies?: string[];
  bing?: Record<string, unknown>;
  server?: Record<string, unknown>;
  apiKey?: string;
} = {}) {
  const fake = await startFakeBing();
  const gw = await startGateway({
    server: options.server ?? { password: ["gateway-pass"] },
    bing: {
      "base-url": fake.origin,
      "hub-url": fake.hubUrl,
      cookies: options.cookies ?? [],
      ...options.bing,
    },
  });
  const client = new OpenAI({
    baseURL: gw.url,
    apiKey: options.apiKey ?? "gateway-pass",
    maxRetries: 0,
  });
  return {
    fake,
    gw,
    client,
    pool: () => poolAccounts(gw, "bing", "gateway-pass"),
    async [Symbol.asyncDispose]() {
      await settled(gw, "bing");
      await gw.close();
      await fake.close();
    },
  };
}

function createCalls(fake: FakeBing) {
  return fake.requests.filter((r) => r.path === "/turing/conversation/create");
}

Deno.test("bing: models are listed", async () => {
  await using t = await setup();
  const ids: string[] = [];
  for await (const m of t.client.models.list()) ids.push(m.id);
  for (const id of ["bing", "bing-online", "bing-vision"]) assert(ids.includes(id), id);
});

Deno.test("bing: anonymous answer: create, signature, handshake, invocation, close", async () => {
  await using t = await setup();
  const res = await t.client.chat.completions.create({
    model: "bing",
    messages: [{ role: "user", content: "Hi there" }],
  });
  assertEquals(res.model, "bing");
  assertEquals(res.choices[0].message.content, "Hello, this is Bing.");
  assertEquals(res.choices[0].finish_reason, "stop");
  const [create] = createCalls(t.fake);
  assertEquals(create.query.get("bundleVersion"), "1.1742.1");
  assertMatch(create.headers.get("cookie")!, /^_U=[A-Za-z0-9]{32}$/);
  const inv = t.fake.invocations[0];
  // The hub got the create's cookie plus the MUID it set, and the browser's origin.
  assertMatch(inv.cookie, /^_U=[A-Za-z0-9]{32}; MUID=[0-9A-F]{32}$/);
  assertEquals(inv.headers.get("origin"), "https://copilot.microsoft.com");
  assertStringIncludes(inv.headers.get("user-agent")!, "iPhone");
  const hub = inv.hub as Record<string, unknown> & { message: Record<string, unknown> };
  assertEquals(hub.message.text, "Hi there");
  assertEquals(hub.tone, "Creative");
  assert((hub.optionsSets as string[]).includes("nosearchall"));
  assertEquals(hub.plugins, []);
  assertEquals("previousMessages" in hub, false);
  // The client closes with a SignalR close record after the final item.
  await settled(t.gw, "bing");
  await inv.closed;
  assertEquals(inv.closedEarly, false);
  assert(inv.after.some((r) => r.type === 7), JSON.stringify(inv.after));
  assertEquals(res.usage!.prompt_tokens, countTokens("Hi there"));
  assertEquals(res.usage!.completion_tokens, countTokens("Hello, this is Bing."));
});

Deno.test("bing: cumulative updates become deltas in every framing; citations go, % stays", async () => {
  await using t = await setup();
  const answer = "Paris[^1^] is 100% the capital[^2^] of France [1]. Code: `a[1] = x[^1^]`.";
  const expected = "Paris is 100% the capital of France . Code: `a[1] = x[^1^]`.";
  for (const framing of ["one", "batch", "split"] as const) {
    t.fake.respond = () => ({ text: answer, pieceSize: 3, framing });
    const r = await streamText(t.client, {
      model: "bing",
      messages: [{ role: "user", content: "capital of France? 50% sure %s" }],
    });
    assertEquals(r.text, expected, framing);
    assert(r.parts.length > 5, `${framing}: ${r.parts.length} pieces`);
    assertEquals(r.finish, "stop");
    assertEquals(r.usage!.completion_tokens, countTokens(answer));
  }
  assertEquals(
    t.fake.invocations.map((i) => (i.hub.message as { text: string }).text),
    Array(3).fill("capital of France? 50% sure %s"),
  );
});

Deno.test("bing: tone follows temperature", async () => {
  await using t = await setup();
  for (const temperature of [0.1, 0.5, 0.9]) {
    await t.client.chat.completions.create({
      model: "bing",
      temperature,
      messages: [{ role: "user", content: "hi" }],
    });
  }
  assertEquals(t.fake.invocations.map((i) => i.hub.tone), ["Precise", "Balanced", "Creative"]);
});

Deno.test("bing: history: system acknowledged, roles marked, last user turn is the message", async () => {
  await using t = await setup({ server: {}, apiKey: "signed-in-u-cookie-value" });
  t.fake.signedIn.add("signed-in-u-cookie-value");
  await t.client.chat.completions.create({
    model: "bing",
    messages: [
      { role: "system", content: "Be kind." },
      { role: "user", content: "First question" },
      { role: "assistant", content: "First answer" },
      { role: "user", content: "Second question" },
    ],
  });
  const hub = t.fake.invocations[0].hub as {
    previousMessages: Record<string, unknown>[];
    message: { text: string };
  };
  assertEquals(hub.message.text, "Second question");
  assertEquals(
    hub.previousMessages.map((m) => [m.author, m.text]),
    [
      ["user", "<|system|>\nBe kind.\n<|end|>"],
      ["bot", "<|assistant|>\nok ~\n<|end|>"],
      ["user", "<|user|>\nFirst question\n<|end|>"],
      ["bot", "<|assistant|>\nFirst answer\n<|end|>"],
    ],
  );
  assertMatch(String(hub.previousMessages[0].messageId), /^local-gen-/);
  assertEquals(hub.previousMessages[1].contentOrigin, "CachedEntry");
  // The client's key was the _U cookie.
  assertMatch(t.fake.invocations[0].cookie, /^_U=signed-in-u-cookie-value; MUID=/);
});

Deno.test("bing: history beyond the anonymous limit becomes a context web page", async () => {
  await using t = await setup();
  const messages: OpenAI.Chat.ChatCompletionMessageParam[] = [];
  for (let i = 1; i <= 4; i++) {
    messages.push({ role: "user", content: `q${i}` }, { role: "assistant", content: `a${i}` });
  }
  messages.push({ role: "user", content: "final" });
  await t.client.chat.completions.create({ model: "bing", messages });
  const hub = t.fake.invocations[0].hub as {
    previousMessages: Record<string, unknown>[];
    message: { text: string };
  };
  assertEquals(hub.message.text, "final");
  const prev = hub.previousMessages;
  // Anonymous: 2 rounds kept, the 2 older rounds on the page.
  assertEquals(prev[0].contextType, "WebPage");
  assertEquals(prev[0].messageType, "Context");
  assertEquals(
    prev[0].description,
    "<|user|>\nq1\n<|end|>\n\n<|assistant|>\na1\n<|end|>\n\n<|user|>\nq2\n<|end|>\n\n<|assistant|>\na2\n<|end|>",
  );
  assertMatch(String(prev[0].sourceUrl), /^file:\/\/\/Users\/\w{5}\/histories\.txt$/);
  assertEquals(prev[1].messageType, "CurrentWebpageContextRequest");
  assertEquals(prev.slice(2).map((m) => m.text), [
    "<|user|>\nq3\n<|end|>",
    "<|assistant|>\na3\n<|end|>",
    "<|user|>\nq4\n<|end|>",
    "<|assistant|>\na4\n<|end|>",
  ]);
});

Deno.test("bing: a signed-in account keeps the whole history as messages", async () => {
  await using t = await setup({ cookies: ["signed-in-account-cookie"] });
  t.fake.signedIn.add("signed-in-account-cookie");
  const messages: OpenAI.Chat.ChatCompletionMessageParam[] = [];
  for (let i = 1; i <= 4; i++) {
    messages.push({ role: "user", content: `q${i}` }, { role: "assistant", content: `a${i}` });
  }
  messages.push({ role: "user", content: "final" });
  await t.client.chat.completions.create({ model: "bing", messages });
  const prev =
    (t.fake.invocations[0].hub as { previousMessages: Record<string, unknown>[] }).previousMessages;
  assertEquals(prev.length, 8);
  assert(prev.every((m) => m.messageType === undefined));
});

Deno.test("bing: <pad /> and <notebook /> change the history and the template", async () => {
  await using t = await setup();
  await t.client.chat.completions.create({
    model: "bing",
    messages: [{ role: "user", content: "<pad /><notebook />write a long text" }],
  });
  const hub = t.fake.invocations[0].hub as {
    previousMessages: Record<string, unknown>[];
    message: { text: string };
    optionsSets: string[];
  };
  assertEquals(hub.message.text, "write a long text");
  assertEquals(hub.previousMessages.map((m) => m.author), ["user", "bot", "user", "bot"]);
  assertEquals(hub.previousMessages[0].text, "Hi");
  assert(hub.optionsSets.includes("prjupywco") && hub.optionsSets.includes("h3precise"));
  assert(!hub.optionsSets.includes("h3imaginative"));
});

Deno.test("bing-online: the Search plugin, no nosearchall, search steps skipped", async () => {
  await using t = await setup();
  t.fake.respond = () => ({ text: "Found it[^1^].", search: true });
  const res = await t.client.chat.completions.create({
    model: "bing-online",
    messages: [{ role: "user", content: "news today" }],
  });
  assertEquals(res.choices[0].message.content, "Found it.");
  const hub = t.fake.invocations[0].hub as { plugins: unknown[]; optionsSets: string[] };
  assertEquals(hub.plugins, [{ id: SEARCH_PLUGIN_ID, category: 1 }]);
  assert(!hub.optionsSets.includes("nosearchall"));
  assert(t.fake.requests.some((r) => r.path === "/codex/plugins/available/get"));
});

Deno.test("bing-vision: the image is uploaded (kblob) and attached; pad is on", async () => {
  await using t = await setup();
  // A 1x1 PNG.
  const png =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";
  t.fake.respond = () => ({ text: "A tiny image." });
  const res = await t.client.chat.completions.create({
    model: "bing-vision",
    messages: [{
      role: "user",
      content: [
        { type: "text", text: "What is this?" },
        { type: "image_url", image_url: { url: `data:image/png;base64,${png}` } },
      ],
    }],
  });
  assertEquals(res.choices[0].message.content, "A tiny image.");
  const [upload] = t.fake.uploads;
  assertEquals(upload.image, Uint8Array.fromBase64(png));
  const hub = t.fake.invocations[0].hub as {
    conversationId: string;
    message: { text: string; imageUrl: string; originalImageUrl: string };
    previousMessages: Record<string, unknown>[];
  };
  const kr = upload.knowledgeRequest.knowledgeRequest as { convoData: { convoid: string } };
  assertEquals(kr.convoData.convoid, hub.conversationId);
  assertEquals(hub.message.imageUrl, `${t.fake.origin}/images/blob?bcid=p${upload.blobId}`);
  assertEquals(hub.message.originalImageUrl, `${t.fake.origin}/images/blob?bcid=${upload.blobId}`);
  assertEquals(hub.message.text, "What is this?");
  assertEquals(hub.previousMessages[0].text, "Hi");

  // Not an image: 400 before anything reaches Bing's hub.
  const err = await assertRejects(() =>
    t.client.chat.completions.create({
      model: "bing-vision",
      messages: [{
        role: "user",
        content: [{ type: "image_url", image_url: { url: "ftp://example/x.png" } }],
      }],
    }), OpenAI.APIError);
  assertEquals(err.status, 400);
});

Deno.test("bing-vision: an image URL is fetched; a refused or oversized one is the client's 400", async () => {
  // The image host is on 127.0.0.1: private addresses allowed for this test (docs/security.md).
  await using t = await setup({
    cookies: ["vision-cookie-value"],
    server: { password: ["gateway-pass"], fetch: { "allow-private": true } },
  });
  const png = Uint8Array.fromBase64(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==",
  );
  const MiB = new Uint8Array(1 << 20);
  let hugeSent = 0;
  const images = await serveFake((req) => {
    const path = new URL(req.url).pathname;
    if (path === "/cat.png") return new Response(png, { headers: { "content-type": "image/png" } });
    if (path === "/hotlinked.png") return new Response("Forbidden", { status: 403 });
    if (path === "/page.png") {
      return new Response("<html></html>", { headers: { "content-type": "text/html" } });
    }
    // 64 MiB without a declared length: the gateway must stop reading after 20 MiB.
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        if (hugeSent++ === 64) return c.close();
        c.enqueue(MiB);
      },
    });
    return new Response(body, { headers: { "content-type": "image/png" } });
  });
  await using _images = { [Symbol.asyncDispose]: () => images.close() };
  const askAbout = (path: string) =>
    t.client.chat.completions.create({
      model: "bing-vision",
      messages: [{
        role: "user",
        content: [
          { type: "text", text: "What is this?" },
          { type: "image_url", image_url: { url: `${images.origin}${path}` } },
        ],
      }],
    });
  t.fake.respond = () => ({ text: "A tiny image." });
  assertEquals((await askAbout("/cat.png")).choices[0].message.content, "A tiny image.");
  assertEquals(t.fake.uploads[0].image, png);
  for (
    const [path, text] of [
      ["/hotlinked.png", "the URL could not be fetched"],
      ["/page.png", "is not an image (text/html)"],
      ["/huge.png", "larger than 20 MiB"],
    ]
  ) {
    const err = await assertRejects(() => askAbout(path), OpenAI.APIError);
    assertEquals(err.status, 400, path);
    assertStringIncludes(err.message, text);
  }
  assert(hugeSent < 64, `read ${hugeSent} MiB of the oversized image`);
  // None of it was the Bing account's fault.
  assertEquals(t.fake.uploads.length, 1);
  assertEquals((await t.pool())[0].ready, true);
});

Deno.test("bing: a final item longer than the updates adds the rest", async () => {
  await using t = await setup();
  t.fake.respond = () => ({ text: "Partial", finalText: "Partial and the rest." });
  const r = await streamText(t.client, {
    model: "bing",
    messages: [{ role: "user", content: "x" }],
  });
  assertEquals(r.text, "Partial and the rest.");
});

Deno.test("bing: pool: refused cookie set aside, throttled cookie rests an hour, next one answers", async () => {
  await using t = await setup({
    cookies: ["refused-cookie-1", "throttled-cookie-2", "good-cookie-3"],
  });
  t.fake.refused.add("refused-cookie-1");
  t.fake.respond = (inv) =>
    inv.cookie.includes("throttled-cookie-2")
      ? { result: { value: "Throttled", message: "Request is throttled." } }
      : { text: "from the good one" };
  const res = await t.client.chat.completions.create({
    model: "bing",
    messages: [{ role: "user", content: "hi" }],
  });
  assertEquals(res.choices[0].message.content, "from the good one");
  const pool = await t.pool();
  const [refused, throttled, good] = pool;
  assertEquals(refused.ready, false);
  assertStringIncludes(refused.last_error!, "UnauthorizedRequest");
  assertEquals(throttled.ready, false);
  const rest = (Date.parse(throttled.aside_until!) - Date.now()) / 1000;
  assert(rest > 3500 && rest <= 3600, `throttled rests ${rest}s`);
  assertEquals(good.ready, true);
  assert(pool.every((a) => a.busy === 0));
});

Deno.test("bing: one request per cookie at a time", async () => {
  await using t = await setup({ cookies: ["only-cookie-value"] });
  t.fake.respond = () => ({ text: "slow answer", pieceSize: 2, delayMs: 10 });
  const both = await Promise.all([ask(t.client, "bing"), ask(t.client, "bing")]);
  assertEquals(both.map((r) => r.choices[0].message.content), ["slow answer", "slow answer"]);
  assertEquals(t.fake.maxActive, 1);
});

Deno.test("bing: errors: statuses the client sees", async () => {
  // The client's own cookie: no pool, so every case reaches Bing.
  await using t = await setup({ server: {}, apiKey: "client-cookie-value" });
  const cases: [BingScript, number, string][] = [
    [{ error: "Internal server error." }, 502, "Internal server error."],
    [
      { result: { value: "CaptchaChallenge", message: "User needs to solve CAPTCHA" } },
      403,
      "captcha",
    ],
    [{ result: { value: "InvalidRequest", message: "bad" } }, 400, "InvalidRequest"],
    [{ text: "Sure, here", apologyAfter: 0 }, 400, "different topic"],
    [{ notice: "It might be time to move onto a new topic." }, 400, "new topic"],
    [{ text: "" }, 502, "empty"],
    [{ text: "abc", drop: true }, 502, "closed before the answer ended"],
  ];
  for (const [script, status, text] of cases) {
    t.fake.respond = () => script;
    const err = await assertRejects(() => ask(t.client, "bing", "x"), OpenAI.APIError);
    assertEquals(err.status, status, JSON.stringify(script));
    assertStringIncludes(err.message.toLowerCase(), text.toLowerCase());
  }
});

Deno.test("bing: a captcha sets the pooled cookie aside; a refusal does not", async () => {
  await using t = await setup({ cookies: ["single-cookie-value"] });
  t.fake.respond = () => ({ notice: "It might be time to move onto a new topic." });
  const refused = await assertRejects(() => ask(t.client, "bing", "x"), OpenAI.APIError);
  assertEquals(refused.status, 400);
  assertEquals((await t.pool())[0].ready, true);
  t.fake.respond = () => ({
    result: { value: "CaptchaChallenge", message: "User needs to solve CAPTCHA" },
  });
  const captcha = await assertRejects(() => ask(t.client, "bing", "x"), OpenAI.APIError);
  assertEquals(captcha.status, 403);
  const [a] = await t.pool();
  assertEquals(a.ready, false);
  assertStringIncludes(a.last_error!, "CaptchaChallenge");
});

Deno.test("bing: throttled with the only cookie is a 429; refused credential is a 401", async () => {
  await using t = await setup({ server: {}, apiKey: "client-u-cookie" });
  t.fake.respond = () => ({ result: { value: "Throttled", message: "Request is throttled." } });
  const err = await assertRejects(() => ask(t.client, "bing", "x"), OpenAI.APIError);
  assertEquals(err.status, 429);
  t.fake.refused.add("client-u-cookie");
  const err2 = await assertRejects(() => ask(t.client, "bing", "x"), OpenAI.APIError);
  assertEquals(err2.status, 401);
  assert(!err2.message.includes("client-u-cookie"), err2.message);
});

Deno.test("bing: an apology after text ends the answer with content_filter", async () => {
  await using t = await setup();
  t.fake.respond = () => ({ text: "Here is a start of it", apologyAfter: 8 });
  const r = await streamText(t.client, {
    model: "bing",
    messages: [{ role: "user", content: "x" }],
  });
  assertEquals(r.text, "Here is ");
  assertEquals(r.finish, "content_filter");
});

Deno.test("bing: a dropped socket mid-stream ends the SSE stream with an error event", async () => {
  await using t = await setup();
  t.fake.respond = () => ({ text: "partial text", drop: true });
  const res = await fetch(`${t.gw.url}/chat/completions`, {
    method: "POST",
    headers: { authorization: "Bearer gateway-pass", "content-type": "application/json" },
    body: JSON.stringify({
      model: "bing",
      stream: true,
      messages: [{ role: "user", content: "x" }],
    }),
  });
  const { events, done } = parseSseBody(await res.text());
  const text = events.map((e) =>
    (e.choices as { delta?: { content?: string } }[] | undefined)?.[0]?.delta?.content ?? ""
  ).join("");
  assertEquals(text, "partial text");
  const last = events.at(-1) as { error?: { message: string } };
  assertStringIncludes(last.error!.message, "closed before the answer ended");
  assert(done);
});

Deno.test("bing: a client abort mid-stream closes the ChatHub socket", async () => {
  await using t = await setup({ cookies: ["abort-cookie-value"] });
  t.fake.respond = () => ({ text: "words words words", hang: true });
  const controller = new AbortController();
  const stream = await t.client.chat.completions.create({
    model: "bing",
    messages: [{ role: "user", content: "go on" }],
    stream: true,
  }, { signal: controller.signal });
  const got = await readTextThenAbort(stream, controller, (text) => text.length > 0);
  assert(got.length > 0);
  const inv = t.fake.invocations[0];
  await within(inv.closed, 20_000, "the ChatHub socket to close");
  assertEquals(inv.closedEarly, true);
  await waitFor(() => t.fake.active === 0, 3000, "socket closed");
  // The gateway released the cookie.
  let busy = -1;
  for (let i = 0; i < 150 && busy !== 0; i++) {
    busy = (await t.pool())[0].busy;
    if (busy !== 0) await new Promise((r) => setTimeout(r, 20));
  }
  assertEquals(busy, 0);
  t.fake.respond = () => ({ text: "next" });
  const res = await t.client.chat.completions.create({
    model: "bing",
    messages: [{ role: "user", content: "hi" }],
  });
  assertEquals(res.choices[0].message.content, "next");
});

Deno.test("bing: bing.proxies carries the create call and the ChatHub websocket", async () => {
  const proxy = startSocks5();
  try {
    await using t = await setup({
      bing: { proxies: proxy.url },
      server: { password: ["gateway-pass"], "no-proxy": [] },
    });
    const res = await t.client.chat.completions.create({
      model: "bing",
      messages: [{ role: "user", content: "through the proxy" }],
    });
    assertEquals(res.choices[0].message.content, "Hello, this is Bing.");
    const target = new URL(t.fake.origin).host;
    assert(proxy.tunnels.length >= 2, JSON.stringify(proxy.tunnels));
    assert(proxy.tunnels.every((x) => x === target), JSON.stringify(proxy.tunnels));
    assertEquals(t.fake.invocations.length, 1);
  } finally {
    await proxy.close();
  }
});

Deno.test("bing: a refused ChatHub handshake keeps its status; the next cookie is tried", async () => {
  await using t = await setup({ cookies: ["cookie-one-value", "cookie-two-value"] });
  t.fake.hubStatus = 429;
  const err = await assertRejects(() => ask(t.client, "bing", "x"), OpenAI.APIError);
  assertEquals(err.status, 429);
  assertStringIncludes(err.message, "ChatHub refused the connection (429)");
  // Both cookies were tried and now rest.
  assertEquals(createCalls(t.fake).length, 2);
  const pool = await t.pool();
  assertEquals(pool.length, 2);
  assert(pool.every((a) => !a.ready));
});

Deno.test("bing: a silent ChatHub times out with 504", async () => {
  await using t = await setup({
    server: { password: ["gateway-pass"], timeouts: { "first-byte": 1, idle: 1 } },
    apiKey: "gateway-pass",
  });
  t.fake.respond = () => ({ hang: true });
  const err = await assertRejects(() => ask(t.client, "bing", "x"), OpenAI.APIError);
  assertEquals(err.status, 504);
  assertStringIncludes(err.message, "ChatHub sent nothing");
  await t.fake.invocations[0].closed;
});

Deno.test("bing: <echo /> answers with what Bing would receive, without calling it", async () => {
  await using t = await setup();
  const res = await t.client.chat.completions.create({
    model: "bing",
    messages: [
      { role: "system", content: "<echo />Be kind." },
      { role: "user", content: "50% %s" },
    ],
  });
  assertEquals(
    res.choices[0].message.content,
    "<|system|>\nBe kind.\n<|end|>\n\n<|assistant|>\nok ~\n<|end|>\n\n50% %s",
  );
  assertEquals(t.fake.requests.length, 0);
});
