/**
 * you.com end to end: the official `openai` client -> the running gateway -> the fake you.com
 * behind its fake Cloudflare challenge, passed by a real Chromium. Skipped (with a message) when
 * no Chromium is installed.
 */
import OpenAI from "openai";
import {
  assert,
  assertEquals,
  assertInstanceOf,
  assertMatch,
  assertRejects,
} from "../../../assert.ts";
import {
  type FakeAccount,
  type FakeYou,
  type SearchCall,
  startFakeYou,
} from "../../../fakes/you_web.ts";
import {
  parseSseBody,
  readTextThenAbort,
  startGateway,
  type TestGateway,
  waitFor,
} from "../../../helpers.ts";
import { browserTest } from "../../../browser/chromium.ts";

const A = "sess-alpha-0000000000";
const B = "sess-bravo-1111111111";
const C = "sess-charlie-22222222";

function cookie(session: string): string {
  return `stytch_session=${session}; ydc_stytch_session=${session}; safesearch_guest=Moderate; ai_model=gpt_4o; you_subscription=free`;
}

interface Setup extends AsyncDisposable {
  fake: FakeYou;
  gw: TestGateway;
  client: OpenAI;
  pool(): Promise<{ id: string; ready: boolean; last_error: string | null; busy: number }[]>;
}

async function setup(
  accounts: FakeAccount[],
  options: {
    you?: Record<string, unknown>;
    browser?: Record<string, unknown>;
    extra?: Record<string, unknown>;
    delay?: number;
  } = {},
): Promise<Setup> {
  const fake = await startFakeYou({ accounts, challengeDelayMs: options.delay ?? 300 });
  const gw = await startGateway({
    server: { password: ["gw-pass"] },
    you: {
      mode: "web",
      "web-url": fake.origin,
      cookies: accounts.map((a) => cookie(a.session)),
      ...options.you,
    },
    browser: { timeout: 60, ...options.browser },
    ...options.extra,
  });
  const client = new OpenAI({ baseURL: gw.url, apiKey: "gw-pass", maxRetries: 0 });
  return {
    fake,
    gw,
    client,
    async pool() {
      const res = await fetch(`${gw.origin}/v1/pool`, {
        headers: { authorization: "Bearer gw-pass" },
      });
      const body = await res.json();
      return body.data.find((p: { provider: string }) => p.provider === "you-web")?.accounts ?? [];
    },
    async [Symbol.asyncDispose]() {
      await gw.close();
      await fake.close();
    },
  };
}

/** Masked id of a cookie as the pool shows it. */
function masked(session: string): string {
  const c = cookie(session);
  return `${c.slice(0, 6)}…${c.slice(-3)}`;
}

browserTest(
  "you: non-streamed answer after passing the challenge with the account's cookies",
  async () => {
    await using t = await setup([{ session: A }]);
    const res = await t.client.chat.completions.create({
      model: "you/gpt_4o",
      messages: [{ role: "system", content: "Be brief." }, { role: "user", content: "hello" }],
    });
    assertEquals(res.model, "you/gpt_4o");
    // you.com has no system role: the system text leads the question.
    assertEquals(res.choices[0].message.content, "You said: Be brief.\n\nhello");
    assertEquals(res.choices[0].finish_reason, "stop");
    assert(res.usage!.prompt_tokens > 0 && res.usage!.completion_tokens > 0);
    assertEquals(t.fake.clearancesIssued, 1);

    // The browser opened the site with the account's cookies.
    const page = t.fake.requests.find((r) => r.path === "/")!;
    assertMatch(page.headers.get("cookie") ?? "", new RegExp(`stytch_session=${A}`));
    // The API calls carried the clearance, the rewritten cookies and the browser's user agent.
    const search = t.fake.searches[0];
    const sent = search.rec.headers;
    const ua = t.fake.clearances.get(/cf_clearance=([^;]+)/.exec(sent.get("cookie")!)![1]);
    assertEquals(sent.get("user-agent"), ua);
    assert(!ua!.includes("Headless"));
    assertMatch(sent.get("cookie")!, /safesearch_guest=Off/);
    assertMatch(sent.get("cookie")!, /you_subscription=freemium/);
    assertMatch(sent.get("cookie")!, /has_seen_agent_uploads_modal=true/);
    assertEquals(sent.get("accept"), "text/event-stream");
    assertEquals(sent.get("accept-language"), "en-US,en;q=0.9");
    assertEquals(search.model, "gpt_4o");
    assertEquals(search.q, "Be brief.\n\nhello");
    assertEquals(search.chat, []);
    assertEquals(search.rec.query.get("selectedChatMode"), "custom");
    // The quota was checked first, with the same identity.
    const quota = t.fake.requests.find((r) => r.path === "/api/user/getYouProState")!;
    assertEquals(quota.headers.get("user-agent"), ua);
  },
);

