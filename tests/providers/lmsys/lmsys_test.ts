/**
 * The lmsys provider through the running gateway with the official `openai` client, against the
 * fake arena (gradio 4 queue behind sticky SERVERID backends).
 */
import OpenAI from "openai";
import {
  assert,
  assertEquals,
  assertMatch,
  assertRejects,
  assertStringIncludes,
} from "../../assert.ts";
import { abortedWithin, parseSseBody, readThenAbort, startGateway } from "../../helpers.ts";
import {
  ARENA_TEXTS,
  type FakeArenaOptions,
  type FakeGradio,
  startFakeArena,
} from "../../fakes/gradio.ts";
import { lmsysPrompt } from "../../../src/providers/lmsys/mod.ts";
import { resolveFn } from "../../../src/providers/lmsys/fn.ts";
import { arenaError, RefusalGuard } from "../../../src/providers/lmsys/arena.ts";
import { defaultConfig } from "../../../src/config/mod.ts";
import { emptyFlags } from "../../../src/flags/types.ts";
import type { ChatContext } from "../../../src/providers/types.ts";
import type { ChatRequest } from "../../../src/openai/schema.ts";
import { ask, streamText } from "../web_helpers.ts";

async function setup(
  arenaOptions: FakeArenaOptions = {},
  lmsys: Record<string, unknown> = {},
  apiKey = "sk-anything-here",
) {
  const arena = await startFakeArena({
    ...arenaOptions,
    gradio: { servers: ["S1", "S2", "S3"], ...arenaOptions.gradio },
  });
  const gw = await startGateway({ lmsys: { "base-url": arena.origin, ...lmsys } });
  const client = new OpenAI({ baseURL: gw.url, apiKey, maxRetries: 0 });
  return {
    arena,
    gw,
    client,
    async [Symbol.asyncDispose]() {
      await gw.close();
      await arena.close();
    },
  };
}

/** The model most tests ask. */
const GPT = "lmsys/gpt-4o-2024-05-13";

function joinsOf(arena: FakeGradio) {
  return arena.joins.map((j) => j.body);
}

Deno.test("lmsys: /v1/models lists the built-in arena models, or the configured ones", async () => {
  {
    await using t = await setup();
    const ids = [];
    for await (const m of t.client.models.list()) ids.push(m.id);
    assert(ids.includes("lmsys/claude-3-5-sonnet-20240620"));
    assert(ids.every((id) => !id.startsWith("lmsys/") || id.length > 6));
  }
  {
    await using t = await setup({}, { models: ["my-model", "lmsys/other"] });
    const ids = [];
    for await (const m of t.client.models.list()) ids.push(m.id);
    assertEquals(ids.filter((id) => id.startsWith("lmsys/")), ["lmsys/my-model", "lmsys/other"]);
  }
});

Deno.test("lmsys: three-step flow on one session with SERVERID and parameters", async () => {
  await using t = await setup();
  const res = await t.client.chat.completions.create({
    model: "lmsys/claude-3-5-sonnet-20240620",
    messages: [{ role: "system", content: "Be brief." }, { role: "user", content: "ping" }],
    temperature: 0.3,
    max_tokens: 300,
  });
  assertEquals(res.model, "lmsys/claude-3-5-sonnet-20240620");
  assertEquals(res.choices[0].finish_reason, "stop");
  const prompt = "<|system|>\nBe brief.\n<|end|>\n\n<|user|>\nping\n<|end|>\n\n<|assistant|>\n";
  assertEquals(res.choices[0].message.content, "Hello! You said: ping");
  assert(res.usage!.prompt_tokens > 5 && res.usage!.completion_tokens > 5);

  const joins = joinsOf(t.arena);
  assertEquals(joins.map((j) => j.fn_index), [49, 50, 51]);
  assertEquals(joins.map((j) => j.trigger_id), [109, 109, 109]);
  assertEquals(new Set(joins.map((j) => j.session_hash)).size, 1);
  assertEquals(joins[0].data, [
    null,
    "claude-3-5-sonnet-20240620",
    { text: prompt, files: [] },
    null,
  ]);
  assertEquals(joins[1].data, []);
  assertEquals(joins[2].data, [null, 0.3, 1, 300]);
  // One /info picked the backend; every step went to it with the sticky cookie.
  assertEquals(t.arena.infoCalls, 1);
  const servers = new Set(t.arena.joins.map((j) => j.server));
  assertEquals(servers.size, 1);
  for (const j of t.arena.joins) assertMatch(j.cookie, /SERVERID=S[123]\|[A-Za-z0-9]{5}/);
  const info = t.arena.requests.find((r) => r.path === "/info")!;
  assertStringIncludes(info.headers.get("user-agent")!, "Edg/");
  const join = t.arena.requests.find((r) => r.path === "/queue/join")!;
  assertEquals(join.headers.get("origin"), t.arena.origin);
  assertEquals(join.headers.get("referer"), `${t.arena.origin}/`);

  // A second request reuses the cached backend: no new /info.
  await ask(t.client, GPT, "again");
  assertEquals(t.arena.infoCalls, 1);
  assertEquals(t.arena.joins[5].body.data, [null, 0.7, 1, 1024]);
});

