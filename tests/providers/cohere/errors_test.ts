/**
 * Cohere failures through the gateway with the `openai` client: each error class (Cohere's
 * `{message, id}` bodies with honest statuses), the key pool (429 rests a key and the next serves;
 * 401/498 rest it an hour with the masked key in the log; all resting is a 429 saying when the
 * first returns), and the event-stream check.
 */
import OpenAI from "openai";
import { assert, assertEquals, assertMatch, assertRejects } from "../../assert.ts";
import { startFakeCohere } from "../../fakes/cohere.ts";
import { serveFake } from "../../fakes/serve.ts";
import { startGateway } from "../../helpers.ts";
import { KEY, setup } from "./_setup.ts";

const msg = [{ role: "user" as const, content: "hi" }];
const POOL = ["co-pool-key-aaaaaaaaaaaa1", "co-pool-key-bbbbbbbbbbbb2"];

Deno.test("cohere errors: 400, 422, 429, 499, 500, 503, 504 become OpenAI errors", async () => {
  await using t = await setup();
  // deno-lint-ignore no-explicit-any
  const cases: [number, new (...a: any[]) => InstanceType<typeof OpenAI.APIError>, number][] = [
    [400, OpenAI.BadRequestError, 400],
    [422, OpenAI.BadRequestError, 400],
    [429, OpenAI.RateLimitError, 429],
    [499, OpenAI.InternalServerError, 502],
    [500, OpenAI.InternalServerError, 502],
    [503, OpenAI.InternalServerError, 502],
    [504, OpenAI.APIError, 504],
  ];
  for (const [status, type, want] of cases) {
    t.fake.respond = () => ({ error: { status, message: `cohere says ${status}` } });
    for (const stream of [false, true]) {
      const err = await assertRejects(
        () =>
          t.client.chat.completions.create({ model: "command-r-08-2024", messages: msg, stream }),
        type,
      );
      assertEquals(err.status, want);
      // Cohere's words and its request id (`{message, id}`).
      assertMatch(
        err.message,
        new RegExp(
          `cohere upstream answered ${status}: cohere says ${status} \\(request id [0-9a-f-]{36}\\)`,
        ),
      );
    }
  }
  // The API's own refusals: an unknown model, a request it does not take.
  t.fake.respond = () => ({ text: "unused" });
  const unknown = await assertRejects(
    () => t.client.chat.completions.create({ model: "command-xyz", messages: msg }),
    OpenAI.NotFoundError,
  );
  assertMatch(unknown.message, /model 'command-xyz' not found/);
  assertEquals(unknown.status, 404);
  // Out of Cohere's range: clamped (one policy for every provider), never sent to earn a 400.
  const clamped = await t.client.chat.completions.create({
    model: "command-r-08-2024",
    messages: msg,
    // @ts-expect-error: top_k is not in OpenAI's types but clients send it.
    top_k: 900,
  });
  assertEquals(clamped.choices[0].message.content, "unused");
  assertEquals(t.fake.bodies().at(-1)!.k, 500);
  // top_p 1 is within what Cohere takes once clamped.
  const ok = await t.client.chat.completions.create({
    model: "command-r-08-2024",
    messages: msg,
    top_p: 1,
  });
  assertEquals(ok.choices[0].message.content, "unused");
});

Deno.test("cohere errors: a wrong client key is a 401, masked", async () => {
  const wrong = "co-wrong-key-zzzzzzzzzzzz";
  await using t = await setup({ clientKey: wrong });
  const err = await assertRejects(
    () => t.client.chat.completions.create({ model: "command-r-08-2024", messages: msg }),
    OpenAI.AuthenticationError,
  );
  assertMatch(err.message, /invalid api token/);
  assert(!err.message.includes(wrong));
  assert(!t.gw.logs.join("\n").includes(wrong));
});

