/**
 * Unit tests of the Coze provider's parts: credentials, model ids, bot choice, prompt rendering,
 * the stream reader (bytes split at every position), error mapping, the owner lock, image URLs.
 */
import { assert, assertEquals, assertRejects, assertThrows } from "../../../assert.ts";
import { defaultConfig, parseConfig } from "../../../../src/config/mod.ts";
import { GatewayError } from "../../../../src/openai/errors.ts";
import { cookieHeader, parseCredential } from "../../../../src/providers/coze/web/cookie.ts";
import { cozeError, errorOfBody } from "../../../../src/providers/coze/web/errors.ts";
import { imageUrlOf, paintingQuery } from "../../../../src/providers/coze/paint.ts";
import {
  LONG_PROMPT_TOKENS,
  parseBotModel,
  resolveBot,
} from "../../../../src/providers/coze/web/model.ts";
import { lockBot } from "../../../../src/providers/coze/web/owner.ts";
import {
  conversationOf,
  cozeStyle,
  placeholderImages,
  renderQuery,
} from "../../../../src/providers/coze/web/prompt.ts";
import { readAnswer } from "../../../../src/providers/coze/web/stream.ts";
import { bodyOf, collect, splits } from "../../../chunks.ts";
import { clientCookie, looksLikeCozeCookie } from "../../../../src/providers/coze/web/account.ts";
import type { ChatRequest } from "../../../../src/openai/schema.ts";
import { createCozeProvider } from "../../../../src/providers/coze/mod.ts";
import { providerContext, testDeps } from "../../../context.ts";

Deno.test("credential: the [msToken=...] segment is cut out whole", () => {
  const c = parseCredential("sessionid=abc123; lang=en[msToken=TOKEN_value-1=]; store=x");
  assertEquals(c.msToken, "TOKEN_value-1=");
  assertEquals(c.cookie, "sessionid=abc123; lang=en; store=x");
  // At the start and at the end too.
  assertEquals(parseCredential("[msToken=T1]sessionid=s").msToken, "T1");
  assertEquals(parseCredential("[msToken=T1]sessionid=s").cookie, "sessionid=s");
  assertEquals(parseCredential("sessionid=s; [msToken=T2]").cookie, "sessionid=s");
});

Deno.test("credential: the cookie's own msToken is used when there is no segment", () => {
  assertEquals(parseCredential("sessionid=s; msToken=own").msToken, "own");
  assertEquals(parseCredential("sessionid=s").msToken, undefined);
  // An unterminated segment is left alone rather than guessed at.
  assertEquals(parseCredential("sessionid=s[msToken=oops").msToken, undefined);
});

Deno.test("cookie header: msToken replaced or added, a bare value is the sessionid", () => {
  assertEquals(
    cookieHeader("sessionid=s; msToken=old; a=b", "new"),
    "sessionid=s; msToken=new; a=b",
  );
  assertEquals(cookieHeader("sessionid=s", "t"), "sessionid=s; msToken=t");
  assertEquals(cookieHeader("abcdef0123", "t"), "sessionid=abcdef0123; msToken=t");
  assertEquals(cookieHeader("", "t"), "msToken=t");
  // Values holding '=' survive.
  assertEquals(cookieHeader("sessionid=a=b==", "t"), "sessionid=a=b==; msToken=t");
});

Deno.test("client cookie: placeholder keys do not displace the pool", () => {
  assert(looksLikeCozeCookie("sessionid=abc; x=y"));
  assert(looksLikeCozeCookie("0123456789abcdef0123456789abcdef"));
  assert(looksLikeCozeCookie("a=b[msToken=x]"));
  assert(!looksLikeCozeCookie("sk-1234567890"));
  assertEquals(clientCookie("sk-123", 2), undefined);
  assertEquals(clientCookie("sk-123", 0), "sk-123");
  assertEquals(clientCookie("sessionid=z", 2), "sessionid=z");
  assertEquals(clientCookie(undefined, 2), undefined);
});