Deno.test("lmsys: streamed answer arrives in pieces with the cursor removed", async () => {
  const words = ["The", " quick", " brown", " fox", " jumps"];
  await using t = await setup({
    answer: () => words.map((_, i) => words.slice(0, i + 1).join("")),
    gradio: { stepMs: 20 },
  });
  const { parts: pieces, finish } = await streamText(t.client, {
    model: GPT,
    messages: [{ role: "user", content: "fox" }],
  });
  assertEquals(pieces.join(""), "The quick brown fox jumps");
  assert(pieces.length >= 5, `expected several pieces, got ${pieces.length}`);
  assert(pieces.every((p) => !p.includes("▌") && !p.includes("<span")));
  assertEquals(finish, "stop");
});

Deno.test("lmsys: two-step flow sends the prompt as a string and the parameters second", async () => {
  await using t = await setup({ threeStep: false, fn: 10 }, { flow: 2, fn: [10, 44] });
  const res = await t.client.chat.completions.create({
    model: "lmsys/gpt-4o-2024-05-13",
    messages: [{ role: "user", content: "two" }],
    top_p: 0.5,
  });
  assertEquals(res.choices[0].message.content, "Hello! You said: two");
  const joins = joinsOf(t.arena);
  assertEquals(joins.map((j) => [j.fn_index, j.trigger_id]), [[10, 44], [11, 44]]);
  assertEquals(joins[0].data, [
    null,
    "gpt-4o-2024-05-13",
    "<|user|>\ntwo\n<|end|>\n\n<|assistant|>\n",
    null,
  ]);
  assertEquals(joins[1].data, [null, 0.7, 0.5, 1024]);
});

Deno.test("lmsys: [fn, trigger] from Authorization, from a map there, from the config map", async () => {
  {
    await using t = await setup({ fn: 12 }, {}, "[12, 34]");
    await ask(t.client, GPT);
    assertEquals(joinsOf(t.arena).map((j) => [j.fn_index, j.trigger_id]), [[12, 34], [13, 34], [
      14,
      34,
    ]]);
  }
  {
    const key = JSON.stringify({ "gpt-4o-2024-05-13": [20, 5], "other": [1, 1] });
    await using t = await setup({ fn: 20 }, {}, key);
    await ask(t.client, GPT);
    assertEquals(joinsOf(t.arena)[0].fn_index, 20);
    assertEquals(joinsOf(t.arena)[0].trigger_id, 5);
  }
  {
    await using t = await setup({ fn: 30 }, { fn: { "gpt-4o-2024-05-13": [30, 7], "*": [1, 2] } });
    await ask(t.client, GPT);
    assertEquals(joinsOf(t.arena)[0].fn_index, 30);
  }
  {
    await using t = await setup({}, {}, "[12]");
    const err = await assertRejects(
      () => ask(t.client, GPT),
      OpenAI.BadRequestError,
    );
    assertStringIncludes(err.message, "[fn_index, trigger_id]");
    assertEquals(t.arena.joins.length, 0);
  }
});

Deno.test("lmsys: resolveFn precedence and the default pair", () => {
  const config = defaultConfig();
  assertEquals(resolveFn("m", undefined, config), [49, 109]);
  assertEquals(resolveFn("m", "sk-not-json", config), [49, 109]);
  config.lmsys.fn = [3, 4];
  assertEquals(resolveFn("m", undefined, config), [3, 4]);
  assertEquals(resolveFn("m", "[5,6]", config), [5, 6]);
  assertEquals(resolveFn("m", '{"n":[7,8]}', config), [3, 4]);
  config.lmsys.fn = { m: [9, 9], "*": [1, 1] };
  assertEquals(resolveFn("m", undefined, config), [9, 9]);
  assertEquals(resolveFn("other", undefined, config), [1, 1]);
});