browserTest("you: streamed answer arrives in pieces, with usage at the end", async () => {
  await using t = await setup([{ session: A }]);
  t.fake.respond = () => ({ tokens: ["One ", "two ", "three ", "four."], delayMs: 30 });
  const stream = await t.client.chat.completions.create({
    model: "you/claude_3_5_sonnet",
    messages: [{ role: "user", content: "count" }],
    stream: true,
    stream_options: { include_usage: true },
  });
  const pieces: string[] = [];
  let finish: string | null = null;
  let usage: OpenAI.CompletionUsage | undefined;
  for await (const chunk of stream) {
    assertEquals(chunk.model, "you/claude_3_5_sonnet");
    const c = chunk.choices[0];
    if (c?.delta.content) pieces.push(c.delta.content);
    if (c?.finish_reason) finish = c.finish_reason;
    if (chunk.usage) usage = chunk.usage;
  }
  assertEquals(pieces.join(""), "One two three four.");
  assert(pieces.length >= 4, `streamed in ${pieces.length} pieces`);
  assertEquals(finish, "stop");
  assert(usage && usage.completion_tokens > 0);
  assertEquals(t.fake.searches[0].model, "claude_3_5_sonnet");
});

browserTest("you: history goes as question/answer pairs", async () => {
  await using t = await setup([{ session: A }]);
  await t.client.chat.completions.create({
    model: "you/gpt_4o",
    messages: [
      { role: "user", content: "My name is Ada." },
      { role: "assistant", content: "Hello Ada." },
      { role: "user", content: "What is my name?" },
    ],
  });
  const s = t.fake.searches[0];
  assertEquals(s.chat, [{ question: "My name is Ada.", answer: "Hello Ada." }]);
  assertEquals(s.q, "What is my name?");
  assertEquals(s.rec.query.get("pastChatLength"), "1");
});

browserTest("you: a long conversation is uploaded as a file and the notice asked", async () => {
  await using t = await setup([{ session: A }], { you: { "file-tokens": 200 } });
  const long = "The quick brown fox jumps over the lazy dog. ".repeat(60);
  const res = await t.client.chat.completions.create({
    model: "you/gpt_4o",
    messages: [{ role: "user", content: long }, { role: "user", content: "Count the foxes." }],
  });
  assertEquals(res.choices[0].message.content, "You said: Please review the attached prompt");
  const s = t.fake.searches[0];
  assertEquals(s.q, "Please review the attached prompt");
  assertEquals(s.chat, []);
  assertEquals(s.rec.query.get("pastChatLength"), "0");
  assertEquals(s.userFiles!.length, 1);
  assertEquals(s.userFiles![0].user_filename, "messages.txt");
  const up = t.fake.uploads.get(s.userFiles![0].filename)!;
  assertEquals(up.user_filename, "messages.txt");
  assertEquals(up.content, `Human: ${long.trim()}\n\nCount the foxes.\n\nAssistant: `);
  assertEquals(s.userFiles![0].size, String(new TextEncoder().encode(up.content).length));
  // Nonce first, then the upload with it, then the instrumentation ping.
  const paths = t.fake.requests.map((r) => r.path).filter((p) => p.startsWith("/api/"));
  assertEquals(paths, [
    "/api/user/getYouProState",
    "/api/get_nonce",
    "/api/upload",
    "/api/instrumentation",
    "/api/streamingSearch",
  ]);
});

