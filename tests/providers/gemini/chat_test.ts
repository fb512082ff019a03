/**
 * Gemini chat through the running gateway with the official `openai` client: models (discovered
 * and built in), the request the fake receives, streamed and whole answers, choices, finish
 * reasons, usage, thoughts, JSON output and images. The per-model rules are in `rules_test.ts`.
 */
import OpenAI from "openai";
import { assert, assertEquals, assertMatch, assertRejects } from "../../assert.ts";
import { serveFake } from "../../fakes/serve.ts";
import { abortedWithin, parseSseBody, readThenAbort } from "../../helpers.ts";
import { KEY, lastBody, setup } from "./_setup.ts";

Deno.test("gemini: /v1/models lists nothing without a key, the built-in ids with the client's, the API's own with the pool's", async () => {
  {
    // A placeholder key is no Gemini key: gemini is not ready, none of its ids can answer.
    await using t = await setup({ clientKey: "sk-placeholder", gemini: { models: ["x-1"] } });
    const ids: string[] = [];
    for await (const m of t.client.models.list()) ids.push(m.id);
    assertEquals(ids.filter((id) => /^(gemini|x-1)/.test(id)), []);
  }
  {
    await using t = await setup({ gemini: { models: ["gemini-exp-1206"] } });
    const ids: string[] = [];
    for await (const m of t.client.models.list()) ids.push(m.id);
    for (
      const id of [
        "gemini-3.8-flash",
        "gemini-3.1-pro-preview",
        "gemini-2.5-flash",
        "gemini-2.5-pro",
        "gemini-embedding-001",
        "gemini-exp-1206",
      ]
    ) {
      assert(ids.includes(id), `missing ${id}`);
    }
    for (const gone of ["gemini-1.5-pro-latest", "gemini-3-pro-preview", "text-embedding-004"]) {
      assert(!ids.includes(gone), `${gone} is shut down`);
    }
    assertEquals(t.fake.requests.length, 0);
  }
  await using t = await setup({
    pool: [KEY],
    fake: { models: ["gemini-3.8-flash", "gemini-9-flash-test", "gemini-embedding-001"] },
  });
  const ids: string[] = [];
  for await (const m of t.client.models.list()) ids.push(m.id);
  assert(ids.includes("gemini-9-flash-test"), "discovered from GET /v1beta/models");
  assert(!ids.includes("gemini-2.0-flash"), "the built-in list is only the fallback");
  const rec = t.fake.requests.find((r) => r.path === "/v1beta/models")!;
  assertEquals(rec.headers.get("x-goog-api-key"), KEY);
  for await (const _ of t.client.models.list()) { /* again */ }
  assertEquals(t.fake.requests.filter((r) => r.path === "/v1beta/models").length, 1, "cached");
});

