/**
 * Cohere v2 chat through the running gateway with the `openai` client: models (discovered and
 * built in), the `/v2/chat` body the fake receives and accepts, parameter ranges, streamed and
 * whole answers, thinking, usage, finish reasons, retired ids, safety modes, JSON output, images.
 */
import OpenAI from "openai";
import { assert, assertEquals, assertMatch, assertRejects } from "../../assert.ts";
import { abortedWithin, parseSseBody, readThenAbort } from "../../helpers.ts";
import { KEY, lastBody, setup } from "./_setup.ts";

const msg = [{ role: "user" as const, content: "hi" }];

async function listIds(client: OpenAI): Promise<string[]> {
  const ids: string[] = [];
  for await (const m of client.models.list()) ids.push(m.id);
  return ids;
}

Deno.test("cohere: /v1/models lists nothing without a key, the built-in ids with the client's, Cohere's own with the pool's", async () => {
  {
    // A placeholder key is nobody's: cohere is not ready, none of its ids can answer.
    await using t = await setup({
      clientKey: "sk-placeholder",
      cohere: { models: ["my-finetune"] },
    });
    const ids = await listIds(t.client);
    assertEquals(ids.filter((id) => /^(command|embed|my-finetune)/.test(id)), []);
  }
  {
    await using t = await setup({ cohere: { models: ["my-finetune"] } });
    const ids = await listIds(t.client);
    for (const id of ["command-a-03-2025", "command-r7b-12-2024", "embed-v4.0", "my-finetune"]) {
      assert(ids.includes(id), `missing ${id}`);
    }
    assert(!ids.includes("command-r"), "retired ids are not listed");
    assertEquals(t.fake.requests.length, 0);
  }
  await using t = await setup({ pool: [KEY] });
  const ids = await listIds(t.client);
  assert(ids.includes("command-a-vision-07-2025"));
  const rec = t.fake.requests.find((r) => r.path === "/v1/models")!;
  assertEquals(rec.query.get("endpoint"), "chat");
  assertEquals(rec.headers.get("authorization"), `Bearer ${KEY}`);
  // Cached per instance: a second listing asks nobody.
  await listIds(t.client);
  assertEquals(t.fake.requests.filter((r) => r.path === "/v1/models").length, 1);
});

Deno.test("cohere: messages and parameters as /v2/chat takes them", async () => {
  await using t = await setup();
  const res = await t.client.chat.completions.create({
    model: "command-a-03-2025",
    messages: [
      { role: "system", content: "Be brief." },
      { role: "user", content: "first question" },
      { role: "assistant", content: "first answer" },
      { role: "system", content: "Now be formal." },
      {
        role: "user",
        content: [{ type: "text", text: "second" }, { type: "text", text: "question" }],
      },
    ],
    temperature: 0.4,
    top_p: 0.75,
    max_tokens: 50,
    stop: ["END"],
    seed: 3,
    presence_penalty: 0.5,
    // @ts-expect-error: top_k is not in OpenAI's types but clients send it.
    top_k: 20,
  });
  assertEquals(res.choices[0].message.content, "Hello! You said: second\nquestion");
  assertEquals(res.choices[0].finish_reason, "stop");
  const rec = t.fake.requests.at(-1)!;
  assertEquals(rec.path, "/v2/chat");
  assertEquals(rec.headers.get("authorization"), `Bearer ${KEY}`);
  assertEquals(rec.headers.get("accept"), "text/event-stream");
  const body = lastBody(t.fake);
  assertEquals(body, {
    model: "command-a-03-2025",
    stream: true,
    messages: [
      { role: "system", content: "Be brief." },
      { role: "user", content: "first question" },
      { role: "assistant", content: "first answer" },
      { role: "system", content: "Now be formal." },
      { role: "user", content: "second\nquestion" },
    ],
    temperature: 0.4,
    p: 0.75,
    k: 20,
    presence_penalty: 0.5,
    seed: 3,
    max_tokens: 50,
    stop_sequences: ["END"],
  });
  // Usage is Cohere's billed units (the fake bills 4 characters a token).
  assertEquals(res.usage!.prompt_tokens, Math.ceil(JSON.stringify(body.messages).length / 4));
  assert(!t.gw.logs.join("\n").includes(KEY));
});

Deno.test("cohere: out-of-range values are clamped to v2's ranges and the API takes them", async () => {
  await using t = await setup();
  const res = await t.client.chat.completions.create({
    model: "command-r-08-2024",
    messages: msg,
    temperature: 1.7,
    top_p: 1,
    presence_penalty: -1.5,
    frequency_penalty: 2,
    stop: ["a1", "a2", "a3", "a4", "a5", "a6", "a7"],
    // @ts-expect-error: top_k is not in OpenAI's types but clients send it.
    top_k: 900,
  });
  assertEquals(res.choices[0].message.content, "Hello! You said: hi");
  const body = lastBody(t.fake);
  assertEquals(
    [body.temperature, body.p, body.k, body.presence_penalty, body.frequency_penalty],
    [1, 0.99, 500, 0, 1],
  );
  assertEquals(body.stop_sequences, ["a1", "a2", "a3", "a4", "a5"]);
});