Deno.test("cohere pool: 429 rests a key and the next serves; then all rest with a 429 and a time", async () => {
  await using t = await setup({ pool: POOL, keys: POOL, cohere: { cooldown: 5 } });
  const used: string[] = [];
  t.fake.respond = (_b, rec) => {
    const key = rec.headers.get("authorization")!.slice(7);
    used.push(key);
    return key === POOL[0]
      ? {
        error: {
          status: 429,
          message: "You are using a Trial key, which is limited to 20 API calls / minute.",
        },
      }
      : { text: "from b" };
  };
  let content: string | null = null;
  for (let i = 0; i < 2 && !used.includes(POOL[0]); i++) {
    content =
      (await t.client.chat.completions.create({ model: "command-r-08-2024", messages: msg }))
        .choices[0]
        .message.content;
  }
  assertEquals(content, "from b");
  assertMatch(t.gw.logs.join("\n"), /pool cohere: account co-poo…aa1 set aside for 5s/);
  t.fake.respond = () => ({ error: { status: 429, message: "Trial key limit" } });
  await assertRejects(
    () => t.client.chat.completions.create({ model: "command-r-08-2024", messages: msg }),
    OpenAI.RateLimitError,
  );
  const resting = await assertRejects(
    () => t.client.chat.completions.create({ model: "command-r-08-2024", messages: msg }),
    OpenAI.RateLimitError,
  );
  assertMatch(
    resting.message,
    /every cohere account is cooling down \(2 set aside\); the first is ready again in [1-5]s/,
  );
  for (const k of POOL) assert(!t.gw.logs.join("\n").includes(k));
});

Deno.test("cohere pool: 401 and 498 rest a key an hour, the next serves", async () => {
  for (const status of [401, 498]) {
    await using t = await setup({ pool: POOL, keys: POOL });
    const used: string[] = [];
    t.fake.respond = (_b, rec) => {
      const key = rec.headers.get("authorization")!.slice(7);
      used.push(key);
      return key === POOL[0] ? { error: { status, message: "invalid api token" } } : { text: "ok" };
    };
    for (let i = 0; i < 3; i++) {
      const res = await t.client.chat.completions.create({
        model: "command-r-08-2024",
        messages: msg,
      });
      assertEquals(res.choices[0].message.content, "ok");
    }
    assertEquals(used.filter((k) => k === POOL[0]).length, 1);
    assertMatch(t.gw.logs.join("\n"), /pool cohere: account co-poo…aa1 set aside for 3600s/);
  }
});

Deno.test("cohere: a 498 for the client's own key is a 401", async () => {
  await using t = await setup();
  t.fake.respond = () => ({ error: { status: 498, message: "invalid token" } });
  const err = await assertRejects(
    () => t.client.chat.completions.create({ model: "command-r-08-2024", messages: msg }),
    OpenAI.AuthenticationError,
  );
  assertMatch(err.message, /498: invalid token/);
});

Deno.test("cohere: a 200 that is not an event stream is a 502 quoting its start", async () => {
  // A proxy or captive portal in front of the API answers with a page.
  const page = await serveFake(() =>
    new Response("<html><body>Please sign in to the network</body></html>", {
      headers: { "content-type": "text/html; charset=utf-8" },
    })
  );
  const gw = await startGateway({ cohere: { "base-url": page.origin } });
  try {
    const client = new OpenAI({ baseURL: gw.url, apiKey: KEY, maxRetries: 0 });
    for (const stream of [false, true]) {
      const err = await assertRejects(
        () => client.chat.completions.create({ model: "command-r-08-2024", messages: msg, stream }),
        OpenAI.InternalServerError,
      );
      assertEquals(err.status, 502);
      assertMatch(
        err.message,
        /expected text\/event-stream but got text\/html; charset=utf-8 \(status 200\): <html><body>Please sign in/,
      );
    }
    assertEquals(page.requests.length, 2);
  } finally {
    await gw.close();
    await page.close();
  }
});

Deno.test("cohere pool: a placeholder client key never displaces cohere.keys; a key of Cohere's shape does; none is a 401 naming the key", async () => {
  const fake = await startFakeCohere({ keys: [...POOL, KEY] });
  const gw = await startGateway({ cohere: { "base-url": fake.origin, keys: [POOL[0]] } });
  const bare = await startGateway({ cohere: { "base-url": fake.origin } });
  try {
    const ask = (url: string, apiKey: string) =>
      new OpenAI({ baseURL: url, apiKey, maxRetries: 0 }).chat.completions.create({
        model: "command-a-03-2025",
        messages: msg,
      });
    await ask(gw.url, "sk-placeholder-from-a-client");
    assertEquals(fake.requests.at(-1)!.headers.get("authorization"), `Bearer ${POOL[0]}`);
    await ask(gw.url, KEY);
    assertEquals(fake.requests.at(-1)!.headers.get("authorization"), `Bearer ${KEY}`);
    // Without keys in config and without a client key (the openai client insists on one: a
    // request through fetch carries none).
    const res = await fetch(`${bare.url}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "command-a-03-2025", messages: msg }),
    });
    assertEquals(res.status, 401);
    assertEquals(
      (await res.json()).error.message,
      "no cohere credential: set cohere.keys in config.yaml, or send your own key as " +
        "'Authorization: Bearer …'",
    );
  } finally {
    await gw.close();
    await bare.close();
    await fake.close();
  }
});