Deno.test("model ids: bot, version, scene and mode", () => {
  assertEquals(parseBotModel("coze/7353-1716801150371-2"), {
    botId: "7353",
    version: "1716801150371",
    scene: 2,
    mode: "normal",
  });
  assertEquals(parseBotModel("coze/7353-7290-4-o")?.mode, "owner");
  assertEquals(parseBotModel("coze/7353-x-1000-w")?.mode, "websdk");
  assertEquals(parseBotModel("coze/7353--1000-w")?.version, "");
  assertEquals(parseBotModel("coze/7353-1-x"), undefined);
  assertEquals(parseBotModel("coze/7353-1-2-z"), undefined);
  assertEquals(parseBotModel("coze"), undefined);
  assertEquals(parseBotModel("cozey/1-2-3"), undefined);
});

function config(coze: Record<string, unknown>) {
  return parseConfig(JSON.stringify({ coze }), "test.yaml").config;
}

Deno.test("bot choice: 8k up to the limit, 128k above (the 128k bot, not the 8k one)", () => {
  const c = config({
    "8k": { "bot-id": "b8", version: "v8", scene: 2 },
    "128k": { "bot-id": "b128", version: "v128", scene: 3, websdk: true },
  });
  assertEquals(resolveBot("coze", c, LONG_PROMPT_TOKENS).botId, "b8");
  const long = resolveBot("coze", c, LONG_PROMPT_TOKENS + 1);
  assertEquals([long.botId, long.version, long.scene, long.mode], ["b128", "v128", 3, "websdk"]);
  // A named bot ignores the configured ones.
  assertEquals(resolveBot("coze/x-y-1", c, 100_000).botId, "x");
});

Deno.test("bot choice: missing bots are clear errors", () => {
  const none = defaultConfig();
  const e1 = assertThrows(() => resolveBot("coze", none, 10), GatewayError);
  assertEquals(e1.status, 404);
  assert(e1.message.includes("coze.8k"));
  const only8k = config({ "8k": { "bot-id": "b8" } });
  const e2 = assertThrows(() => resolveBot("coze", only8k, 9000), GatewayError);
  assertEquals([e2.status, e2.code], [400, "context_length_exceeded"]);
  assert(e2.message.includes("coze.128k"));
});

const req = (messages: ChatRequest["messages"]) => ({ model: "coze", messages }) as ChatRequest;

Deno.test("prompt: role tags as Coze's web client writes them, % untouched", () => {
  const r = req([
    { role: "system", content: "Be brief." },
    { role: "user", content: "50% off?" },
    { role: "assistant", content: "Yes %s %d" },
    { role: "user", content: "And %!o(MISSING)?" },
  ]);
  const { turns } = conversationOf(r, false);
  assertEquals(
    renderQuery(turns, cozeStyle(), placeholderImages),
    "<|system|>\nBe brief.<|end|>\n<|user|>\n50% off?<|end|>\n<|assistant|>\nYes %s %d<|end|>\n" +
      "<|user|>\nAnd %!o(MISSING)?<|end|>\n<|assistant|>",
  );
});

Deno.test("prompt: char_sequences rename the roles; owner mode splits the system off", () => {
  const r = req([
    { role: "system", content: "Persona" },
    { role: "user", content: "hi" },
  ]);
  const owner = conversationOf(r, true);
  assertEquals(owner.system, "Persona");
  assertEquals(
    renderQuery(owner.turns, cozeStyle({ user: "Human", assistant: "AI" }), placeholderImages),
    "<|Human|>\nhi<|end|>\n<|AI|>",
  );
});

Deno.test("prompt: images become *image* lines; data URLs are shown as placeholders", () => {
  const r = req([{
    role: "user",
    content: [
      { type: "text", text: "what is this?" },
      { type: "image_url", image_url: { url: "https://img.example/a.png" } },
      { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } },
    ],
  }]);
  const { turns } = conversationOf(r, false);
  assertEquals(
    renderQuery(turns, cozeStyle(), placeholderImages),
    "<|user|>\nwhat is this?\n\n*image*: https://img.example/a.png\n----\n\n" +
      "*image*: (uploaded image/png)\n----<|end|>\n<|assistant|>",
  );
});

