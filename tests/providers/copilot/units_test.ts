/**
 * Copilot's pieces without a server: the frame splitter (text cut at every position), the
 * challenge solvers, the send frame and the flattened prompt, the event mapping, the error codes,
 * the per-account pace, the access-token check.
 */
import { assert, assertEquals, assertRejects, assertThrows } from "../../assert.ts";
import { createHash } from "node:crypto";
import { configSchema } from "../../../src/config/schema.ts";
import { chatRequest } from "../../../src/openai/schema.ts";
import { GatewayError } from "../../../src/openai/errors.ts";
import { emptyFlags } from "../../../src/flags/types.ts";
import {
  ChallengeError,
  leadingZeroBits,
  solveArithmetic,
  solveHashcash,
} from "../../../src/providers/copilot/challenge.ts";
import { errorFrame } from "../../../src/providers/copilot/errors.ts";
import { FrameError, JsonObjectSplitter } from "../../../src/providers/copilot/frames.ts";
import { dataImage, imageInputs } from "../../../src/providers/copilot/images.ts";
import { RateLimits } from "../../../src/providers/copilot/limits.ts";
import { copilotMode } from "../../../src/providers/copilot/models.ts";
import { createCopilotProvider, looksLikeAccessToken } from "../../../src/providers/copilot/mod.ts";
import { promptOf, toCopilotRequest } from "../../../src/providers/copilot/request.ts";
import { chatUrl } from "../../../src/providers/copilot/socket.ts";
import { fromCopilotStream } from "../../../src/providers/copilot/stream.ts";
import type { ChatEvent } from "../../../src/core/events.ts";
import { collect } from "../../chunks.ts";
import { providerContext, testDeps } from "../../context.ts";
import { loadTokenizer } from "../../../src/util/tokens.ts";
import { HttpClients, Upstream } from "../../../src/net/http.ts";
import { defaultConfig } from "../../../src/config/mod.ts";

await loadTokenizer();

Deno.test("frames: several objects per frame, an object over frames, text cut at every position", () => {
  const objects = [
    { event: "appendText", text: 'a {brace} and "quotes" \\ and \u00e9 }' },
    { event: "citation", url: "https://x/?q=[1]", nested: { list: [1, { a: "}" }] } },
    { event: "done" },
  ];
  const text = objects.map((o) => JSON.stringify(o)).join("\n") + "\x1e";
  for (let cut = 0; cut <= text.length; cut++) {
    for (const cut2 of [cut, Math.min(text.length, cut + 7)]) {
      const s = new JsonObjectSplitter();
      const got = [
        ...s.push(text.slice(0, cut)),
        ...s.push(text.slice(cut, cut2)),
        ...s.push(text.slice(cut2)),
      ];
      assertEquals(got, objects, `cut at ${cut}/${cut2}`);
      assertEquals(s.pending, false);
    }
  }
  // One character at a time.
  const s = new JsonObjectSplitter();
  const got = [...text].flatMap((c) => s.push(c));
  assertEquals(got, objects);
});

Deno.test("frames: what is not a sequence of objects is refused", () => {
  assertThrows(() => new JsonObjectSplitter().push('{"a":1} x'), FrameError);
  assertThrows(() => new JsonObjectSplitter().push("[1,2]"), FrameError);
  assertThrows(() => new JsonObjectSplitter().push('{"a":}'), FrameError);
  const small = new JsonObjectSplitter(10);
  assertThrows(() => small.push('{"a":"0123456789"'), FrameError);
});

Deno.test("hashcash: the smallest nonce with the leading zero bits", async () => {
  for (const difficulty of [0, 4, 8, 12]) {
    const seed = `seed-${difficulty}`;
    const token = await solveHashcash(`${seed}:${difficulty}`);
    const n = Number(token);
    const ok = (i: number) =>
      leadingZeroBits(createHash("sha256").update(seed + i).digest(), difficulty);
    assert(ok(n));
    for (let i = 0; i < n; i++) assert(!ok(i), `nonce ${i} already had ${difficulty} bits`);
  }
  // A seed with ':' in it: the difficulty is after the last one.
  const t = await solveHashcash("a:b:c:4");
  assert(leadingZeroBits(createHash("sha256").update("a:b:c" + t).digest(), 4));
  await assertRejects(() => solveHashcash("nodifficulty"), ChallengeError);
  await assertRejects(() => solveHashcash("seed:23"), ChallengeError);
  await assertRejects(() => solveHashcash("seed:x"), ChallengeError);
});

