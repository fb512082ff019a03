/**
 * The arena provider through the running gateway, with the official `openai` client, against the
 * arena.ai fake behind the Cloudflare-like TLS gate. The reCAPTCHA tokens are minted by the real
 * Chromium (the fake's page script only gives them to a browser), so these tests need it.
 */
import OpenAI from "openai";
import { assert, assertEquals, assertRejects, assertStringIncludes } from "../../assert.ts";
import {
  type FakeArena,
  type FakeArenaOptions,
  pageHash,
  startFakeArena,
} from "../../fakes/arena.ts";
import { CHALLENGE_HTML } from "../../fakes/tls_gate.ts";
import { abortedWithin, parseSseBody, readThenAbort, startGateway, within } from "../../helpers.ts";
import { browserTest } from "../../browser/chromium.ts";
import { chromeUserAgent } from "../../../src/net/transport/mod.ts";
import { ask, poolAccounts } from "../web_helpers.ts";

/** The gateway's config for `fake` (Chromium trusts the gate's test certificate). */
function configFor(fake: FakeArena, arena: Record<string, unknown> = {}, browser = {}) {
  return {
    server: { password: ["gateway-pass"], "ca-file": fake.caFile },
    arena: { "base-url": fake.origin, ...arena },
    browser: { args: ["--ignore-certificate-errors"], timeout: 30, ...browser },
  };
}

