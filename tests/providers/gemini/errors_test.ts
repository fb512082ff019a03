/**
 * Gemini failures through the gateway with the `openai` client: every error class before the
 * stream, errors inside the stream, and the key pool (429 rests a key for the upstream's retry
 * delay and retries the next; 401/403 rest it an hour with the masked key in the log; all keys
 * resting is a 429 saying when the first returns).
 */
import OpenAI from "openai";
import {
  assert,
  assertEquals,
  assertMatch,
  assertRejects,
  assertStringIncludes,
} from "../../assert.ts";
import { startFakeGemini } from "../../fakes/gemini.ts";
import { serveFake } from "../../fakes/serve.ts";
import { startGateway } from "../../helpers.ts";
import { KEY, setup } from "./_setup.ts";

const msg = [{ role: "user" as const, content: "hi" }];
const POOL = [
  "AIzaSyPoolKeyAAAAAAAAAAAAAAAAAAAAAAAAAA1",
  "AIzaSyPoolKeyBBBBBBBBBBBBBBBBBBBBBBBBBB2",
];

Deno.test("gemini errors: 400, 403, 404, 500, 503 become OpenAI errors with honest statuses", async () => {
  await using t = await setup();
  const cases: [
    Record<string, unknown>,
    // deno-lint-ignore no-explicit-any
    new (...a: any[]) => InstanceType<typeof OpenAI.APIError>,
    number,
    RegExp,
  ][] = [
    [
      { code: 400, status: "INVALID_ARGUMENT", message: "Request contains an invalid argument." },
      OpenAI.BadRequestError,
      400,
      /answered 400 INVALID_ARGUMENT: Request contains an invalid argument/,
    ],
    [
      { code: 403, status: "PERMISSION_DENIED", message: "The caller does not have permission" },
      OpenAI.PermissionDeniedError,
      403,
      /403 PERMISSION_DENIED: The caller does not have permission/,
    ],
    [
      { code: 500, status: "INTERNAL", message: "An internal error has occurred." },
      OpenAI.InternalServerError,
      502,
      /500 INTERNAL: An internal error has occurred/,
    ],
    [
      {
        code: 503,
        status: "UNAVAILABLE",
        message: "The model is overloaded. Please try again later.",
      },
      OpenAI.InternalServerError,
      502,
      /503 UNAVAILABLE: The model is overloaded/,
    ],
  ];
  for (const [error, type, status, re] of cases) {
    t.fake.respond = () => ({ error: error as never });
    for (const stream of [false, true]) {
      const err = await assertRejects(
        () =>
          t.client.chat.completions.create({ model: "gemini-2.0-flash", messages: msg, stream }),
        type,
      );
      assertEquals(err.status, status);
      assertMatch(err.message, re);
    }
  }
  // A model Gemini does not have: its 404 passes through.
  const notFound = await assertRejects(
    () => t.client.chat.completions.create({ model: "gemini-9-nonexistent", messages: msg }),
    OpenAI.NotFoundError,
  );
  assertMatch(notFound.message, /models\/gemini-9-nonexistent is not found/);
  // More stop sequences than Gemini's 5: the first 5 go upstream (the gateway applies them all
  // to the answer), never sent to earn Gemini's 400.
  t.fake.respond = () => ({ text: "unused" });
  const cut = await t.client.chat.completions.create({
    model: "gemini-2.0-flash",
    messages: msg,
    stop: ["a", "b", "c", "d", "e", "f"],
  });
  assertEquals(cut.choices[0].finish_reason, "stop");
  assertEquals(t.fake.bodies().at(-1)!.generationConfig?.stopSequences, ["a", "b", "c", "d", "e"]);
});

Deno.test("gemini errors: a wrong client key is a 401, masked everywhere", async () => {
  const wrong = "AIzaSyWrongKeyWrongKeyWrongKeyWrong999";
  await using t = await setup({ clientKey: wrong });
  const err = await assertRejects(
    () => t.client.chat.completions.create({ model: "gemini-2.0-flash", messages: msg }),
    OpenAI.AuthenticationError,
  );
  assertMatch(err.message, /API key not valid/);
  assert(!err.message.includes(wrong));
  assert(!t.gw.logs.join("\n").includes(wrong));
  assertEquals(t.fake.requests.at(-1)!.headers.get("x-goog-api-key"), wrong);
});