Deno.test("cohere: a streamed answer with thinking as reasoning_content, usage with cached tokens", async () => {
  await using t = await setup();
  t.fake.respond = () => ({
    thinking: "Let me think.",
    text: "alpha beta gamma delta",
    pieceSize: 3,
    delayMs: 1,
    cachedTokens: 7,
  });
  const stream = await t.client.chat.completions.create({
    model: "command-a-reasoning-08-2025",
    messages: msg,
    stream: true,
    stream_options: { include_usage: true },
  });
  const texts: string[] = [];
  let reasoning = "";
  let finish: string | null = null;
  let usage: OpenAI.CompletionUsage | undefined;
  for await (const chunk of stream) {
    if (chunk.usage) usage = chunk.usage;
    const c = chunk.choices[0];
    if (c?.delta.content) texts.push(c.delta.content);
    reasoning += (c?.delta as { reasoning_content?: string } | undefined)?.reasoning_content ?? "";
    if (c?.finish_reason) finish = c.finish_reason;
  }
  assertEquals(texts.join(""), "alpha beta gamma delta");
  assert(texts.length >= 7);
  assertEquals(reasoning, "Let me think.");
  assertEquals(finish, "stop");
  assertEquals(
    usage!.completion_tokens,
    Math.ceil(("Let me think." + "alpha beta gamma delta" + "[]").length / 4),
  );
  assertEquals(usage!.prompt_tokens_details?.cached_tokens, 7);
});

Deno.test("cohere: reasoning settings become thinking on the reasoning models only", async () => {
  await using t = await setup();
  const cases: [Record<string, unknown>, string, unknown][] = [
    [{ reasoning_effort: "low" }, "command-a-reasoning-08-2025", {
      type: "enabled",
      token_budget: 2048,
    }],
    [{ reasoning_effort: "high" }, "command-a-plus-05-2026", { type: "enabled" }],
    [{ reasoning_effort: "none" }, "command-a-reasoning-08-2025", { type: "disabled" }],
    [{ reasoning: { budget_tokens: 3000 } }, "command-a-reasoning-08-2025", {
      type: "enabled",
      token_budget: 3000,
    }],
    [{ reasoning_effort: "high" }, "command-a-03-2025", undefined],
    [{}, "command-a-reasoning-08-2025", undefined],
  ];
  for (const [extra, model, want] of cases) {
    await t.client.chat.completions.create({
      model,
      messages: msg,
      ...extra,
    } as OpenAI.Chat.ChatCompletionCreateParamsNonStreaming);
    assertEquals(lastBody(t.fake).thinking, want, `${model} ${JSON.stringify(extra)}`);
  }
});

Deno.test("cohere: finish reasons; ERROR, TIMEOUT and a stream without message-end are errors", async () => {
  await using t = await setup();
  for (const [reason, want] of [["MAX_TOKENS", "length"], ["STOP_SEQUENCE", "stop"]]) {
    t.fake.respond = () => ({ text: "some text", finishReason: reason });
    const res = await t.client.chat.completions.create({
      model: "command-r-08-2024",
      messages: msg,
    });
    assertEquals(res.choices[0].finish_reason, want);
  }
  const raw = async () => {
    const r = await fetch(`${t.gw.url}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${KEY}` },
      body: JSON.stringify({ model: "command-r-08-2024", messages: msg, stream: true }),
    });
    return await r.text();
  };
  t.fake.respond = () => ({
    text: "half an answer",
    finishReason: "ERROR",
    endError: "overloaded",
  });
  const failed = await raw();
  assertMatch(failed, /"content":"half "/);
  assertMatch(
    failed,
    /data: \{"error":\{"message":"cohere upstream failed: the generation failed \(finish_reason ERROR\): overloaded"[^\n]*\n\ndata: \[DONE\]\n\n$/,
  );
  t.fake.respond = () => ({ text: "cut", noEnd: true });
  const cut = parseSseBody(await raw());
  assert(cut.done);
  const last = cut.events.at(-1) as { error?: { message: string } };
  assertMatch(last.error!.message, /the stream ended without message-end/);
  assertEquals(
    cut.events.some((e) =>
      (e.choices as { finish_reason?: string }[] | undefined)?.[0]?.finish_reason
    ),
    false,
  );
  const whole = await assertRejects(
    () => t.client.chat.completions.create({ model: "command-r-08-2024", messages: msg }),
    OpenAI.InternalServerError,
  );
  assertEquals(whole.status, 502);
  t.fake.respond = () => ({ text: "slow", finishReason: "TIMEOUT" });
  const timeout = await assertRejects(
    () => t.client.chat.completions.create({ model: "command-r-08-2024", messages: msg }),
    OpenAI.APIError,
  );
  assertEquals(timeout.status, 504);
});