browserTest("you: the clearance is reused; after it expires a 403 brings a fresh one", async () => {
  await using t = await setup([{ session: A }]);
  const ask = async (text: string) =>
    (await t.client.chat.completions.create({
      model: "you/gpt_4o",
      messages: [{ role: "user", content: text }],
    })).choices[0].message.content;
  assertEquals(await ask("one"), "You said: one");
  assertEquals(await ask("two"), "You said: two");
  assertEquals(t.fake.clearancesIssued, 1, "one challenge for two requests");
  t.fake.expireClearances();
  assertEquals(await ask("three"), "You said: three");
  assertEquals(t.fake.clearancesIssued, 2);
  assert(t.fake.blocked.includes("/api/user/getYouProState"), "the API refused the old one");
  // The account was not blamed for Cloudflare's refusal.
  const [acct] = await t.pool();
  assertEquals(acct.ready, true);
  assert(
    t.gw.logs.some((l) =>
      /you: Cloudflare's challenge stopped .*; earning a fresh clearance/.test(l)
    ),
  );
});

browserTest(
  "you: concurrent requests wait for the challenge in progress instead of starting another",
  async () => {
    await using t = await setup([{ session: A }, { session: B }, { session: C }], { delay: 800 });
    const answers = await Promise.all(["x", "y", "z"].map((q) =>
      t.client.chat.completions.create({
        model: "you/gpt_4o",
        messages: [{ role: "user", content: q }],
      })
    ));
    assertEquals(answers.map((a) => a.choices[0].message.content).sort(), [
      "You said: x",
      "You said: y",
      "You said: z",
    ]);
    assertEquals(t.fake.clearancesIssued, 1);
    const pageLoads = t.fake.requests.filter((r) =>
      r.path === "/" && !/cf_clearance/.test(r.headers.get("cookie") ?? "")
    );
    assertEquals(pageLoads.length, 1, "the site was opened once");
    // Three accounts served the three requests.
    assertEquals(new Set(t.fake.searches.map((s) => s.session)).size, 3);
  },
);

browserTest("you: one account serves one request at a time by default", async () => {
  await using t = await setup([{ session: A }]);
  t.fake.respond = (c) => ({ tokens: ["a", "b", "c", c.q], delayMs: 60 });
  const [one, two] = await Promise.all(
    ["first", "second"].map((q) =>
      t.client.chat.completions.create({
        model: "you/gpt_4o",
        messages: [{ role: "user", content: q }],
      })
    ),
  );
  assertEquals([one.choices[0].message.content, two.choices[0].message.content].sort(), [
    "abcfirst",
    "abcsecond",
  ]);
  assertEquals(t.fake.maxActivePerAccount, 1);
});

browserTest(
  "you: an exhausted account rests and the next one answers; all exhausted is a 429",
  async () => {
    await using t = await setup([
      { session: A, maxCalls: 10, usedCalls: 10 },
      { session: B, maxCalls: 1, usedCalls: 0 },
    ], { you: { "quota-cooldown": 3600 } });
    const first = await t.client.chat.completions.create({
      model: "you/gpt_4o",
      messages: [{ role: "user", content: "hi" }],
    });
    assertEquals(first.choices[0].message.content, "You said: hi");
    assertEquals(t.fake.searches.map((s) => s.session), [B]);
    const pool = await t.pool();
    const a = pool.find((p) => p.id === masked(A))!;
    assertEquals(a.ready, false);
    assertMatch(a.last_error ?? "", /quota exhausted \(10 of 10 calls used\)/);
    // B has used its only call now: nothing is left.
    const err = await t.client.chat.completions.create({
      model: "you/gpt_4o",
      messages: [{ role: "user", content: "again" }],
    }).catch((e) => e);
    assertInstanceOf(err, OpenAI.RateLimitError);
    assertEquals(err.status, 429);
    assertMatch(err.message, /quota exhausted|cooling down/);
    assertEquals(t.fake.searches.length, 1, "no call was made with an exhausted account");
  },
);