Deno.test("gemini errors: an error inside the stream ends it with an error event and [DONE]", async () => {
  await using t = await setup();
  t.fake.respond = () => ({
    text: "partial answer here",
    pieceSize: 4,
    streamError: { after: 2, code: 500, status: "INTERNAL", message: "Stream broke." },
  });
  const stream = await t.client.chat.completions.create({
    model: "gemini-2.0-flash",
    messages: msg,
    stream: true,
  });
  const texts: string[] = [];
  const err = await assertRejects(async () => {
    for await (const chunk of stream) texts.push(chunk.choices[0]?.delta.content ?? "");
  }, OpenAI.APIError);
  assertMatch(err.message, /500 INTERNAL: Stream broke/);
  assertEquals(texts.join(""), "partial ");
  // The raw bytes: the error object, then [DONE].
  const raw = await fetch(`${t.gw.url}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${KEY}` },
    body: JSON.stringify({ model: "gemini-2.0-flash", messages: msg, stream: true }),
  });
  const text = await raw.text();
  assertMatch(
    text,
    /data: \{"error":\{"message":"gemini upstream answered 500 INTERNAL: Stream broke\.[^\n]*\n\ndata: \[DONE\]\n\n$/,
  );
  // Before the first chunk, a stream error is the response status instead (here a 429 in the
  // stream, as Gemini sends quota errors there too).
  t.fake.respond = () => ({
    text: "never",
    streamError: { after: 0, code: 429, status: "RESOURCE_EXHAUSTED", message: "Quota exceeded." },
  });
  const early = await assertRejects(
    () =>
      t.client.chat.completions.create({ model: "gemini-2.0-flash", messages: msg, stream: true }),
    OpenAI.RateLimitError,
  );
  assertMatch(early.message, /Quota exceeded/);
});

Deno.test("gemini errors: no key anywhere is a 401 that says how to send one", async () => {
  await using t = await setup({ pool: [] });
  const err = await assertRejects(
    () => t.client.chat.completions.create({ model: "gemini-2.0-flash", messages: msg }),
    OpenAI.AuthenticationError,
  );
  assertMatch(err.message, /^401 no gemini credential: set gemini\.keys in config\.yaml/);
  assertEquals(t.fake.requests.length, 0);
});

Deno.test("gemini pool: a placeholder client key never displaces gemini.keys; an AIza… key does", async () => {
  const fake = await startFakeGemini({ keys: [...POOL, KEY] });
  const gw = await startGateway({ gemini: { "base-url": fake.origin, keys: [POOL[0]] } });
  try {
    const ask = (apiKey: string) =>
      new OpenAI({ baseURL: gw.url, apiKey, maxRetries: 0 }).chat.completions.create({
        model: "gemini-2.0-flash",
        messages: msg,
      });
    await ask("sk-placeholder-from-a-client");
    assertEquals(fake.requests.at(-1)!.headers.get("x-goog-api-key"), POOL[0]);
    await ask(KEY);
    assertEquals(fake.requests.at(-1)!.headers.get("x-goog-api-key"), KEY);
  } finally {
    await gw.close();
    await fake.close();
  }
});

