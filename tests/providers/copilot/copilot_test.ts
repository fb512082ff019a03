/**
 * Copilot through the running gateway with the official `openai` client, against the fake
 * Copilot behind the Cloudflare-like TLS gate: the REST calls and the chat socket with Chrome's
 * fingerprint, the handshake, answers streamed and not, reasoning, citations, generated and sent
 * images, proof-of-work challenges, errors, aborts, timeouts, the pool and the pace.
 */
import OpenAI from "openai";
import { assert, assertEquals, assertInstanceOf, assertMatch } from "../../assert.ts";
import { chromeUserAgent } from "../../../src/net/transport/mod.ts";
import { PNG } from "../../fakes/copilot.ts";
import { readTextThenAbort, settled, within } from "../../helpers.ts";
import { eventsOf, setup } from "./helpers.ts";

const ask = (text: string) => [{ role: "user" as const, content: text }];

Deno.test("copilot: an anonymous answer through the gate, the handshake in order", async () => {
  await using t = await setup({ copilot: { anonymous: 1 } });
  const res = await t.client.chat.completions.create({ model: "copilot", messages: ask("hello") });
  assertEquals(res.model, "copilot");
  assertEquals(res.choices[0].message.content, "You said: hello");
  assertEquals(res.choices[0].finish_reason, "stop");
  assert(res.usage!.prompt_tokens > 0 && res.usage!.completion_tokens > 0);

  // GET / for cookies, then the conversation start, then the socket.
  const paths = t.fake.requests.map((r) => `${r.method} ${r.path}`);
  assertEquals(paths.slice(0, 3), ["GET /", "POST /c/api/start", "GET /c/api/chat"]);
  const start = t.fake.requests[1];
  assertEquals(start.headers.get("user-agent"), chromeUserAgent());
  assertEquals(start.headers.get("origin"), t.fake.origin);
  assertMatch(start.headers.get("cookie") ?? "", /MUID=/);
  assertEquals(start.headers.get("authorization"), null);
  const socket = t.fake.sockets[0];
  assertEquals(socket.query.get("api-version"), "2");
  assertMatch(socket.query.get("clientSessionId") ?? "", /^[0-9a-f-]{36}$/);
  assertEquals(socket.query.has("accessToken"), false);
  assertMatch(socket.headers.get("cookie") ?? "", /__Host-copilot-anon=/);
  assertEquals(socket.headers.get("origin"), t.fake.origin);
  assertEquals(socket.headers.get("user-agent"), chromeUserAgent());
  assertEquals(eventsOf(socket.received), ["setOptions", "reportLocalConsents", "send"]);
  const send = socket.received[2] as { mode: string; content: unknown[] };
  assertEquals(send.mode, "chat");
  assertEquals(send.content, [{ type: "text", text: "hello" }]);
  // Every connection passed the gate as Chrome: the socket on its own HTTP/1.1 connection.
  assert(t.fake.gate.verdicts.every((v) => v.browser), "a non-browser handshake reached the gate");
  assert(t.fake.gate.verdicts.some((v) => v.hello.alpn.join() === "http/1.1"));
  await within(socket.closed, 10_000, "the socket to close after done");
  // The conversation is deleted after the answer.
  await settled(t.gw, "copilot");
  assertEquals(t.fake.deleted, [t.fake.started[0].id]);

  // The anonymous session keeps its cookie for the next request (no new GET /).
  const again = await t.client.chat.completions.create({ model: "bing", messages: ask("again") });
  assertEquals(again.choices[0].message.content, "You said: again");
  assertEquals(again.model, "bing");
  assertEquals(t.fake.started[1].who, t.fake.started[0].who);
  assertEquals(t.fake.requests.filter((r) => r.path === "/").length, 1);
});