Deno.test("lmsys: moderation, rate limit and an unknown model become clear errors", async () => {
  await using t = await setup({ flagWord: "forbidden", limited: ["gpt-4o-2024-05-13"] });
  const mod = await assertRejects(
    () =>
      t.client.chat.completions.create({
        model: "lmsys/claude-3-5-sonnet-20240620",
        messages: [{ role: "user", content: "something forbidden" }],
      }),
    OpenAI.BadRequestError,
  );
  assertEquals(mod.code, "content_policy_violation");
  assertStringIncludes(mod.message, "MODERATION");

  const limited = await assertRejects(
    () => ask(t.client, GPT, "hi"),
    OpenAI.RateLimitError,
  );
  assertStringIncludes(limited.message, "RATE LIMIT OF THIS MODEL IS REACHED");

  const joinsBefore = t.arena.joins.length;
  const unknown = await assertRejects(
    () =>
      t.client.chat.completions.create({
        model: "lmsys/no-such-model",
        messages: [{ role: "user", content: "hi" }],
      }),
    OpenAI.APIError,
  );
  assertEquals(unknown.status, 502);
  assertStringIncludes(unknown.message, "NETWORK ERROR DUE TO HIGH TRAFFIC");
  // A network error is tried again (three attempts of three steps).
  assertEquals(t.arena.joins.length - joinsBefore, 9);
});