Deno.test("gemini pool: keys rotate and a 429 rests a key for the retry delay, then all rest", async () => {
  await using t = await setup({ pool: POOL, fake: { keys: POOL } });
  const used: string[] = [];
  t.fake.respond = (_b, rec) => {
    used.push(rec.headers.get("x-goog-api-key")!);
    return { text: "ok" };
  };
  await t.client.chat.completions.create({ model: "gemini-2.0-flash", messages: msg });
  await t.client.chat.completions.create({ model: "gemini-2.0-flash", messages: msg });
  assertEquals(new Set(used).size, 2, "round-robin over both keys");

  // The first key tried answers 429 with a retry delay: the request is retried on the other.
  used.length = 0;
  t.fake.respond = (_b, rec) => {
    const key = rec.headers.get("x-goog-api-key")!;
    used.push(key);
    return key === POOL[0]
      ? {
        error: {
          code: 429,
          status: "RESOURCE_EXHAUSTED",
          message: "Quota exceeded.",
          retryDelay: "7s",
        },
      }
      : { text: "from the second key" };
  };
  // Make sure key 0 is tried first by resting nothing and asking until it was used.
  let res: OpenAI.Chat.ChatCompletion | undefined;
  for (let i = 0; i < 2 && !used.includes(POOL[0]); i++) {
    res = await t.client.chat.completions.create({ model: "gemini-2.0-flash", messages: msg });
  }
  assert(used.includes(POOL[0]));
  assertEquals(res!.choices[0].message.content, "from the second key");
  const log = t.gw.logs.join("\n");
  assertMatch(log, /pool gemini: account AIzaSy…AA1 set aside for 7s/);
  for (const k of POOL) assert(!log.includes(k), "a full key in the log");

  // Now the second key rests too: the client learns when the first comes back.
  t.fake.respond = () => ({
    error: {
      code: 429,
      status: "RESOURCE_EXHAUSTED",
      message: "Quota exceeded.",
      retryDelay: "30s",
    },
  });
  const first = await assertRejects(
    () => t.client.chat.completions.create({ model: "gemini-2.0-flash", messages: msg }),
    OpenAI.RateLimitError,
  );
  assertMatch(first.message, /Quota exceeded/);
  const resting = await assertRejects(
    () => t.client.chat.completions.create({ model: "gemini-2.0-flash", messages: msg }),
    OpenAI.RateLimitError,
  );
  assertMatch(
    resting.message,
    /every gemini account is cooling down \(2 set aside\); the first is ready again in [1-7]s/,
  );
  const after = Number(resting.headers.get("retry-after"));
  assert(after >= 1 && after <= 7, `retry-after ${after}`);
  const state = await (await fetch(`${t.gw.origin}/v1/pool`, {
    headers: { authorization: "Bearer gateway-pass" },
  })).json();
  const text = JSON.stringify(state);
  assertMatch(text, /AIzaSy…AA1/);
  for (const k of POOL) assert(!text.includes(k));
});

Deno.test("gemini pool: a refused key (401 or 403) rests an hour and the next key serves", async () => {
  for (const refusal of ["invalid", "forbidden"] as const) {
    await using t = await setup({ pool: POOL, fake: { keys: POOL } });
    const used: string[] = [];
    t.fake.respond = (_b, rec) => {
      const key = rec.headers.get("x-goog-api-key")!;
      used.push(key);
      if (key !== POOL[0]) return { text: "served" };
      return refusal === "invalid"
        ? {
          error: {
            code: 400,
            status: "INVALID_ARGUMENT",
            message: "API key not valid. Please pass a valid API key.",
            reason: "API_KEY_INVALID",
          },
        }
        : {
          error: {
            code: 403,
            status: "PERMISSION_DENIED",
            message: "Permission denied: Consumer has been suspended.",
          },
        };
    };
    for (let i = 0; i < 3; i++) {
      const res = await t.client.chat.completions.create({
        model: "gemini-2.0-flash",
        messages: msg,
        stream: i === 1,
      });
      if (i !== 1) {
        assertEquals((res as OpenAI.Chat.ChatCompletion).choices[0].message.content, "served");
      } else for await (const _ of res as AsyncIterable<unknown>) { /* drain */ }
    }
    assertEquals(used.filter((k) => k === POOL[0]).length, 1, "the refused key is tried once");
    const log = t.gw.logs.join("\n");
    assertMatch(log, /pool gemini: account AIzaSy…AA1 set aside for 3600s/);
    assert(!log.includes(POOL[0]));
  }
});