Deno.test("copilot: streamed, with reasoning and several objects per frame", async () => {
  await using t = await setup();
  t.fake.respond = () => ({
    perFrame: 3,
    events: [
      { event: "chainOfThought", text: "Let me think. " },
      { event: "chainOfThought", text: "Done thinking." },
      { event: "appendText", text: "The answer " },
      { event: "appendText", text: "is 42." },
    ],
  });
  const stream = await t.client.chat.completions.create({
    model: "copilot-reasoning",
    messages: ask("life?"),
    stream: true,
    stream_options: { include_usage: true },
  });
  let content = "";
  let reasoning = "";
  let chunks = 0;
  let usage = 0;
  for await (const chunk of stream) {
    const delta = chunk.choices[0]?.delta as { content?: string; reasoning_content?: string };
    content += delta?.content ?? "";
    reasoning += delta?.reasoning_content ?? "";
    if (delta?.content || delta?.reasoning_content) chunks++;
    if (chunk.usage) usage = chunk.usage.completion_tokens;
  }
  assertEquals(content, "The answer is 42.");
  assertEquals(reasoning, "Let me think. Done thinking.");
  assertEquals(chunks, 4);
  assert(usage > 0);
  assertEquals((t.fake.sockets[0].received[2] as { mode: string }).mode, "reasoning");
});

Deno.test("copilot: citations become numbered markers and footnotes", async () => {
  await using t = await setup();
  t.fake.respond = () => ({
    events: [
      { event: "appendText", text: "Paris is the capital." },
      { event: "citation", url: "https://en.wikipedia.org/wiki/Paris", title: "Paris" },
      { event: "appendText", text: " It is large." },
      { event: "citation", url: "https://example.org/size" },
      { event: "citation", url: "https://en.wikipedia.org/wiki/Paris" },
    ],
  });
  const res = await t.client.chat.completions.create({
    model: "copilot-smart",
    messages: ask("Paris?"),
  });
  assertEquals(
    res.choices[0].message.content,
    'Paris is the capital.[1] It is large.[2][1]\n\n[1]: https://en.wikipedia.org/wiki/Paris "Paris"\n[2]: https://example.org/size',
  );
  assertEquals((t.fake.sockets[0].received[2] as { mode: string }).mode, "smart");
});

Deno.test("copilot: a generated image is stored by the gateway and linked", async () => {
  await using t = await setup();
  t.fake.respond = () => ({
    events: [
      { event: "appendText", text: "Here it is:" },
      { event: "generatingImage", prompt: "a cat" },
      { event: "partialImageGenerated", content: "AAAA" },
      { event: "imageGenerated", url: `${t.fake.origin}/images/cat.png` },
    ],
  });
  const res = await t.client.chat.completions.create({ model: "copilot", messages: ask("cat") });
  const content = res.choices[0].message.content!;
  const m = /!\[a cat\]\((http:\/\/127\.0\.0\.1:\d+\/file\/[^)]+\.png)\)/.exec(content);
  assert(m, content);
  const image = await fetch(m[1]);
  assertEquals(image.headers.get("content-type"), "image/png");
  assertEquals(new Uint8Array(await image.arrayBuffer()), PNG);
});

