/**
 * Gemini's current per-model rules through the running gateway with the `openai` client, against
 * a fake that refuses what the API refuses: thinking settings by generation (a budget on 2.5, a
 * level on 3.x, never both), penalties only where taken, `topK` within the model's limit (from
 * `models.get`), candidates only before Gemini 3, shut-down ids mapped, a stream without a
 * `finishReason` as an error.
 */
import OpenAI from "openai";
import { assert, assertEquals, assertMatch, assertRejects } from "../../assert.ts";
import { parseSseBody } from "../../helpers.ts";
import { KEY, lastBody, setup } from "./_setup.ts";

const msg = [{ role: "user" as const, content: "hi" }];
type Params = OpenAI.Chat.ChatCompletionCreateParamsNonStreaming;

Deno.test("gemini rules: reasoning settings map to a budget on 2.5 and a level on 3.x", async () => {
  await using t = await setup({ gemini: { thoughts: false } });
  const cases: [string, Record<string, unknown>, unknown][] = [
    ["gemini-2.5-flash", { reasoning_effort: "low" }, { thinkingBudget: 1024 }],
    ["gemini-2.5-flash", { reasoning_effort: "none" }, { thinkingBudget: 0 }],
    ["gemini-2.5-flash", { reasoning_effort: "xhigh" }, { thinkingBudget: 24576 }],
    ["gemini-2.5-pro", { reasoning_effort: "none" }, { thinkingBudget: 128 }],
    ["gemini-2.5-pro", { reasoning: { budget_tokens: 3000 } }, { thinkingBudget: 3000 }],
    ["gemini-2.5-flash", { reasoning: { budget_tokens: 100000 } }, { thinkingBudget: 24576 }],
    ["gemini-2.5-flash-lite", { reasoning: { budget_tokens: 100 } }, { thinkingBudget: 512 }],
    ["gemini-3-flash-preview", { reasoning_effort: "minimal" }, { thinkingLevel: "minimal" }],
    ["gemini-3.8-flash", { reasoning_effort: "minimal" }, { thinkingLevel: "low" }],
    ["gemini-3.8-flash", { reasoning_effort: "medium" }, { thinkingLevel: "medium" }],
    ["gemini-3.1-pro-preview", { reasoning_effort: "medium" }, { thinkingLevel: "high" }],
    ["gemini-3.1-pro-preview", { reasoning_effort: "low" }, { thinkingLevel: "low" }],
    ["gemini-3.8-flash", { reasoning: { budget_tokens: 500 } }, { thinkingLevel: "low" }],
    ["gemini-3.8-flash", { reasoning: { effort: "high", budget_tokens: 500 } }, {
      thinkingLevel: "high",
    }],
    ["gemini-2.0-flash", { reasoning_effort: "high" }, undefined],
    ["gemini-2.5-flash", {}, undefined],
  ];
  for (const [model, extra, want] of cases) {
    await t.client.chat.completions.create({ model, messages: msg, ...extra } as Params);
    assertEquals(
      lastBody(t.fake).generationConfig?.thinkingConfig,
      want,
      `${model} ${JSON.stringify(extra)}`,
    );
  }
});

Deno.test("gemini rules: thought summaries are asked for unless reasoning is turned off", async () => {
  await using t = await setup();
  await t.client.chat.completions.create({ model: "gemini-3.8-flash", messages: msg });
  assertEquals(lastBody(t.fake).generationConfig?.thinkingConfig, { includeThoughts: true });
  await t.client.chat.completions.create({
    model: "gemini-2.5-flash",
    messages: msg,
    reasoning_effort: "none",
  } as Params);
  assertEquals(lastBody(t.fake).generationConfig?.thinkingConfig, { thinkingBudget: 0 });
  await t.client.chat.completions.create({ model: "gemini-2.0-flash", messages: msg });
  assertEquals(lastBody(t.fake).generationConfig, undefined);
});

Deno.test("gemini rules: penalties only for the models that take them", async () => {
  const penalties = { presence_penalty: 0.5, frequency_penalty: -0.25 };
  {
    await using t = await setup();
    await t.client.chat.completions.create({
      model: "gemini-2.0-flash",
      messages: msg,
      ...penalties,
    });
    assertEquals(lastBody(t.fake).generationConfig, {
      presencePenalty: 0.5,
      frequencyPenalty: -0.25,
    });
    for (const model of ["gemini-2.5-flash", "gemini-3.8-flash", "gemini-2.0-flash-lite"]) {
      const res = await t.client.chat.completions.create({ model, messages: msg, ...penalties });
      assertEquals(res.choices[0].finish_reason, "stop");
      const gc = lastBody(t.fake).generationConfig ?? {};
      assertEquals([gc.presencePenalty, gc.frequencyPenalty], [undefined, undefined], model);
    }
  }
  // `gemini.penalty-models` replaces the list (the fake refuses them on 2.5: a 400 from Google).
  await using t = await setup({ gemini: { "penalty-models": ["gemini-2.5-flash"] } });
  const err = await assertRejects(
    () =>
      t.client.chat.completions.create({ model: "gemini-2.5-flash", messages: msg, ...penalties }),
    OpenAI.BadRequestError,
  );
  assertMatch(err.message, /Penalty is not enabled for models\/gemini-2\.5-flash/);
});