Deno.test("cohere: retired ids go to their successors, with one warning per id", async () => {
  await using t = await setup();
  const pairs = [
    ["command-r", "command-r-08-2024"],
    ["command", "command-a-03-2025"],
    ["command-r-plus", "command-a-03-2025"],
    ["command-light", "command-r7b-12-2024"],
    ["command-nightly", "command-a-03-2025"],
    ["command-light-nightly", "command-r7b-12-2024"],
  ];
  for (const [old, now] of pairs) {
    const res = await t.client.chat.completions.create({ model: old, messages: msg });
    assertEquals(res.model, old);
    assertEquals(lastBody(t.fake).model, now);
  }
  await t.client.chat.completions.create({ model: "command-r", messages: msg });
  const warnings = t.gw.logs.filter((l) => /'command-r' is retired/.test(l));
  assertEquals(warnings.length, 1);
  assertMatch(warnings[0], /requests for it go to 'command-r-08-2024'/);
});

Deno.test("cohere: safety_mode per model: OFF only on 08-2024, never with tools", async () => {
  const tool: OpenAI.Chat.ChatCompletionTool = {
    type: "function",
    function: { name: "f", parameters: { type: "object", properties: {} } },
  };
  {
    await using t = await setup({ cohere: { safety: "STRICT" } });
    await t.client.chat.completions.create({ model: "command-r7b-12-2024", messages: msg });
    assertEquals(lastBody(t.fake).safety_mode, "STRICT");
    await t.client.chat.completions.create({ model: "c4ai-aya-expanse-32b", messages: msg });
    assertEquals(lastBody(t.fake).safety_mode, undefined);
    await t.client.chat.completions.create({
      model: "command-a-03-2025",
      messages: msg,
      tools: [tool],
    });
    assertEquals(lastBody(t.fake).safety_mode, undefined);
  }
  await using t = await setup({ cohere: { safety: "OFF" } });
  await t.client.chat.completions.create({ model: "command-r-08-2024", messages: msg });
  assertEquals(lastBody(t.fake).safety_mode, "OFF");
  for (const model of ["command-r7b-12-2024", "command-a-03-2025", "command-light"]) {
    await t.client.chat.completions.create({ model, messages: msg });
    assertEquals(lastBody(t.fake).safety_mode, "CONTEXTUAL", model);
  }
});

Deno.test("cohere: response_format json_object and json_schema", async () => {
  await using t = await setup();
  t.fake.respond = () => ({ text: '{"a":1}' });
  await t.client.chat.completions.create({
    model: "command-a-03-2025",
    messages: msg,
    response_format: { type: "json_object" },
  });
  assertEquals(lastBody(t.fake).response_format, { type: "json_object" });
  const schema = { type: "object", properties: { a: { type: "integer" } }, required: ["a"] };
  const res = await t.client.chat.completions.create({
    model: "command-a-03-2025",
    messages: msg,
    response_format: { type: "json_schema", json_schema: { name: "x", schema } },
  });
  assertEquals(res.choices[0].message.content, '{"a":1}');
  assertEquals(lastBody(t.fake).response_format, { type: "json_object", json_schema: schema });
});

Deno.test("cohere: images go to the vision models; other models answer 400 naming the field", async () => {
  await using t = await setup();
  const content: OpenAI.Chat.ChatCompletionContentPart[] = [
    { type: "text", text: "what is this?" },
    { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=", detail: "low" } },
  ];
  await t.client.chat.completions.create({
    model: "command-a-vision-07-2025",
    messages: [{ role: "user", content }],
  });
  assertEquals((lastBody(t.fake).messages as unknown[])[0], {
    role: "user",
    content: [
      { type: "text", text: "what is this?" },
      {
        type: "image_url",
        image_url: { url: "data:image/png;base64,iVBORw0KGgo=", detail: "low" },
      },
    ],
  });
  const before = t.fake.requests.length;
  const err = await assertRejects(
    () =>
      t.client.chat.completions.create({
        model: "command-r-08-2024",
        messages: [{ role: "user", content }],
      }),
    OpenAI.BadRequestError,
  );
  assertMatch(err.message, /command-r-08-2024 does not read images/);
  assertEquals(err.param, "messages[0].content");
  assertEquals(t.fake.requests.length, before);
});

Deno.test("cohere: a client that leaves mid-stream aborts the upstream request", async () => {
  await using t = await setup();
  t.fake.respond = () => ({ text: "x".repeat(2000), pieceSize: 10, delayMs: 10 });
  const controller = new AbortController();
  const stream = await t.client.chat.completions.create(
    { model: "command-a-03-2025", messages: msg, stream: true },
    { signal: controller.signal },
  );
  await readThenAbort(stream, controller);
  const rec = t.fake.requests.at(-1)!;
  await abortedWithin(rec);
  assert(rec.wasAborted);
});