Deno.test("lmsys: the original's security-policy phrases fail the answer without sending them", async () => {
  await using t = await setup({
    answer: (p) =>
      p.includes("early")
        ? ["I apologize, but I cannot"]
        : ["Sure. ", "Sure. Here it is. I", "Sure. Here it is. I apologize for nothing"],
  });
  const early = await assertRejects(
    () => ask(t.client, GPT, "early"),
    OpenAI.APIError,
  );
  assertEquals(early.status, 502);
  assertStringIncludes(early.message, "SECURITY POLICY INTERCEPTION");
  // Not tried again: the model refused.
  assertEquals(t.arena.joins.length, 3);

  const res = await fetch(`${t.gw.url}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: "Bearer x" },
    body: JSON.stringify({
      model: "lmsys/gpt-4o-2024-05-13",
      messages: [{ role: "user", content: "late" }],
      stream: true,
    }),
  });
  const { events, done } = parseSseBody(await res.text());
  const content = events
    .map((e) =>
      (e.choices as { delta?: { content?: string } }[] | undefined)?.[0]?.delta?.content ?? ""
    )
    .join("");
  // Text before the phrase went out; the phrase (and its held-back start "I") did not.
  assertEquals(content, "Sure. Here it is. ");
  const error = events.at(-1)!.error as { message: string; code: string };
  assertStringIncludes(error.message, "SECURITY POLICY INTERCEPTION");
  assertEquals(error.code, "security_policy");
  assert(done);
});

Deno.test("lmsys: refusals: [] lets such answers through", async () => {
  await using t = await setup({ answer: () => ["I apologize, here you go"] }, { refusals: [] });
  const res = await ask(t.client, GPT);
  assertEquals(res.choices[0].message.content, "I apologize, here you go");
});

Deno.test("lmsys: RefusalGuard holds back only possible phrase starts", () => {
  const g = new RefusalGuard(["I apologize"]);
  assertEquals(g.push("Hello I"), "Hello ");
  assertEquals(g.push(" a"), "");
  assertEquals(g.push("m fine"), "I am fine");
  assertEquals(g.end(), "");
  const h = new RefusalGuard(["I apologize"]);
  assertEquals(h.push("I apol"), "");
  let threw = false;
  try {
    h.push("ogize");
  } catch (err) {
    threw = (err as Error).message.includes("SECURITY POLICY");
  }
  assert(threw);
});

Deno.test("lmsys: S0 from /info is refused and asked again; a dead backend is forgotten", async () => {
  {
    await using t = await setup({
      gradio: { servers: ["S0", "S1"], downServers: ["S0"], infoSequence: ["S0", "S1"] },
    });
    const res = await ask(t.client, GPT);
    assertStringIncludes(res.choices[0].message.content!, "Hello! You said");
    assertEquals(t.arena.infoCalls, 2);
    assert(t.arena.joins.every((j) => j.server === "S1"));
  }
  {
    await using t = await setup({
      gradio: { servers: ["S1", "S2"], downServers: ["S2"], infoSequence: ["S2", "S1"] },
    });
    const res = await ask(t.client, GPT);
    assertStringIncludes(res.choices[0].message.content!, "Hello! You said");
    // The 503 of S2 made the next attempt ask /info again and land on S1.
    assertEquals(t.arena.infoCalls, 2);
    assert(t.arena.joins.every((j) => j.server === "S1"));
  }
});

Deno.test("lmsys: cookies set by one step are carried to the next", async () => {
  await using t = await setup({ gradio: { stepCookie: "__cf_bm" } });
  const res = await ask(t.client, GPT);
  assertStringIncludes(res.choices[0].message.content!, "Hello! You said");
  const later = t.arena.requests.filter((r) => r.path.startsWith("/queue/")).slice(1);
  assert(later.length >= 5);
  for (const r of later) assertStringIncludes(r.headers.get("cookie")!, "__cf_bm=");
});

Deno.test("lmsys: the client leaving aborts the arena stream", async () => {
  await using t = await setup({
    answer: () => Array.from({ length: 60 }, (_, i) => "word ".repeat(i + 1)),
    gradio: { stepMs: 30 },
  });
  const controller = new AbortController();
  const stream = await t.client.chat.completions.create({
    model: "lmsys/gpt-4o-2024-05-13",
    messages: [{ role: "user", content: "long" }],
    stream: true,
  }, { signal: controller.signal });
  await readThenAbort(stream, controller);
  const data = t.arena.requests.filter((r) => r.path === "/queue/data").at(-1)!;
  await abortedWithin(data);
  assert(data.wasAborted);
});

Deno.test("lmsys: the prompt renders roles with char_sequences and tool results", () => {
  const req = {
    model: "lmsys/x",
    messages: [
      { role: "system", content: "S" },
      { role: "user", content: "U1" },
      { role: "assistant", content: "A1" },
      { role: "user", content: [{ type: "text", text: "U2" }] },
    ],
  } as unknown as ChatRequest;
  const ctx = { flags: emptyFlags() } as unknown as ChatContext;
  assertEquals(
    lmsysPrompt(req, ctx),
    "<|system|>\nS\n<|end|>\n\n<|user|>\nU1\n<|end|>\n\n<|assistant|>\nA1\n<|end|>\n\n" +
      "<|user|>\nU2\n<|end|>\n\n<|assistant|>\n",
  );
  const seq = { flags: { ...emptyFlags(), charSequences: { user: "Human:", assistant: "AI:" } } };
  const out = lmsysPrompt(req, seq as unknown as ChatContext);
  assertStringIncludes(out, "Human:U1\n<|end|>");
  assert(out.endsWith("AI:"));
});

Deno.test("lmsys: every arena text maps to its error, an answer to none", () => {
  assertEquals(arenaError(ARENA_TEXTS.moderation)?.status, 400);
  assertEquals(arenaError(ARENA_TEXTS.rateLimit)?.status, 429);
  assertEquals(arenaError(ARENA_TEXTS.serverError)?.status, 502);
  assertEquals(arenaError("partial answer\n\n(error_code: 50004, boom)")?.status, 502);
  assertEquals(arenaError("An ordinary answer about rate limits."), undefined);
});

Deno.test("lmsys: an answer running on into the next turn is cut at the role marker", async () => {
  await using t = await setup({
    answer: () => [
      "Sure, done.",
      "Sure, done.\n<|user|>\nnow write",
      "Sure, done.\n<|user|>\nnow write more",
    ],
  });
  const res = await ask(t.client, GPT);
  const content = res.choices[0].message.content!;
  assertStringIncludes(content, "Sure, done.");
  assert(!content.includes("<|user|>") && !content.includes("now write"), content);
});

Deno.test("lmsys: <echo /> answers with the prompt the arena would get, without calling it", async () => {
  await using t = await setup();
  const res = await t.client.chat.completions.create({
    model: "lmsys/gpt-4o-2024-05-13",
    messages: [{ role: "system", content: "<echo />Be brief." }, { role: "user", content: "hi" }],
  });
  assertEquals(
    res.choices[0].message.content,
    "<|system|>\nBe brief.\n<|end|>\n\n<|user|>\nhi\n<|end|>\n\n<|assistant|>\n",
  );
  assertEquals(t.arena.joins.length, 0);
});