Deno.test("arithmetic challenge: (a³/100 + 25a) mod 22 (Python's), rounded half up", () => {
  // Values worked out by hand with Python's semantics.
  assertEquals(solveArithmetic("5"), "16"); // 126.25 mod 22 = 16.25
  assertEquals(solveArithmetic("2"), "6"); // 50.08 mod 22 = 6.08
  assertEquals(solveArithmetic("-3"), "13"); // -75.27 mod 22 = 12.73
  assertEquals(solveArithmetic("10"), "18"); // 260 mod 22 = 18
  assertEquals(solveArithmetic("0.5"), "13"); // 12.50125 -> 13
  assertThrows(() => solveArithmetic("x"), ChallengeError);
  assertThrows(() => solveArithmetic(""), ChallengeError);
});

Deno.test("the send frame: images first, then the text; the chat URL's parameters", () => {
  assertEquals(
    toCopilotRequest({ conversationId: "c1", text: "hi", mode: "smart", images: ["u1"] }),
    {
      event: "send",
      conversationId: "c1",
      content: [{ type: "image", url: "u1" }, { type: "text", text: "hi" }],
      mode: "smart",
      context: {},
    },
  );
  const anon = chatUrl("https://copilot.microsoft.com");
  assertEquals(anon.protocol, "wss:");
  assertEquals(anon.pathname, "/c/api/chat");
  assertEquals(anon.searchParams.get("api-version"), "2");
  assert(/^[0-9a-f-]{36}$/.test(anon.searchParams.get("clientSessionId")!));
  assertEquals(anon.searchParams.has("accessToken"), false);
  const signed = chatUrl("http://127.0.0.1:9", "tok+/=", "google");
  assertEquals(signed.protocol, "ws:");
  assertEquals(signed.searchParams.get("accessToken"), "tok+/=");
  assertEquals(signed.searchParams.get("X-UserIdentityType"), "google");
  assert(signed.href.includes("accessToken=tok%2B%2F%3D"));
});

Deno.test("the prompt: a lone question as written, a conversation as role blocks", () => {
  const provider = createCopilotProvider(testDeps());
  const config = configSchema.parse({});
  const ctx = providerContext(provider, "copilot", { config, flags: emptyFlags() });
  const one = promptOf(
    chatRequest.parse({
      model: "copilot",
      messages: [{ role: "system", content: "Be brief." }, {
        role: "user",
        content: [
          { type: "text", text: "What is this?" },
          { type: "image_url", image_url: { url: "data:image/png;base64,AAAA" } },
        ],
      }],
    }),
    ctx,
  );
  assertEquals(one.text, "Be brief.\n\nWhat is this?");
  assertEquals(one.images, ["data:image/png;base64,AAAA"]);
  assert(one.tokens > 0);
  const many = promptOf(
    chatRequest.parse({
      model: "copilot",
      messages: [
        { role: "user", content: "Hi" },
        { role: "assistant", content: "Hello" },
        { role: "user", content: "How are you?" },
      ],
    }),
    ctx,
  );
  assertEquals(
    many.text,
    "<|user|>\nHi\n<|end|>\n\n<|assistant|>\nHello\n<|end|>\n\n<|user|>\nHow are you?\n<|end|>\n\n<|assistant|>\n",
  );
});

Deno.test("models: copilot ids and the bing aliases", () => {
  assertEquals(
    ["copilot", "copilot-reasoning", "copilot-smart", "bing", "bing-online", "bing-vision"].map(
      copilotMode,
    ),
    ["chat", "reasoning", "smart", "chat", "chat", "chat"],
  );
  assertEquals(copilotMode("copilot-turbo"), undefined);
});

async function events(list: Record<string, unknown>[], done = true): Promise<ChatEvent[]> {
  async function* source() {
    yield* list;
    if (done) yield { event: "done" };
  }
  return await collect(fromCopilotStream(source(), {
    keepImage: (url) => Promise.resolve(`stored:${url}`),
  }));
}