const STREAM = [
  "event:message\n",
  'data:{"message":{"role":"assistant","type":"answer","content":"Hel","content_type":"text"},"is_finish":false}\n\n',
  "event:message\n",
  'data: {"message":{"role":"assistant","type":"verbose","content":"{\\"msg_type\\":\\"x\\"}"}}\n\n',
  'data:{"message":{"role":"assistant","type":"answer","content":"lo, 50% é 🌍"}}\r\n\r\n',
  'data:{"message":{"role":"assistant","type":"follow_up","content":"more?"}}\n\n',
  'data:{"message":{"role":"assistant","type":"answer","content":""},"is_finish":true}\n\n',
  "event:done\n",
  "data:{}\n\n",
  'data:{"message":{"role":"assistant","type":"answer","content":"after done"}}\n\n',
].join("");

/** The answer deltas `readAnswer` finds in `body`. */
const answers = (body: ReadableStream<Uint8Array>) => collect(readAnswer(body));

Deno.test("stream: answer deltas only, the same at every split position and byte by byte", async () => {
  const whole = await answers(bodyOf([new TextEncoder().encode(STREAM)]));
  assertEquals(whole, ["Hel", "lo, 50% é 🌍"]);
  for (const pieces of splits(STREAM)) {
    const got = await answers(bodyOf(pieces));
    const cut = pieces.length === 2 ? `split at ${pieces[0].length}` : "byte by byte";
    assertEquals(got, whole, cut);
  }
});

Deno.test("stream: a stream cut off before event:done is an error, never a shorter answer (fuzz finding)", async () => {
  const end = STREAM.indexOf("event:done");
  // Every cut at a line end before `event:done` leaves lines that read cleanly.
  for (let at = 0; at < end; at = STREAM.indexOf("\n", at) + 1) {
    await assertRejects(
      () => answers(bodyOf([new TextEncoder().encode(STREAM.slice(0, at))])),
      GatewayError,
      "ended without its done event",
    );
  }
});

Deno.test("stream: refusals become errors", async () => {
  const enc = (s: string) => bodyOf([new TextEncoder().encode(s)]);
  const e1 = await assertRejects(
    () =>
      answers(
        enc(
          'data:{"message":{"role":"assistant","type":"answer","content":"a"}}\n{"code":700012014,"msg":"We\'ve detected unusual traffic"}\n',
        ),
      ),
    GatewayError,
  );
  assertEquals(e1.status, 503);
  const e2 = await assertRejects(
    () =>
      answers(
        enc(
          'data:{"message":{"role":"assistant","type":"answer","content":"You have reached the daily limit for sending messages to the bot."}}\n',
        ),
      ),
    GatewayError,
  );
  assertEquals(e2.status, 429);
  // A notice in pieces is still found.
  const e2b = await assertRejects(
    () =>
      answers(
        enc(
          'data:{"message":{"role":"assistant","type":"answer","content":"You have reached the daily "}}\ndata:{"message":{"role":"assistant","type":"answer","content":"limit for sending messages."}}\n',
        ),
      ),
    GatewayError,
  );
  assertEquals(e2b.status, 429);
  const e3 = await assertRejects(
    () =>
      answers(
        enc(
          'data:{"message":{"role":"assistant","type":"tool_response","content":"Failed: plugin down"}}\n',
        ),
      ),
    GatewayError,
  );
  assertEquals(e3.status, 502);
  assert(e3.message.includes("plugin down"));
  const e4 = await assertRejects(() => answers(enc("data:{not json\n")), GatewayError);
  assertEquals(e4.status, 502);
  const e5 = await assertRejects(
    () =>
      answers(
        enc('event:error\ndata:{"code":700012006,"msg":"Login verification is invalid"}\n\n'),
      ),
    GatewayError,
  );
  assertEquals(e5.status, 401);
});