Deno.test("copilot: an image of the message is uploaded and attached; a web URL is a 400", async () => {
  await using t = await setup();
  const dataUrl = `data:image/png;base64,${PNG.toBase64()}`;
  const res = await t.client.chat.completions.create({
    model: "bing-vision",
    messages: [{
      role: "user",
      content: [{ type: "text", text: "what is it?" }, {
        type: "image_url",
        image_url: { url: dataUrl },
      }],
    }],
  });
  assertEquals(res.choices[0].message.content, "You said: what is it?");
  assertEquals(t.fake.uploads, [{ type: "image/png", size: PNG.length }]);
  const send = t.fake.sockets[0].received[2] as { content: { type: string; url?: string }[] };
  assertEquals(send.content.map((p) => p.type), ["image", "text"]);
  assertMatch(send.content[0].url!, /\/attachments\//);

  const err = await t.client.chat.completions.create({
    model: "copilot",
    messages: [{
      role: "user",
      content: [{ type: "text", text: "and this?" }, {
        type: "image_url",
        image_url: { url: "http://10.0.0.1/secret.png" },
      }],
    }],
  }).catch((e) => e);
  // A web image URL goes through the guard of client URLs: a private address is refused.
  assertInstanceOf(err, OpenAI.BadRequestError);
  assertMatch(err.message, /the URL was refused: it does not lead to a public internet address/);
  assertEquals(t.fake.sockets.length, 1, "nothing was sent for the refused request");
});

Deno.test("copilot: hashcash and arithmetic challenges are answered and the send re-sent", async () => {
  await using t = await setup();
  for (
    const challenge of [{ method: "hashcash", parameter: "0123abcd:10" }, {
      method: "copilot",
      parameter: 7,
    }]
  ) {
    t.fake.respond = () => ({ challenge });
    const res = await t.client.chat.completions.create({
      model: "copilot",
      messages: ask(`after ${challenge.method}`),
    });
    assertEquals(res.choices[0].message.content, `You said: after ${challenge.method}`);
    const socket = t.fake.sockets.at(-1)!;
    assertEquals(eventsOf(socket.received), [
      "setOptions",
      "reportLocalConsents",
      "send",
      "challengeResponse",
      "send",
    ]);
    const answer = socket.received[3] as { method: string; id: string; token: string };
    assertEquals([answer.method, answer.id], [challenge.method, "1"]);
    assertEquals(socket.received[4], socket.received[2]);
    assertEquals(socket.refused, undefined);
  }
  assertEquals(t.fake.sockets.at(-1)!.received[3].token, "2"); // (343/100 + 175) mod 22 = 2.43
});

Deno.test("copilot: a challenge the gateway cannot answer is a 502 naming it", async () => {
  await using t = await setup();
  t.fake.respond = () => ({ challenge: { method: "hashcash", parameter: "seed:30" } });
  const err = await t.client.chat.completions.create({ model: "copilot", messages: ask("x") })
    .catch((e) => e);
  assertInstanceOf(err, OpenAI.APIError);
  assertEquals(err.status, 502);
  assertMatch(err.message, /cannot answer the hashcash challenge: .*difficulty of 30 bits/);
  t.fake.respond = () => ({ challenge: { method: "quantum", parameter: "1" } });
  const unknown = await t.client.chat.completions.create({ model: "copilot", messages: ask("y") })
    .catch((e) => e);
  assertMatch(unknown.message, /challenge of unknown method 'quantum'/);
});

Deno.test("copilot: error codes keep honest statuses; the region refusal sets nobody aside", async () => {
  await using t = await setup({ fake: { restrictedRegion: true } });
  const region = await t.client.chat.completions.create({ model: "copilot", messages: ask("x") })
    .catch((e) => e);
  assertInstanceOf(region, OpenAI.PermissionDeniedError);
  assertEquals(region.code, "region_unavailable");
  assertMatch(region.message, /not offered to anonymous users .*copilot\.access-tokens/);
  assertEquals(t.fake.sockets[0].refused, "chat-service-unavailable");
  const pool = await t.pool();
  assert(pool.every((a) => a.ready), "a region refusal set an account aside");
  assert(pool.some((a) => /chat-service-unavailable/.test(a.last_error ?? "")));

  t.fake.restrictedRegion = false;
  t.fake.respond = () => ({ errorCode: "invalid-event" });
  const invalid = await t.client.chat.completions.create({ model: "copilot", messages: ask("y") })
    .catch((e) => e);
  assertEquals(invalid.status, 502);
  assertMatch(invalid.message, /invalid-event/);
});

Deno.test("copilot: a socket that ends without done is an error, streamed or not", async () => {
  await using t = await setup({ copilot: { anonymous: 1 } });
  t.fake.respond = () => ({ noDone: true, events: [{ event: "appendText", text: "half an" }] });
  const err = await t.client.chat.completions.create({ model: "copilot", messages: ask("x") })
    .catch((e) => e);
  assertEquals(err.status, 502);
  assertMatch(err.message, /closed before its 'done' event/);
  const stream = await t.client.chat.completions.create({
    model: "copilot",
    messages: ask("y"),
    stream: true,
  });
  let text = "";
  const failed = await (async () => {
    for await (const c of stream) text += c.choices[0]?.delta.content ?? "";
  })().catch((e) => e);
  assertEquals(text, "half an");
  assertMatch(String(failed?.message ?? failed), /closed before its 'done' event/);
});

Deno.test("copilot: the client leaving closes the chat socket at once", async () => {
  await using t = await setup();
  t.fake.respond = () => ({
    delayMs: 100,
    events: Array.from({ length: 200 }, (_, i) => ({ event: "appendText", text: `w${i} ` })),
  });
  const abort = new AbortController();
  const stream = await t.client.chat.completions.create(
    { model: "copilot", messages: ask("long"), stream: true },
    { signal: abort.signal },
  );
  const text = await readTextThenAbort(stream, abort, (s) => s.includes("w3 "));
  assert(text.startsWith("w0 w1 w2 w3"));
  await within(t.fake.sockets[0].closed, 20_000, "the fake to see the socket close");
});

Deno.test("copilot: a silent socket is a 504 after the idle timeout", async () => {
  await using t = await setup({
    server: { timeouts: { connect: 10, "first-byte": 10, idle: 1 } },
  });
  t.fake.respond = () => ({
    stallAfter: 3,
    events: [{ event: "appendText", text: "a" }, { event: "appendText", text: "b" }],
  });
  const started = Date.now();
  const err = await t.client.chat.completions.create({ model: "copilot", messages: ask("x") })
    .catch((e) => e);
  assertEquals(err.status, 504);
  assertMatch(err.message, /sent nothing for 1s/);
  assert(Date.now() - started < 20_000);
  await within(t.fake.sockets[0].closed, 10_000, "the socket to be closed");
});

Deno.test("copilot: signed in with a configured access token; a bad one is set aside", async () => {
  const good = `eyJ${"g".repeat(60)}.${"o".repeat(60)}.${"d".repeat(40)}`;
  const bad = `eyJ${"b".repeat(60)}.${"a".repeat(60)}.${"d".repeat(40)}`;
  await using t = await setup({
    fake: { tokens: [good] },
    copilot: { "access-tokens": [bad, good], "identity-type": "google" },
  });
  for (let i = 0; i < 2; i++) {
    const res = await t.client.chat.completions.create({ model: "copilot", messages: ask("hi") });
    assertEquals(res.choices[0].message.content, "You said: hi");
  }
  const start = t.fake.requests.find((r) =>
    r.path === "/c/api/start" && r.headers.has("authorization")
  )!;
  assertEquals(start.headers.get("x-useridentitytype"), "google");
  const socket = t.fake.sockets.at(-1)!;
  assertEquals(socket.query.get("accessToken"), good);
  assertEquals(socket.query.get("X-UserIdentityType"), "google");
  const pool = await t.pool();
  const aside = pool.filter((a) => !a.ready);
  assertEquals(aside.length, 1);
  assertMatch(aside[0].last_error ?? "", /refused the access token/);
  assert(!(aside[0].last_error ?? "").includes(bad), "the token is masked");
});

Deno.test("copilot: the client's own access token is used; a placeholder key is not", async () => {
  const mine = `eyJ${"m".repeat(60)}.${"i".repeat(60)}.${"n".repeat(40)}`;
  const unknown = `eyJ${"u".repeat(60)}.${"n".repeat(60)}.${"k".repeat(40)}`;
  await using t = await setup({ fake: { tokens: [mine] }, apiKey: mine });
  const res = await t.client.chat.completions.create({ model: "copilot", messages: ask("me") });
  assertEquals(res.choices[0].message.content, "You said: me");
  assertEquals(t.fake.sockets[0].query.get("accessToken"), mine);
  const other = new OpenAI({ baseURL: t.gw.url, apiKey: unknown, maxRetries: 0 });
  const err = await other.chat.completions.create({ model: "copilot", messages: ask("x") })
    .catch((e) => e);
  assertInstanceOf(err, OpenAI.AuthenticationError);
  assertMatch(err.message, /refused the access token/);
  assert(!err.message.includes(unknown));
  // sk-... is a placeholder: anonymous answers.
  const anon = new OpenAI({ baseURL: t.gw.url, apiKey: "sk-anything", maxRetries: 0 });
  const a = await anon.chat.completions.create({ model: "copilot", messages: ask("anon") });
  assertEquals(a.choices[0].message.content, "You said: anon");
  assertEquals(t.fake.sockets.at(-1)!.query.has("accessToken"), false);
});

Deno.test("copilot: one conversation at a time per account, and its pace", async () => {
  await using t = await setup({ copilot: { anonymous: 1, rpm: 1, burst: 2 } });
  t.fake.respond = (c) => ({
    delayMs: 40,
    events: [...c.text].map((ch) => ({ event: "appendText", text: ch })),
  });
  const both = await Promise.all(
    ["one", "two"].map((q) =>
      t.client.chat.completions.create({ model: "copilot", messages: ask(q) })
    ),
  );
  assertEquals(both.map((r) => r.choices[0].message.content).sort(), ["one", "two"]);
  // The second conversation started only after the first answer's `done` went out.
  assertEquals(t.fake.sockets.length, 2);
  assert(t.fake.started[1].at >= t.fake.sockets[0].doneAt!, "two conversations ran at once");
  // The burst is spent and one a minute comes back: the third is a 429 with its wait.
  const err = await t.client.chat.completions.create({ model: "copilot", messages: ask("3") })
    .catch((e) => e);
  assertInstanceOf(err, OpenAI.RateLimitError);
  assertMatch(err.message, /pace of 1 conversations a minute|cooling down/);
  assertEquals(t.fake.started.length, 2);
});

Deno.test("copilot: the older conversation endpoint when /c/api/start is missing", async () => {
  await using t = await setup({ fake: { startMissing: true } });
  const res = await t.client.chat.completions.create({ model: "copilot", messages: ask("old") });
  assertEquals(res.choices[0].message.content, "You said: old");
  assertEquals(
    t.fake.requests.filter((r) => r.method === "POST").map((r) => r.path),
    ["/c/api/start", "/c/api/conversations"],
  );
});

Deno.test("copilot: with copilot.clearance off a Cloudflare challenge is a 403 that blames nobody", async () => {
  await using t = await setup({ fake: { requireClearance: true }, copilot: { clearance: false } });
  const err = await t.client.chat.completions.create({ model: "copilot", messages: ask("x") })
    .catch((e) => e);
  assertInstanceOf(err, OpenAI.PermissionDeniedError);
  assertEquals(err.code, "cloudflare_challenge");
  assertMatch(err.message, /Cloudflare's challenge stopped the call/);
  const pool = await t.pool();
  assert(pool.every((a) => a.ready));
  assertEquals(pool.reduce((n, a) => n + a.clearance_failures, 0), 1);
});

Deno.test("copilot: models, aliases, tools through the emulator", async () => {
  await using t = await setup();
  const models = (await t.client.models.list()).data.map((m) => m.id);
  for (const id of ["copilot", "copilot-reasoning", "copilot-smart"]) assert(models.includes(id));
  assert(!models.includes("bing"), "aliases are served, not listed");
  t.fake.respond = (c) => ({
    events: [{
      event: "appendText",
      text: c.text.includes("get_time")
        ? '<tool_call>\n{"name": "get_time", "arguments": {"zone": "UTC"}}\n</tool_call>'
        : "no tools",
    }],
  });
  const res = await t.client.chat.completions.create({
    model: "bing-online",
    messages: ask("What time is it?"),
    tools: [{
      type: "function",
      function: {
        name: "get_time",
        parameters: { type: "object", properties: { zone: { type: "string" } } },
      },
    }],
  });
  assertEquals(res.choices[0].finish_reason, "tool_calls");
  const call = res.choices[0].message.tool_calls![0] as {
    function: { name: string; arguments: string };
  };
  assertEquals(call.function.name, "get_time");
  assertEquals(JSON.parse(call.function.arguments), { zone: "UTC" });
});

Deno.test("copilot: the old bing section still serves, with deprecation warnings", async () => {
  await using t = await setup({
    extra: { bing: { "hub-url": "wss://sydney.bing.com", concurrency: 1 } },
  });
  const res = await t.client.chat.completions.create({ model: "bing", messages: ask("old") });
  assertEquals(res.choices[0].message.content, "You said: old");
  assert(t.gw.logs.some((l) => /'bing\.hub-url' is deprecated and ignored/.test(l)));
  assert(
    t.gw.logs.some((l) =>
      /'bing\.concurrency' is deprecated; read as 'copilot\.concurrency'/.test(l)
    ),
  );
});

Deno.test("copilot: the REST calls and the chat socket go through copilot.proxies", async () => {
  const { startConnectProxy } = await import("../../fakes/connect_proxy.ts");
  const proxy = startConnectProxy({ user: "alice", pass: "s3cret" });
  try {
    await using t = await setup({
      server: { "no-proxy": [] },
      copilot: { anonymous: 1, proxies: proxy.url },
    });
    const res = await t.client.chat.completions.create({ model: "copilot", messages: ask("via") });
    assertEquals(res.choices[0].message.content, "You said: via");
    const host = new URL(t.fake.origin).host;
    // GET /, the start and the socket: one tunnel each (the delete may add one).
    assert(proxy.tunnels.filter((x) => x === host).length >= 3, proxy.tunnels.join());
    assert(proxy.tunnels.every((x) => x === host));
  } finally {
    await proxy.close();
  }
});