Deno.test("events: text, reasoning, numbered citations, images, skipped acknowledgements", async () => {
  const got = await events([
    { event: "received" },
    { event: "chainOfThought", text: "Thinking." },
    { event: "appendText", text: "Paris is the capital." },
    { event: "citation", url: "https://a.example", title: "A" },
    { event: "appendText", text: " Lyon is big." },
    { event: "citation", url: "https://b.example" },
    { event: "citation", url: "https://a.example", title: "A again" },
    { event: "replaceText", text: " More." },
    { event: "generatingImage", prompt: "a [red] cat" },
    { event: "partialImageGenerated", content: "AAAA" },
    { event: "imageGenerated", url: "https://img/1.png", thumbnailUrl: "https://img/t.png" },
    { event: "titleUpdate", title: "t" },
  ]);
  assertEquals(got, [
    { type: "reasoning", text: "Thinking." },
    { type: "text", text: "Paris is the capital." },
    { type: "text", text: "[1]" },
    { type: "citation", index: 1, url: "https://a.example", title: "A" },
    { type: "text", text: " Lyon is big." },
    { type: "text", text: "[2]" },
    { type: "citation", index: 2, url: "https://b.example" },
    { type: "text", text: "[1]" },
    { type: "text", text: " More." },
    { type: "text", text: "\n\n![a red cat](stored:https://img/1.png)\n\n" },
    { type: "finish", reason: "stop" },
  ]);
  const err = await assertRejects(
    () => events([{ event: "appendText", text: "half" }], false),
    GatewayError,
  );
  assertEquals(err.status, 502);
  assert(err.message.includes("without its 'done' event"));
});

Deno.test("error codes: region (anonymous 403, signed in 503), invalid-event 502, others", () => {
  const region = errorFrame({ event: "error", errorCode: "chat-service-unavailable" }, {
    signedIn: false,
    answered: false,
  });
  assertEquals([region.status, region.code], [403, "region_unavailable"]);
  assert(region.message.includes("copilot.access-tokens") && region.message.includes("proxy"));
  const signed = errorFrame({ event: "error", errorCode: "chat-service-unavailable" }, {
    signedIn: true,
    answered: false,
  });
  assertEquals(signed.status, 503);
  const invalid = errorFrame({ event: "error", errorCode: "invalid-event" }, {
    signedIn: false,
    answered: true,
  });
  assertEquals(invalid.status, 502);
  assert(invalid.message.includes("after the challenge answer"));
  assertEquals(
    errorFrame({ errorCode: "user-throttled" }, { signedIn: true, answered: false })
      .status,
    429,
  );
  assertEquals(
    errorFrame({ errorCode: "unauthorized" }, { signedIn: true, answered: false }).status,
    401,
  );
  const other = errorFrame({ errorCode: "boom", message: "went wrong" }, {
    signedIn: true,
    answered: false,
  });
  assertEquals(other.status, 502);
  assert(other.message.includes("boom: went wrong"));
});

Deno.test("pace: a burst, then one slot per 60/rpm seconds; a long wait is a 429", async () => {
  const limits = new RateLimits();
  const t0 = 1_000_000;
  assertEquals([0, 1, 2, 3].map(() => limits.take("a", 12, 4, t0)), [0, 0, 0, 0]);
  assertEquals(limits.take("a", 12, 4, t0), 5000);
  assertEquals(limits.take("a", 12, 4, t0 + 5000), 0);
  assertEquals(limits.take("b", 0, 1, t0), 0, "rpm 0 is no limit");
  const slow = new RateLimits();
  await slow.acquire("anon", 1, 1);
  const err = await assertRejects(() => slow.acquire("anon", 1, 1), GatewayError);
  assertEquals(err.status, 429);
  assert(err.retryAfter! > 50 && err.retryAfter! <= 60);
});

Deno.test("access tokens are told from placeholder keys", () => {
  const jwt = `eyJ${"a".repeat(40)}.${"b".repeat(80)}.${"c".repeat(40)}`;
  assert(looksLikeAccessToken(jwt));
  assert(looksLikeAccessToken(`EwA${"x".repeat(150)}`));
  assert(!looksLikeAccessToken("sk-placeholder"));
  assert(!looksLikeAccessToken("gw-pass"));
  assert(!looksLikeAccessToken(`eyJ${"a".repeat(200)}`));
});

Deno.test("image input: base64 data URLs of image types; web URLs through the guard", async () => {
  const png = dataImage("data:image/png;base64,iVBORw0KGgo=");
  assertEquals(png.type, "image/png");
  assertEquals(png.bytes.length, 8);
  assertThrows(() => dataImage("data:text/plain;base64,aGk="), GatewayError);
  assertThrows(() => dataImage("data:image/png,raw"), GatewayError);
  const http = new Upstream({
    provider: "copilot",
    config: defaultConfig(),
    signal: new AbortController().signal,
    clients: new HttpClients(),
  });
  // Loopback is no public address: refused by the guard before anything is fetched.
  const err = await assertRejects(
    () => imageInputs(["http://127.0.0.1:9/cat.png"], http),
    GatewayError,
  );
  assertEquals([err.status, err.code], [400, "url_refused"]);
  await assertRejects(
    () => imageInputs(Array(9).fill("data:image/png;base64,AA=="), http),
    GatewayError,
  );
});