browserTest("you: Pro and Team accounts have no call limit", async () => {
  await using t = await setup([
    { session: A, plan: "youpro", maxCalls: 1, usedCalls: 5 },
    { session: B, plan: "youpro_teams", maxCalls: 1, usedCalls: 5 },
  ]);
  for (const q of ["p", "q"]) {
    const r = await t.client.chat.completions.create({
      model: "you/gpt_4o",
      messages: [{ role: "user", content: q }],
    });
    assertEquals(r.choices[0].message.content, `You said: ${q}`);
  }
});

browserTest(
  "you: a banned account (403 from you.com) is set aside and the next one answers",
  async () => {
    await using t = await setup([{ session: A, banned: true }, { session: B }]);
    const res = await t.client.chat.completions.create({
      model: "you/gpt_4o",
      messages: [{ role: "user", content: "hi" }],
    });
    assertEquals(res.choices[0].message.content, "You said: hi");
    assertEquals(t.fake.searches.map((s) => s.session), [B]);
    // you.com's own 403 (its JSON, not Cloudflare's page) blames the account, not the clearance.
    assertEquals(t.fake.clearancesIssued, 1);
    const a = (await t.pool()).find((p) => p.id === masked(A))!;
    assertEquals(a.ready, false);
    assertMatch(a.last_error ?? "", /you\.com refused account .*account suspended/);
    assert(!(a.last_error ?? "").includes(A), "the cookie is masked");
  },
);

browserTest("you: upstream errors keep an honest status; secrets stay masked", async () => {
  await using t = await setup([{ session: A }]);
  t.fake.respond = () => ({ status: 500 });
  const err = await t.client.chat.completions.create({
    model: "you/gpt_4o",
    messages: [{ role: "user", content: "hi" }],
  }).catch((e) => e);
  assertInstanceOf(err, OpenAI.InternalServerError);
  assertEquals(err.status, 502);
  assertMatch(err.message, /you upstream answered 500/);

  t.fake.respond = () => ({ tokens: [] });
  const empty = await t.client.chat.completions.create({
    model: "you/gpt_4o",
    messages: [{ role: "user", content: "hi" }],
  }).catch((e) => e);
  assertEquals(empty.status, 502);
  assertMatch(empty.message, /the answer was empty/);
  for (const line of t.gw.logs) assert(!line.includes(A), `log line leaks the cookie: ${line}`);
});

browserTest(
  "you: a stream without 'done' is an error, not an answer; a broken one ends with an error event",
  async () => {
    await using t = await setup([{ session: A }]);
    t.fake.respond = () => ({ tokens: ["partial "], noDone: true });
    const cut = await assertRejects(
      () =>
        t.client.chat.completions.create({
          model: "you/gpt_4o",
          messages: [{ role: "user", content: "hi" }],
        }),
      OpenAI.APIError,
    );
    assertEquals(cut.status, 502);
    assertMatch(cut.message, /ended without its 'done' event/);

    t.fake.respond = () => ({ tokens: ["first ", "second"], delayMs: 20, dropAfter: 1 });
    const res = await fetch(`${t.gw.url}/chat/completions`, {
      method: "POST",
      headers: { authorization: "Bearer gw-pass", "content-type": "application/json" },
      body: JSON.stringify({
        model: "you/gpt_4o",
        stream: true,
        messages: [{ role: "user", content: "hi" }],
      }),
    });
    assertEquals(res.status, 200);
    const { events, done } = parseSseBody(await res.text());
    const texts = events.flatMap((e) =>
      ((e.choices ?? []) as { delta: { content?: string } }[]).map((c) => c.delta.content ?? "")
    );
    assertEquals(texts.join(""), "first ");
    const error = events.find((e) => e.error) as { error: { message: string } } | undefined;
    assert(error, "an error event ends the stream");
    assertMatch(error.error.message, /you upstream failed: .*broke off the answer/);
    assert(done, "[DONE] follows the error");
  },
);