Deno.test("gemini: a whole answer, with the request mapped as Gemini wants it", async () => {
  await using t = await setup();
  const res = await t.client.chat.completions.create({
    model: "gemini-2.0-flash",
    messages: [
      { role: "system", content: "Be brief." },
      { role: "assistant", content: "Earlier answer." },
      { role: "user", content: "first" },
      { role: "user", content: [{ type: "text", text: "second" }] },
    ],
    temperature: 0.3,
    top_p: 0.8,
    max_completion_tokens: 99,
    stop: ["END"],
    seed: 7,
    presence_penalty: 0.5,
    frequency_penalty: 0.25,
    // @ts-expect-error: top_k is not in OpenAI's types but clients send it.
    top_k: 12,
  });
  assertEquals(res.object, "chat.completion");
  assertEquals(res.model, "gemini-2.0-flash");
  assertEquals(res.choices[0].message.content, "Hello! You said: first second");
  assertEquals(res.choices[0].finish_reason, "stop");
  // Usage is Gemini's own count (the fake counts 4 characters a token).
  const rec = t.fake.requests.at(-1)!;
  const body = lastBody(t.fake);
  const expectedPrompt = Math.ceil(JSON.stringify(body.contents).length / 4);
  assertEquals(res.usage!.prompt_tokens, expectedPrompt);
  // The non-streaming path and the key: a header, never the URL.
  assertEquals(rec.path, "/v1beta/models/gemini-2.0-flash:generateContent");
  assertEquals(rec.query.get("key"), null);
  assertEquals(rec.headers.get("x-goog-api-key"), KEY);
  assertEquals(body.systemInstruction, { parts: [{ text: "Be brief." }] });
  assertEquals(body.contents, [
    { role: "user", parts: [{ text: "Hi" }] },
    { role: "model", parts: [{ text: "Earlier answer." }] },
    { role: "user", parts: [{ text: "first" }, { text: "second" }] },
  ]);
  assertEquals(body.generationConfig, {
    temperature: 0.3,
    topP: 0.8,
    topK: 12,
    maxOutputTokens: 99,
    stopSequences: ["END"],
    seed: 7,
    presencePenalty: 0.5,
    frequencyPenalty: 0.25,
  });
  assertEquals(body.safetySettings, [
    { category: "HARM_CATEGORY_HARASSMENT", threshold: "BLOCK_NONE" },
    { category: "HARM_CATEGORY_HATE_SPEECH", threshold: "BLOCK_NONE" },
    { category: "HARM_CATEGORY_SEXUALLY_EXPLICIT", threshold: "BLOCK_NONE" },
    { category: "HARM_CATEGORY_DANGEROUS_CONTENT", threshold: "BLOCK_NONE" },
  ]);
  // The key never reaches the gateway's log.
  assert(!t.gw.logs.join("\n").includes(KEY));
});

Deno.test("gemini: gemini.safes replaces the default safety settings", async () => {
  await using t = await setup({
    gemini: {
      safes: [
        { category: "HARASSMENT", threshold: "BLOCK_ONLY_HIGH" },
        { category: "HARM_CATEGORY_HATE_SPEECH", threshold: "BLOCK_LOW_AND_ABOVE" },
      ],
    },
  });
  await t.client.chat.completions.create({
    model: "gemini-2.0-flash",
    messages: [{ role: "user", content: "hi" }],
  });
  assertEquals(lastBody(t.fake).safetySettings, [
    { category: "HARM_CATEGORY_HARASSMENT", threshold: "BLOCK_ONLY_HIGH" },
    { category: "HARM_CATEGORY_HATE_SPEECH", threshold: "BLOCK_LOW_AND_ABOVE" },
  ]);
});

Deno.test("gemini: a streamed answer arrives in pieces with reasoning, finish and usage", async () => {
  await using t = await setup();
  t.fake.respond = () => ({
    thought: "Let me think.",
    text: "one two three four",
    pieceSize: 4,
    delayMs: 2,
  });
  const stream = await t.client.chat.completions.create({
    model: "gemini-2.5-flash",
    messages: [{ role: "user", content: "count" }],
    stream: true,
    stream_options: { include_usage: true },
  });
  const texts: string[] = [];
  const reasoning: string[] = [];
  let finish: string | null = null;
  let usage: OpenAI.CompletionUsage | undefined;
  for await (const chunk of stream) {
    assertEquals(chunk.model, "gemini-2.5-flash");
    if (chunk.usage) usage = chunk.usage;
    const c = chunk.choices[0];
    if (!c) continue;
    if (c.delta.content) texts.push(c.delta.content);
    const r = (c.delta as { reasoning_content?: string }).reasoning_content;
    if (r) reasoning.push(r);
    if (c.finish_reason) finish = c.finish_reason;
  }
  assertEquals(texts.join(""), "one two three four");
  assert(texts.length >= 4, `expected pieces, got ${texts.length}`);
  assertEquals(reasoning.join(""), "Let me think.");
  assertEquals(finish, "stop");
  const rec = t.fake.requests.at(-1)!;
  assertEquals(rec.path, "/v1beta/models/gemini-2.5-flash:streamGenerateContent");
  assertEquals(rec.query.get("alt"), "sse");
  assertEquals(rec.query.get("key"), null);
  // Thinking models are asked for thought summaries; reasoning tokens count as completion.
  assertEquals(lastBody(t.fake).generationConfig?.thinkingConfig, { includeThoughts: true });
  assertEquals(usage!.completion_tokens_details?.reasoning_tokens, Math.ceil(13 / 4));
  assert(usage!.completion_tokens > usage!.completion_tokens_details!.reasoning_tokens!);
});