async function setup(
  options: FakeArenaOptions = {},
  arena: Record<string, unknown> = {},
  browser: Record<string, unknown> = {},
) {
  const fake = await startFakeArena(options);
  const gw = await startGateway(configFor(fake, arena, browser));
  const client = new OpenAI({ baseURL: gw.url, apiKey: "gateway-pass", maxRetries: 0 });
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

Deno.test("arena: /v1/models lists the site's chat models as arena/<publicName>", async () => {
  await using t = await setup();
  const ids: string[] = [];
  for await (const m of t.client.models.list()) ids.push(m.id);
  const arena = ids.filter((id) => id.startsWith("arena/"));
  assertEquals(arena.sort(), ["arena/Gemini-3-Pro", "arena/claude-opus-4-8", "arena/gpt-5-chat"]);
  // Read through the chrome transport (the gate let it through); no browser needed to list.
  assertEquals(t.fake.gate.challenged, 0);
  assertEquals(t.fake.tokensIssued, 0);
});

browserTest(
  "arena: a streamed answer with a fresh reCAPTCHA token minted in Chromium",
  async () => {
    await using t = await setup();
    t.fake.respond = () => ({
      reasoning: "Weighing it up.",
      text: "Hello from the arena!",
      heartbeat: true,
      usage: { promptTokens: 11, completionTokens: 7 },
    });
    const stream = await t.client.chat.completions.create({
      model: "arena/gpt-5-chat",
      messages: [{ role: "user", content: "Say hello" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = "";
    let reasoning = "";
    let usage: OpenAI.CompletionUsage | undefined;
    let finish: string | null = null;
    for await (const chunk of stream) {
      const d = chunk.choices[0]?.delta as { content?: string; reasoning_content?: string };
      text += d?.content ?? "";
      reasoning += d?.reasoning_content ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) usage = chunk.usage;
    }
    assertEquals(text, "Hello from the arena!");
    assertEquals(reasoning, "Weighing it up.");
    assertEquals(finish, "stop");
    // The site's own counts.
    assertEquals([usage?.prompt_tokens, usage?.completion_tokens], [11, 7]);
    const [call] = t.fake.evaluations;
    assertEquals(call.body.mode, "direct-battle");
    assertEquals(call.body.modelAId, t.fake.models[0].id);
    assertEquals(call.body.userMessage.content, "Say hello");
    assertEquals(call.body.modality, "chat");
    // The API call presents what the browser presented: Chrome's user agent, the page's session.
    assertEquals(call.rec.headers.get("user-agent"), chromeUserAgent());
    assert(call.rec.headers.get("cookie")?.includes("arena-auth-prod-v1="));
    assertEquals(t.fake.tokensIssued, 1);
    assertEquals(t.fake.gate.challenged, 0);
  },
);

browserTest(
  "arena: every request is a new evaluation with its own token; the page is kept",
  async () => {
    await using t = await setup();
    const first = await t.client.chat.completions.create({
      model: "lmsys/GPT-5-CHAT",
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "One?" },
        { role: "assistant", content: "1" },
        { role: "user", content: "Two?" },
      ],
    });
    assertEquals(first.model, "lmsys/GPT-5-CHAT");
    assertEquals(first.choices[0].message.content, "Hello from the arena!");
    await ask(t.client, "arena/claude-opus-4-8", "again");
    assertEquals(t.fake.evaluations.length, 2);
    const [a, b] = t.fake.evaluations;
    // The whole conversation flattened into the one user message of a fresh evaluation.
    assertEquals(
      a.body.userMessage.content,
      "<|system|>\nBe brief.\n<|end|>\n\n<|user|>\nOne?\n<|end|>\n\n<|assistant|>\n1\n<|end|>\n\n" +
        "<|user|>\nTwo?\n<|end|>\n\n<|assistant|>\n",
    );
    assertEquals(b.model.publicName, "claude-opus-4-8");
    assert(a.body.id !== b.body.id && a.body.recaptchaV3Token !== b.body.recaptchaV3Token);
    assertEquals(t.fake.tokensIssued, 2);
    // One page in the browser served both tokens; the list was read once.
    assertEquals(t.fake.requests.filter((r) => r.path === "/recaptcha/enterprise.js").length, 1);
    assertEquals(t.fake.pagesServed, 2);
  },
);

browserTest("arena: an unknown model is a 404 before any token is minted", async () => {
  await using t = await setup();
  const err = await assertRejects(() => ask(t.client, "arena/no-such-model"), OpenAI.APIError);
  assertEquals(err.status, 404);
  assertEquals(err.code, "model_not_found");
  assertStringIncludes(err.message, "no-such-model");
  // An image model is not a chat model.
  const image = await assertRejects(
    () => ask(t.client, "arena/imagen-4.0-generate"),
    OpenAI.APIError,
  );
  assertEquals(image.status, 404);
  assertEquals(t.fake.tokensIssued, 0);
});

browserTest(
  "arena: a refused token is replaced once; refused twice it is a 502 that says so",
  async () => {
    await using t = await setup();
    t.fake.spoilTokens(1);
    const res = await ask(t.client, "arena/gpt-5-chat");
    assertEquals(res.choices[0].message.content, "Hello from the arena!");
    assertEquals([t.fake.tokensIssued, t.fake.tokensRefused], [2, 1]);
    t.fake.spoilTokens(2);
    const err = await assertRejects(() => ask(t.client, "arena/gpt-5-chat"), OpenAI.APIError);
    assertEquals(err.status, 502);
    assertStringIncludes(err.message, "reCAPTCHA token");
    assertEquals([t.fake.tokensIssued, t.fake.tokensRefused], [4, 3]);
  },
);

browserTest(
  "arena: Cloudflare's challenge is passed in the browser, and passed again when it comes back",
  async () => {
    await using t = await setup({ cloudflare: true });
    const res = await ask(t.client, "arena/gpt-5-chat");
    assertEquals(res.choices[0].message.content, "Hello from the arena!");
    const served = t.fake.challengesServed;
    assert(served >= 2, `challenges: ${served}`); // the transport's list read, then the browser's
    // The clearance goes stale: the API call meets the challenge, the page is opened again.
    t.fake.revokeClearances();
    const again = await ask(t.client, "arena/gpt-5-chat");
    assertEquals(again.choices[0].message.content, "Hello from the arena!");
    assert(t.fake.challengesServed > served);
    assertEquals(t.fake.evaluations.length, 2);
  },
);

browserTest(
  "arena: a Cloudflare 403 on the API is retried once and never blames the account",
  async () => {
    await using t = await setup({ sessions: ["signed-in-1"] }, {
      cookies: ["arena-auth-prod-v1=signed-in-1; theme=dark"],
    });
    const challenge = {
      status: {
        code: 403,
        body: CHALLENGE_HTML,
        contentType: "text/html; charset=UTF-8",
        headers: { "cf-mitigated": "challenge" },
      },
    };
    let calls = 0;
    t.fake.respond = () => calls++ === 0 ? challenge : { text: "through" };
    const res = await ask(t.client, "arena/gpt-5-chat");
    assertEquals(res.choices[0].message.content, "through");
    assertEquals(t.fake.evaluations.map((e) => e.session), ["signed-in-1", "signed-in-1"]);
    t.fake.respond = () => challenge;
    const err = await assertRejects(() => ask(t.client, "arena/gpt-5-chat"), OpenAI.APIError);
    assertEquals(err.status, 502);
    assertStringIncludes(err.message, "Cloudflare");
    const [account] = await poolAccounts(t.gw, "arena", "gateway-pass");
    assert(account.ready, JSON.stringify(account));
    assertStringIncludes(account.last_error!, "Cloudflare");
    assert(!account.id.includes("signed-in-1"), "the session is masked");
  },
);

browserTest(
  "arena: 429 is passed on honestly and rests a pooled session for its Retry-After",
  async () => {
    await using t = await setup({ sessions: ["s-1"] }, { cookies: ["arena-auth-prod-v1=s-1"] });
    t.fake.respond = () => ({
      status: {
        code: 429,
        body: '{"error":"Too many requests"}',
        headers: { "retry-after": "40" },
      },
    });
    const res = await fetch(`${t.gw.url}/chat/completions`, {
      method: "POST",
      headers: { authorization: "Bearer gateway-pass", "content-type": "application/json" },
      body: JSON.stringify({
        model: "arena/gpt-5-chat",
        messages: [{ role: "user", content: "x" }],
      }),
    });
    assertEquals(res.status, 429);
    assertStringIncludes((await res.json()).error.message, "Too many requests");
    const [account] = await poolAccounts(t.gw, "arena", "gateway-pass");
    const rest = (Date.parse(account.aside_until!) - Date.now()) / 1000;
    assert(rest > 35 && rest <= 40, `rests ${rest}s`);
  },
);

browserTest("arena: an expired anonymous session gets a new page and one more try", async () => {
  await using t = await setup();
  await ask(t.client, "arena/gpt-5-chat");
  t.fake.revokeSessions();
  const res = await ask(t.client, "arena/gpt-5-chat");
  assertEquals(res.choices[0].message.content, "Hello from the arena!");
  assertEquals(t.fake.evaluations.length, 2);
  assert(t.fake.evaluations[0].session !== t.fake.evaluations[1].session);
});

browserTest(
  "arena: model failures (a3, hasArenaError, no finish record) are errors, not answers",
  async () => {
    await using t = await setup();
    const cases: [Record<string, unknown>, string][] = [
      [{ text: "", error: "Model overloaded" }, "Model overloaded"],
      [{ text: "", arenaError: true }, "hasArenaError"],
      [{ text: "cut", truncate: true }, "finish record"],
    ];
    for (const [script, said] of cases) {
      t.fake.respond = () => script;
      const err = await assertRejects(() => ask(t.client, "arena/gpt-5-chat"), OpenAI.APIError);
      assertEquals(err.status, 502);
      assertStringIncludes(err.message, said);
    }
    // After text has been streamed, the error ends the stream as an error event.
    t.fake.respond = () => ({ text: "partial answer", error: "upstream died" });
    const raw = await fetch(`${t.gw.url}/chat/completions`, {
      method: "POST",
      headers: { authorization: "Bearer gateway-pass", "content-type": "application/json" },
      body: JSON.stringify({
        model: "arena/gpt-5-chat",
        stream: true,
        messages: [{ role: "user", content: "x" }],
      }),
    });
    const body = await raw.text();
    const { events, done } = parseSseBody(body);
    const text = events.map((e) =>
      (e.choices as { delta?: { content?: string } }[] | undefined)?.[0]?.delta?.content ?? ""
    ).join("");
    assertEquals(text, "partial answer");
    assert(done);
    assertStringIncludes(body, "upstream died");
  },
);

browserTest("arena: a client that leaves mid-stream closes the upstream stream", async () => {
  await using t = await setup();
  t.fake.respond = () => ({ text: "first words", hang: true });
  const controller = new AbortController();
  const stream = await t.client.chat.completions.create({
    model: "arena/gpt-5-chat",
    messages: [{ role: "user", content: "talk forever" }],
    stream: true,
  }, { signal: controller.signal });
  await readThenAbort(stream, controller, (c) => (c.choices[0]?.delta.content ?? "") !== "");
  await abortedWithin(t.fake.evaluations[0].rec);
});

browserTest(
  "arena: a page whose reCAPTCHA never loads is a 504 within browser.timeout",
  async () => {
    await using t = await setup({ noRecaptcha: true }, {}, { timeout: 3 });
    const started = Date.now();
    const err = await within(
      assertRejects(() => ask(t.client, "arena/gpt-5-chat"), OpenAI.APIError),
      60_000,
      "the 504",
    );
    assertEquals(err.status, 504);
    assertStringIncludes(err.message, "reCAPTCHA did not load");
    assertStringIncludes(err.message, "within 3s");
    // Generous: the bound is the configured 3 s plus the browser's start.
    assert(Date.now() - started < 45_000);
  },
);

browserTest(
  "arena: a Cloudflare challenge that does not pass in time is a 504 that says so",
  async () => {
    await using t = await setup({ cloudflare: true, challengeDelayMs: 120_000 }, {}, {
      timeout: 3,
    });
    const err = await within(
      assertRejects(() => ask(t.client, "arena/gpt-5-chat"), OpenAI.APIError),
      60_000,
      "the 504",
    );
    assertEquals(err.status, 504);
    assertStringIncludes(err.message, "Cloudflare's challenge did not pass");
    assertStringIncludes(err.message, "Just a moment...");
  },
);

browserTest(
  "arena: the site key comes from arena.recaptcha-site-key when the page hides it",
  async () => {
    {
      await using t = await setup({ hideSiteKey: true }, {}, { timeout: 10 });
      const err = await assertRejects(() => ask(t.client, "arena/gpt-5-chat"), OpenAI.APIError);
      assertEquals(err.status, 502);
      assertStringIncludes(err.message, "site key");
    }
    {
      await using t = await setup({ hideSiteKey: true, siteKey: "6LconfiguredKey" }, {
        "recaptcha-site-key": "6LconfiguredKey",
      });
      const res = await ask(t.client, "arena/gpt-5-chat");
      assertEquals(res.choices[0].message.content, "Hello from the arena!");
    }
  },
);

Deno.test("arena: the old lmsys section is read with deprecation warnings", async () => {
  const fake = await startFakeArena();
  const gw = await startGateway({
    server: { password: ["gateway-pass"], "ca-file": fake.caFile },
    lmsys: { "base-url": fake.origin, fn: [49, 109], flow: 3, tries: 2 },
  });
  try {
    const warnings = gw.logs.filter((l) => l.includes("deprecated"));
    assert(
      warnings.some((l) => l.includes("'lmsys.base-url' is deprecated; read as 'arena.base-url'")),
    );
    assert(warnings.some((l) => l.includes("'lmsys.fn' is deprecated and ignored")));
    assert(warnings.some((l) => l.includes("config.yaml:")), "warnings name the line");
    const client = new OpenAI({ baseURL: gw.url, apiKey: "gateway-pass", maxRetries: 0 });
    const ids: string[] = [];
    for await (const m of client.models.list()) ids.push(m.id);
    assert(ids.includes("arena/gpt-5-chat"), ids.join(", "));
  } finally {
    await gw.close();
    await fake.close();
  }
});

browserTest(
  "arena: the fake refuses reused, foreign and made-up tokens, and bad bodies",
  async () => {
    await using t = await setup();
    await ask(t.client, "arena/gpt-5-chat");
    const [call] = t.fake.evaluations;
    const { Upstream, HttpClients } = await import("../../../src/net/http.ts");
    const { configSchema } = await import("../../../src/config/schema.ts");
    const http = new Upstream({
      provider: "arena",
      config: configSchema.parse({ server: { "ca-file": t.fake.caFile } }),
      signal: new AbortController().signal,
      clients: new HttpClients(),
      transport: "chrome",
    });
    const post = async (token: string, change: Record<string, unknown> = {}) => {
      const body = {
        ...call.body,
        id: call.body.id.replace(/.$/, "0"),
        recaptchaV3Token: token,
        ...change,
      };
      const res = await http.fetch(`${t.fake.origin}/nextjs-api/stream/create-evaluation`, {
        method: "POST",
        headers: { "content-type": "application/json", cookie: call.rec.headers.get("cookie")! },
        body: JSON.stringify(body),
      });
      return [res.status, await res.text()];
    };
    /** A token the fake issues to `ua` for `action` (computed here as its page script would). */
    const foreign = async (ua: string | undefined, action: string) => {
      const res = await http.fetch(
        `${t.fake.origin}/recaptcha/enterprise/reload?k=${t.fake.siteKey}`,
        { method: "POST", headers: ua ? { "user-agent": ua } : {} },
      );
      const { nonce } = await res.json();
      return `03A${nonce}.${pageHash(`${nonce}|${action}|${ua ?? chromeUserAgent()}`)}`;
    };
    const refused = [403, '{"error":"recaptcha validation failed"}'];
    assertEquals(await post(call.body.recaptchaV3Token), refused); // reused
    assertEquals(await post(await foreign("curl/8.0", "chat_submit")), refused); // another client's
    assertEquals(await post(await foreign(undefined, "login")), refused); // another action's
    assertEquals(await post("03A" + "0".repeat(32) + ".1234"), refused); // made up
    assertEquals(await post(""), refused);
    // Good tokens, bad bodies: the fields are checked too.
    const valid = () => foreign(undefined, "chat_submit");
    assertEquals(await post(await valid(), { modelAId: crypto.randomUUID() }), [
      400,
      '{"error":"modelAId: Invalid model"}',
    ]);
    assertEquals(await post(await valid(), { userMessage: undefined }), [
      400,
      '{"error":"userMessage.content: required"}',
    ]);
    assertEquals(await post(await valid(), { userMessageId: crypto.randomUUID() }), [
      400,
      '{"error":"userMessageId: expected a UUIDv7"}',
    ]);
    assertEquals(t.fake.evaluations.length, 1);
  },
);

browserTest("arena: the page and the API calls both leave through arena.proxies", async () => {
  const { startConnectProxy } = await import("../../fakes/connect_proxy.ts");
  const proxy = startConnectProxy({ user: "u", pass: "s3cret" });
  const fake = await startFakeArena();
  const config = configFor(fake, { proxies: proxy.url });
  const gw = await startGateway({ ...config, server: { ...config.server, "no-proxy": [] } });
  try {
    const client = new OpenAI({ baseURL: gw.url, apiKey: "gateway-pass", maxRetries: 0 });
    const res = await ask(client, "arena/gpt-5-chat");
    assertEquals(res.choices[0].message.content, "Hello from the arena!");
    const host = new URL(fake.origin).host;
    // The model list, the browser's page (and its script and token calls), the evaluation.
    assert(proxy.tunnels.length >= 3, proxy.tunnels.join(", "));
    assert(proxy.tunnels.every((t) => t === host), proxy.tunnels.join(", "));
    // (Chromium's first CONNECT goes without credentials: a 407, answered by the browser module.)
    assertEquals(fake.tokensIssued, 1);
  } finally {
    await gw.close();
    await fake.close();
    await proxy.close();
  }
});