browserTest("you: the client leaving aborts the answer stream upstream", async () => {
  await using t = await setup([{ session: A }]);
  t.fake.respond = () => ({ tokens: ["a", "b", "c", "d"], stallAfter: 2 });
  const controller = new AbortController();
  const stream = await t.client.chat.completions.create({
    model: "you/gpt_4o",
    messages: [{ role: "user", content: "go" }],
    stream: true,
  }, { signal: controller.signal });
  const got = await readTextThenAbort(stream, controller, (text) => text === "ab");
  assertEquals(got, "ab");
  await waitFor(() => t.fake.searches[0].rec.wasAborted, 20_000, "upstream abort");
  // The account is free again.
  let busy = -1;
  for (let i = 0; i < 100 && busy !== 0; i++) {
    busy = (await t.pool())[0].busy;
    if (busy !== 0) await new Promise((r) => setTimeout(r, 20));
  }
  assertEquals(busy, 0);
});

browserTest("you: a challenge that does not pass in time is a 504", async () => {
  await using t = await setup([{ session: A }], { delay: 120_000, browser: { timeout: 1.5 } });
  const err = await t.client.chat.completions.create({
    model: "you/gpt_4o",
    messages: [{ role: "user", content: "hi" }],
  }).catch((e) => e);
  assertEquals(err.status, 504);
  assertMatch(err.message, /challenge of 127\.0\.0\.1:\d+ did not pass within 2s/);
  assertEquals(err.code, "challenge_timeout");
  assertEquals(t.fake.searches.length, 0);
});

browserTest("you: the gateway's shutdown closes the browser", async () => {
  let browsers: { running(): Promise<boolean> } | undefined;
  {
    await using t = await setup([{ session: A }]);
    browsers = t.gw.browsers;
    await t.client.chat.completions.create({
      model: "you/gpt_4o",
      messages: [{ role: "user", content: "hi" }],
    });
    assert(await browsers.running(), "the browser runs after a clearance");
  }
  assertEquals(await browsers.running(), false);
});

browserTest("you: models are listed when accounts are configured", async () => {
  await using t = await setup([{ session: A }], { you: { models: ["gpt_5_preview"] } });
  const ids: string[] = [];
  for await (const m of t.client.models.list()) ids.push(m.id);
  for (const id of ["you/gpt_4o", "you/claude_3_opus", "you/gemini_1_5_pro", "you/gpt_5_preview"]) {
    assert(ids.includes(id), `${id} listed`);
  }
  const err = await t.client.chat.completions.create({
    model: "you/not_a_mode",
    messages: [{ role: "user", content: "hi" }],
  }).catch((e) => e);
  assertEquals(err.status, 404);
});

const weatherTool: OpenAI.Chat.ChatCompletionFunctionTool = {
  type: "function",
  function: {
    name: "get_weather",
    description: "Current weather of a city",
    parameters: {
      type: "object",
      properties: { city: { type: "string" } },
      required: ["city"],
      additionalProperties: false,
    },
  },
};