Deno.test("gemini: n asks for several candidates, streamed and not", async () => {
  await using t = await setup();
  t.fake.respond = () => ({ text: "answer" });
  const res = await t.client.chat.completions.create({
    model: "gemini-2.0-flash",
    messages: [{ role: "user", content: "hi" }],
    n: 2,
  });
  assertEquals(lastBody(t.fake).generationConfig?.candidateCount, 2);
  assertEquals(res.choices.map((c) => [c.index, c.message.content]), [[0, "answer #0"], [
    1,
    "answer #1",
  ]]);
  const stream = await t.client.chat.completions.create({
    model: "gemini-2.0-flash",
    messages: [{ role: "user", content: "hi" }],
    n: 2,
    stream: true,
  });
  const texts = ["", ""];
  const finishes: (string | null)[] = [null, null];
  for await (const chunk of stream) {
    for (const c of chunk.choices) {
      texts[c.index] += c.delta.content ?? "";
      if (c.finish_reason) finishes[c.index] = c.finish_reason;
    }
  }
  assertEquals(texts, ["answer #0", "answer #1"]);
  assertEquals(finishes, ["stop", "stop"]);
});

Deno.test("gemini: finish reasons map to OpenAI's, blocked prompts to content_filter", async () => {
  await using t = await setup();
  const cases: [Record<string, unknown>, string][] = [
    [{ text: "cut", finishReason: "MAX_TOKENS" }, "length"],
    [{ text: "bad", finishReason: "SAFETY" }, "content_filter"],
    [{ text: "quote", finishReason: "RECITATION" }, "content_filter"],
    [{ blockReason: "SAFETY" }, "content_filter"],
  ];
  for (const [script, want] of cases) {
    t.fake.respond = () => script;
    const res = await t.client.chat.completions.create({
      model: "gemini-2.0-flash",
      messages: [{ role: "user", content: "x" }],
    });
    assertEquals(res.choices[0].finish_reason, want, JSON.stringify(script));
    const raw = await fetch(`${t.gw.url}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${KEY}` },
      body: JSON.stringify({
        model: "gemini-2.0-flash",
        messages: [{ role: "user", content: "x" }],
        stream: true,
      }),
    });
    const { events, done } = parseSseBody(await raw.text());
    assert(done);
    const finishes = events.flatMap((e) =>
      (e.choices as { finish_reason: string | null }[]).map((c) => c.finish_reason)
    ).filter(Boolean);
    assertEquals(finishes, [want]);
  }
});

Deno.test("gemini: response_format json_object and json_schema set the MIME type and schema", async () => {
  await using t = await setup();
  t.fake.respond = () => ({ text: '{"a":1}' });
  await t.client.chat.completions.create({
    model: "gemini-2.0-flash",
    messages: [{ role: "user", content: "json" }],
    response_format: { type: "json_object" },
  });
  assertEquals(lastBody(t.fake).generationConfig, { responseMimeType: "application/json" });
  const res = await t.client.chat.completions.create({
    model: "gemini-2.0-flash",
    messages: [{ role: "user", content: "json" }],
    response_format: {
      type: "json_schema",
      json_schema: {
        name: "thing",
        strict: true,
        schema: {
          $schema: "http://json-schema.org/draft-07/schema#",
          type: "object",
          additionalProperties: false,
          properties: {
            a: { type: "integer" },
            tag: { anyOf: [{ type: "string" }, { type: "null" }] },
          },
          required: ["a", "tag"],
        },
      },
    },
  });
  assertEquals(res.choices[0].message.content, '{"a":1}');
  assertEquals(lastBody(t.fake).generationConfig, {
    responseMimeType: "application/json",
    responseSchema: {
      type: "OBJECT",
      properties: { a: { type: "INTEGER" }, tag: { type: "STRING", nullable: true } },
      required: ["a", "tag"],
    },
  });
});