Deno.test("gemini rules: topK is clamped to the limit models.get reports, asked once per model", async () => {
  await using t = await setup();
  const ask = (model: string, top_k: number) =>
    t.client.chat.completions.create({ model, messages: msg, top_k } as Params);
  await ask("gemini-2.5-flash", 100);
  assertEquals(lastBody(t.fake).generationConfig?.topK, 64);
  await ask("gemini-2.5-flash", 20);
  assertEquals(lastBody(t.fake).generationConfig?.topK, 20);
  await ask("gemini-2.0-flash", 64);
  assertEquals(lastBody(t.fake).generationConfig?.topK, 40);
  const gets = t.fake.requests.filter((r) => r.method === "GET").map((r) => r.path);
  assertEquals(gets, ["/v1beta/models/gemini-2.5-flash", "/v1beta/models/gemini-2.0-flash"]);
  assertEquals(t.fake.requests.find((r) => r.method === "GET")!.headers.get("x-goog-api-key"), KEY);
  // top_k 0 means "no top-k": nothing is sent.
  await ask("gemini-2.5-flash", 0);
  assertEquals(lastBody(t.fake).generationConfig?.topK, undefined);
});

Deno.test("gemini rules: a model that reports its own topK limit is held to it", async () => {
  // Without the lookup the gateway would send 50 (under the default 64) and earn a 400.
  await using t = await setup({ fake: { topK: { "gemini-3.8-flash": 20 } } });
  const res = await t.client.chat.completions.create({
    model: "gemini-3.8-flash",
    messages: msg,
    top_k: 50,
  } as Params);
  assertEquals(res.choices[0].finish_reason, "stop");
  assertEquals(lastBody(t.fake).generationConfig?.topK, 20);
});

Deno.test("gemini rules: n is candidateCount before Gemini 3, separate calls on Gemini 3", async () => {
  await using t = await setup();
  t.fake.respond = () => ({ text: "answer" });
  const res = await t.client.chat.completions.create({
    model: "gemini-3.8-flash",
    messages: msg,
    n: 3,
  });
  assertEquals(res.choices.map((c) => [c.index, c.message.content]), [
    [0, "answer"],
    [1, "answer"],
    [2, "answer"],
  ]);
  const bodies = t.fake.bodies();
  assertEquals(bodies.length, 3);
  for (const b of bodies) assertEquals(b.generationConfig?.candidateCount, undefined);
  await t.client.chat.completions.create({ model: "gemini-2.5-flash", messages: msg, n: 3 });
  assertEquals(t.fake.bodies().length, 4);
  assertEquals(lastBody(t.fake).generationConfig?.candidateCount, 3);
});

Deno.test("gemini rules: shut-down ids go to their successors, one warning per id", async () => {
  await using t = await setup();
  const pairs = [
    ["gemini-1.5-pro-latest", "gemini-3.1-pro-preview"],
    ["gemini-1.5-pro-002", "gemini-3.1-pro-preview"],
    ["gemini-1.5-flash-latest", "gemini-3.5-flash"],
    ["gemini-1.0-pro-latest", "gemini-3.5-flash"],
    ["gemini-3-pro-preview", "gemini-3.1-pro-preview"],
    ["models/gemini-1.5-flash-002", "gemini-3.5-flash"],
  ];
  for (const [old, now] of pairs) {
    const res = await t.client.chat.completions.create({ model: old, messages: msg });
    assertEquals(res.model, old);
    assertEquals(t.fake.requests.at(-1)!.path, `/v1beta/models/${now}:generateContent`);
  }
  await t.client.chat.completions.create({ model: "gemini-1.5-pro-latest", messages: msg });
  const warnings = t.gw.logs.filter((l) => /'gemini-1\.5-pro-latest' is shut down/.test(l));
  assertEquals(warnings.length, 1);
  assertMatch(warnings[0], /requests for it go to 'gemini-3\.1-pro-preview'/);
});

Deno.test("gemini rules: a stream that ends without a finishReason is an error", async () => {
  await using t = await setup();
  t.fake.respond = () => ({ text: "half an answer", noFinish: true });
  const res = await fetch(`${t.gw.url}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${KEY}` },
    body: JSON.stringify({ model: "gemini-2.5-flash", messages: msg, stream: true }),
  });
  const { events, done } = parseSseBody(await res.text());
  assert(done);
  const last = events.at(-1) as { error?: { message: string } };
  assertMatch(
    last.error!.message,
    /gemini upstream failed: the stream ended without a finishReason/,
  );
  const finishes = events.flatMap((e) =>
    ((e.choices ?? []) as { finish_reason: string | null }[]).map((c) => c.finish_reason)
  ).filter(Boolean);
  assertEquals(finishes, []);
  const err = await assertRejects(
    () =>
      t.client.chat.completions.create({ model: "gemini-2.5-flash", messages: msg, stream: true })
        .then(async (s) => {
          for await (const _ of s) { /* drain */ }
        }),
    OpenAI.APIError,
  );
  assertMatch(err.message, /without a finishReason/);
});