browserTest(
  "you: tool calls through the emulator, streamed, then the answer from the result",
  async () => {
    await using t = await setup([{ session: A }]);
    /** Everything the fake model was shown for one call: query, history, uploaded file. */
    const shown = (c: SearchCall) =>
      [
        c.q,
        ...c.chat.flatMap((p) => [p.question, p.answer]),
        ...(c.userFiles ?? []).map((f) => t.fake.uploads.get(f.filename)?.content ?? ""),
      ].join("\n");
    t.fake.respond = (c) => {
      const prompt = shown(c);
      if (!prompt.includes("get_weather")) return { tokens: ["no tools were offered"] };
      if (prompt.includes("18°C, light rain")) {
        return { tokens: ["It is ", "18°C with light rain ", "in Paris."] };
      }
      const call = `<tool_call>\n${
        JSON.stringify({ name: "get_weather", arguments: { city: "Paris" } })
      }\n</tool_call>`;
      // Cut into small pieces, as a model streams it.
      return { tokens: call.match(/[\s\S]{1,7}/g)!, delayMs: 2 };
    };
    const messages: OpenAI.Chat.ChatCompletionMessageParam[] = [
      { role: "user", content: "What is the weather in Paris?" },
    ];
    const stream = await t.client.chat.completions.create({
      model: "you/gpt_4o",
      messages,
      tools: [weatherTool],
      stream: true,
    });
    let id = "";
    let name = "";
    let args = "";
    let finish: string | null = null;
    let content = "";
    for await (const chunk of stream) {
      const choice = chunk.choices[0];
      if (!choice) continue;
      content += choice.delta.content ?? "";
      for (const tc of choice.delta.tool_calls ?? []) {
        assertEquals(tc.index, 0);
        if (tc.id) id = tc.id;
        if (tc.function?.name) name = tc.function.name;
        args += tc.function?.arguments ?? "";
      }
      if (choice.finish_reason) finish = choice.finish_reason;
    }
    assertEquals(finish, "tool_calls");
    assertEquals(content, "");
    assertEquals(name, "get_weather");
    assertEquals(JSON.parse(args), { city: "Paris" });
    assertMatch(id, /^call_/);

    messages.push({
      role: "assistant",
      content: null,
      tool_calls: [{ id, type: "function", function: { name, arguments: args } }],
    });
    messages.push({ role: "tool", tool_call_id: id, content: "18°C, light rain" });
    const second = await t.client.chat.completions.create({
      model: "you/gpt_4o",
      messages,
      tools: [weatherTool],
    });
    assertEquals(second.choices[0].finish_reason, "stop");
    assertEquals(second.choices[0].message.content, "It is 18°C with light rain in Paris.");
    assertEquals(t.fake.searches.length, 2);
    assertEquals(t.fake.clearancesIssued, 1);
  },
);

/** An HTTP forward proxy that wants a user name and password, recording what it forwarded. */
async function startAuthProxy(user: string, pass: string) {
  const forwarded: { url: string; ua: string | null }[] = [];
  let refused = 0;
  let ready!: (port: number) => void;
  const port = new Promise<number>((r) => ready = r);
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen: (a) => ready(a.port),
  }, async (req) => {
    if (req.headers.get("proxy-authorization") !== `Basic ${btoa(`${user}:${pass}`)}`) {
      refused++;
      return new Response("proxy authentication required", {
        status: 407,
        headers: { "proxy-authenticate": 'Basic realm="test"' },
      });
    }
    forwarded.push({ url: req.url, ua: req.headers.get("user-agent") });
    const headers = new Headers(req.headers);
    headers.delete("proxy-authorization");
    headers.delete("proxy-connection");
    const res = await fetch(req.url, {
      method: req.method,
      headers,
      body: req.body,
      redirect: "manual",
      signal: req.signal,
    });
    return new Response(res.body, { status: res.status, headers: res.headers });
  });
  return {
    url: `http://${user}:${pass}@127.0.0.1:${await port}`,
    forwarded,
    refused: () => refused,
    close: () => server.shutdown(),
  };
}

browserTest("you: browser and API calls go through the same authenticated HTTP proxy", async () => {
  const proxy = await startAuthProxy("proxyuser", "proxy-secret-pw");
  try {
    await using t = await setup([{ session: A }], {
      you: { proxies: proxy.url },
      extra: { server: { password: ["gw-pass"], "no-proxy": [] } },
    });
    const res = await t.client.chat.completions.create({
      model: "you/gpt_4o",
      messages: [{ role: "user", content: "via proxy" }],
    });
    assertEquals(res.choices[0].message.content, "You said: via proxy");
    const paths = proxy.forwarded.map((f) => new URL(f.url).pathname);
    // The challenge page (browser) and the API (gateway) both came through it.
    assert(paths.includes("/"), `browser traffic through the proxy: ${paths}`);
    assert(paths.includes("/api/streamingSearch"), `API traffic through the proxy: ${paths}`);
    assertEquals(t.fake.requests.length, proxy.forwarded.length, "nothing went around the proxy");
    assertEquals(t.fake.clearancesIssued, 1);
    assert(proxy.refused() >= 1, "the browser answered the proxy's 407 with the credentials");
    for (const line of t.gw.logs) assert(!line.includes("proxy-secret-pw"), line);
  } finally {
    await proxy.close();
  }
});