Deno.test("gemini pool: a 503 on one key is retried on the next", async () => {
  await using t = await setup({ pool: POOL, fake: { keys: POOL } });
  const used: string[] = [];
  t.fake.respond = (_b, rec) => {
    const key = rec.headers.get("x-goog-api-key")!;
    used.push(key);
    return used.length === 1
      ? { error: { code: 503, status: "UNAVAILABLE", message: "The model is overloaded." } }
      : { text: "second try" };
  };
  const stream = await t.client.chat.completions.create({
    model: "gemini-2.0-flash",
    messages: msg,
    stream: true,
  });
  let text = "";
  for await (const c of stream) text += c.choices[0]?.delta.content ?? "";
  assertEquals(text, "second try");
  assertEquals(new Set(used).size, 2);
});

Deno.test("gemini errors: a 200 page instead of the API is a 502 quoting its start", async () => {
  // A proxy or captive portal in front of the API answers with a page.
  const page = await serveFake(() =>
    new Response("<html><body>Please sign in to the network</body></html>", {
      headers: { "content-type": "text/html; charset=utf-8" },
    })
  );
  const gw = await startGateway({ gemini: { "base-url": page.origin } });
  try {
    const client = new OpenAI({ baseURL: gw.url, apiKey: KEY, maxRetries: 0 });
    const cases: [boolean, RegExp][] = [
      [false, /status 200 with a body that is not JSON \(text\/html; charset=utf-8\): <html>/],
      [
        true,
        /expected text\/event-stream but got text\/html; charset=utf-8 \(status 200\): <html><body>Please sign in/,
      ],
    ];
    for (const [stream, re] of cases) {
      const err = await assertRejects(
        () => client.chat.completions.create({ model: "gemini-2.0-flash", messages: msg, stream }),
        OpenAI.InternalServerError,
      );
      assertEquals(err.status, 502);
      assertMatch(err.message, re);
    }
    assertEquals(page.requests.length, 2);
  } finally {
    await gw.close();
    await page.close();
  }
});

Deno.test("gemini errors: an error body that never ends is read only up to a cap", async () => {
  const chunk = new TextEncoder().encode("<p>overloaded</p>".repeat(64));
  const endless = await serveFake(() =>
    new Response(
      new ReadableStream<Uint8Array>({ pull: (c) => c.enqueue(chunk) }),
      { status: 503, headers: { "content-type": "text/html" } },
    )
  );
  const gw = await startGateway({ gemini: { "base-url": endless.origin } });
  try {
    // A generous timeout: without the cap the gateway would read forever.
    const client = new OpenAI({ baseURL: gw.url, apiKey: KEY, maxRetries: 0, timeout: 30_000 });
    const err = await assertRejects(
      () => client.chat.completions.create({ model: "gemini-2.0-flash", messages: msg }),
      OpenAI.InternalServerError,
    );
    assertEquals(err.status, 502);
    assertMatch(err.message, /gemini upstream answered 503: <p>overloaded<\/p><p>overloaded/);
  } finally {
    await gw.close();
    await endless.close();
  }
});

Deno.test("gemini: a data: URL with broken escapes and a model id with a lone surrogate are 400/404, never a URIError 500 (fuzz finding)", async () => {
  await using t = await setup({ pool: [KEY] });
  const post = (body: unknown) =>
    fetch(`${t.gw.origin}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer gateway-pass" },
      body: JSON.stringify(body),
    });
  const image = await post({
    model: "gemini-2.0-flash",
    messages: [{
      role: "user",
      content: [{ type: "image_url", image_url: { url: "data:image/png,%E0%A4%A" } }],
    }],
  });
  assertEquals(image.status, 400);
  const e1 = (await image.json()).error;
  assertEquals(e1.param, "messages[0].content");
  assertStringIncludes(e1.message, "percent-escape");
  const model = await post({
    model: "gemini-2.0-flash\uD800",
    messages: [{ role: "user", content: "hi" }],
  });
  assert(model.status === 400 || model.status === 404, `status ${model.status}`);
  assertEquals(typeof (await model.json()).error.message, "string");
});