Deno.test("gemini: images become inlineData, from data URLs and fetched http URLs", async () => {
  // The image host is on 127.0.0.1: private addresses allowed for this test (docs/security.md).
  const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3, 4]);
  const images = await serveFake((_req, rec) => {
    if (rec.path === "/big.png") {
      return new Response(new Uint8Array(21 * 1024 * 1024), {
        headers: { "content-type": "image/png" },
      });
    }
    if (rec.path === "/missing.png") return new Response("no", { status: 404 });
    return new Response(png, { headers: { "content-type": "image/png" } });
  });
  try {
    await using t = await setup({ server: { fetch: { "allow-private": true } } });
    await t.client.chat.completions.create({
      model: "gemini-2.0-flash",
      messages: [{
        role: "user",
        content: [
          { type: "text", text: "what is this?" },
          { type: "image_url", image_url: { url: "data:image/jpeg;base64,/9j/AAEC" } },
          { type: "image_url", image_url: { url: `${images.origin}/cat.png` } },
        ],
      }],
    });
    assertEquals(lastBody(t.fake).contents[0].parts, [
      { text: "what is this?" },
      { inlineData: { mimeType: "image/jpeg", data: "/9j/AAEC" } },
      { inlineData: { mimeType: "image/png", data: btoa(String.fromCharCode(...png)) } },
    ]);
    const big = await assertRejects(
      () =>
        t.client.chat.completions.create({
          model: "gemini-2.0-flash",
          messages: [{
            role: "user",
            content: [{ type: "image_url", image_url: { url: `${images.origin}/big.png` } }],
          }],
        }),
      OpenAI.BadRequestError,
    );
    assertMatch(big.message, /larger than 20 MiB/);
    const missing = await assertRejects(
      () =>
        t.client.chat.completions.create({
          model: "gemini-2.0-flash",
          messages: [{
            role: "user",
            content: [{ type: "image_url", image_url: { url: `${images.origin}/missing.png` } }],
          }],
        }),
      OpenAI.BadRequestError,
    );
    // The target's status is not shown (the log has it).
    assertMatch(missing.message, /the URL could not be fetched$/);
  } finally {
    await images.close();
  }
});

Deno.test("gemini: a conversation of system text only still sends a user turn", async () => {
  await using t = await setup();
  await t.client.chat.completions.create({
    model: "gemini-2.0-flash",
    messages: [{ role: "system", content: "Say hello." }],
  });
  const body = lastBody(t.fake);
  assertEquals(body.contents, [{ role: "user", parts: [{ text: "Say hello." }] }]);
  assertEquals(body.systemInstruction, undefined);
});

Deno.test("gemini: a client that leaves mid-stream aborts the upstream request", async () => {
  await using t = await setup();
  t.fake.respond = () => ({ text: "x".repeat(2000), pieceSize: 10, delayMs: 10 });
  const controller = new AbortController();
  const stream = await t.client.chat.completions.create(
    { model: "gemini-2.0-flash", messages: [{ role: "user", content: "long" }], stream: true },
    { signal: controller.signal },
  );
  await readThenAbort(stream, controller);
  const rec = t.fake.requests.at(-1)!;
  await abortedWithin(rec);
  assert(rec.wasAborted);
});