Deno.test("errors: codes and texts map to honest statuses", () => {
  assertEquals(cozeError("x", 700012006, "Login verification is invalid").status, 401);
  assertEquals(cozeError("x", 1, "We've detected unusual traffic from your network").status, 503);
  assertEquals(
    cozeError("x", 5, "You have reached the limit on the number of messages").status,
    429,
  );
  const other = cozeError("get_message_list", 702092001, "Bot not exist");
  assertEquals(other.status, 502);
  assert(other.message.includes("702092001") && other.message.includes("Bot not exist"));
  assertEquals(errorOfBody("x", { code: 0, msg: "" }), undefined);
  assertEquals(errorOfBody("x", { ok: true }), undefined);
});

Deno.test("owner lock: serialises per bot, times out with 429, honours abort", async () => {
  const signal = new AbortController().signal;
  const locks = new Map();
  const release1 = await lockBot(locks, "bot-a", 5, signal);
  // Another bot is not blocked.
  (await lockBot(locks, "bot-b", 0.05, signal))();
  let second = false;
  const p2 = lockBot(locks, "bot-a", 5, signal).then((r) => {
    second = true;
    return r;
  });
  const timedOut = await assertRejects(() => lockBot(locks, "bot-a", 0.05, signal), GatewayError);
  assertEquals([timedOut.status, timedOut.code], [429, "bot_busy"]);
  const ac = new AbortController();
  const aborted = lockBot(locks, "bot-a", 5, ac.signal);
  ac.abort(new Error("client left"));
  await assertRejects(() => aborted, Error, "client left");
  assert(!second);
  release1();
  release1(); // twice is harmless
  const release2 = await p2;
  assert(second);
  release2();
  (await lockBot(locks, "bot-a", 0.05, signal))();
  assertEquals(locks.size, 0);
});

Deno.test("images: the URL from a markdown link or a JSON url field", () => {
  assertEquals(
    imageUrlOf("Here: ![cat](https://s.coze.com/a.png) and [b](https://x/b.png)"),
    "https://s.coze.com/a.png",
  );
  assertEquals(
    imageUrlOf('{"data":[{"url":"https:\\/\\/s.coze.com\\/c.png","w":1}]}'),
    "https://s.coze.com/c.png",
  );
  assertEquals(imageUrlOf('{"url":"https://s/d.png"}'), "https://s/d.png");
  assertEquals(imageUrlOf("I apologize, but I cannot paint that."), undefined);
  assertEquals(
    paintingQuery("a 100% red fox"),
    "Paint on command:\n    style: exquisite, HD\n    prompt: a 100% red fox",
  );
});

Deno.test("renderPrompt: the query chat sends (owner without the system, web SDK whole)", () => {
  const r = req([
    { role: "system", content: "S" },
    { role: "user", content: "u1" },
    { role: "assistant", content: "a1" },
    { role: "user", content: "u2" },
  ]);
  const coze = createCozeProvider(testDeps());
  const web = parseConfig("coze: { mode: web }", "c.yaml").config;
  const ctx = (model: string) => providerContext(coze, model, { config: web });
  assertEquals(
    coze.renderPrompt!(r, ctx("coze")),
    "<|system|>\nS<|end|>\n<|user|>\nu1<|end|>\n<|assistant|>\na1<|end|>\n<|user|>\nu2<|end|>\n<|assistant|>",
  );
  assertEquals(
    coze.renderPrompt!(r, ctx("coze/1-2-4-o")),
    "<|user|>\nu1<|end|>\n<|assistant|>\na1<|end|>\n<|user|>\nu2<|end|>\n<|assistant|>",
  );
  assertEquals(
    coze.renderPrompt!(r, ctx("coze/1-2-1000-w")),
    "<|user|>\nS<|end|>\n<|user|>\nu1<|end|>\n<|assistant|>\na1<|end|>\n<|user|>\nu2<|end|>\n<|assistant|>",
  );
  assertEquals(coze.resolve("coze", web)?.toolMode, "emulated");
  assert(coze.resolve("coze/1-2-3-w", web));
  assert(!coze.resolve("coze-x", web));
});
