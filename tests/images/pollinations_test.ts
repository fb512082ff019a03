/**
 * Pollinations as an image backend through the running gateway with the `openai` client: the
 * keyed gateway with the configured key or the client's, `model` / `size` / `n` mapped to its
 * query, placeholder images and non-images refused, errors with honest statuses, and the
 * anonymous legacy host as a fallback without a key.
 */
import OpenAI from "openai";
import { assert, assertEquals, assertRejects, assertStringIncludes } from "../assert.ts";
import { startGateway } from "../helpers.ts";
import { jpegBytes } from "../fakes/gradio_spaces.ts";
import { type FakePollinationsOptions, startFakePollinations } from "../fakes/pollinations.ts";
import { fetchImage, generate } from "./helpers.ts";

const SECRET = "sk_configured0123456789";
const CLIENT_KEY = "sk_clientkey9876543210";
const PUBLISHABLE = "pk_browserkey000000000";

async function setup(pollinations: Record<string, unknown>, fake: FakePollinationsOptions = {}) {
  const polli = await startFakePollinations({
    keys: { [SECRET]: 100, [CLIENT_KEY]: 100, [PUBLISHABLE]: 100, "sk_brokekey0000000000": 0 },
    ...fake,
  });
  const gw = await startGateway({
    images: {
      spaces: [],
      pollinations: { "base-url": polli.origin, "legacy-url": polli.origin, ...pollinations },
    },
  });
  return {
    polli,
    gw,
    client: (apiKey: string) => new OpenAI({ baseURL: gw.url, apiKey, maxRetries: 0 }),
    async [Symbol.asyncDispose]() {
      await gw.close();
      await polli.close();
    },
  };
}

Deno.test("pollinations: the configured key, model and size; n images with their own seeds", async () => {
  await using t = await setup({ key: SECRET, model: "turbo" });
  const res = await generate(t.client("whatever"), {
    model: "dall-e-3",
    prompt: "a lighthouse at dusk, 100% calm",
    size: "1792x1024",
    n: 3,
  });
  assertEquals(res.data!.length, 3);
  for (const d of res.data!) {
    const img = await fetchImage(t.gw, d.url!);
    assertEquals([img.type, img.bytes], ["image/jpeg", jpegBytes()]);
    assertEquals(d.revised_prompt, "a lighthouse at dusk, 100% calm");
  }
  assertEquals(t.polli.hits.length, 3);
  const hit = t.polli.hits[0];
  assertEquals(hit.host, "gen");
  assertEquals(hit.prompt, "a lighthouse at dusk, 100% calm");
  assertEquals(hit.key, SECRET);
  const q = hit.query;
  assertEquals(
    [q.get("model"), q.get("width"), q.get("height"), q.get("nologo"), q.get("private")],
    ["turbo", "1792", "1024", "true", "true"],
  );
  assertEquals(t.polli.requests[0].headers.get("authorization"), `Bearer ${SECRET}`);
  assertEquals(new Set(t.polli.hits.map((h) => h.query.get("seed"))).size, 3);
  // The key never appears in the URL.
  assert(!t.polli.requests.some((r) => r.query.has("key")));
});

Deno.test("pollinations: the client's sk_/pk_ key selects it; pollinations/<model>; errors", async () => {
  await using t = await setup({}, { blockWord: "forbidden" });
  // A client key picks Pollinations with that key.
  const res = await generate(t.client(CLIENT_KEY), { model: "dall-e-3", prompt: "a fox" });
  await fetchImage(t.gw, res.data![0].url!);
  assertEquals(t.polli.hits.at(-1)!.key, CLIENT_KEY);
  await generate(t.client(CLIENT_KEY), { model: "pollinations/gptimage", prompt: "a fox" });
  assertEquals(t.polli.hits.at(-1)!.query.get("model"), "gptimage");

  // An unknown model: the service's 400 with its message.
  const bad = await assertRejects(
    () => generate(t.client(CLIENT_KEY), { model: "pollinations/nonesuch", prompt: "x" }),
    OpenAI.BadRequestError,
  );
  assertStringIncludes(bad.message, "Something was wrong with the input data");
  // A placeholder image (x-error-type) is a failure, not an image.
  const placeholder = await assertRejects(
    () => generate(t.client(CLIENT_KEY), { prompt: "a forbidden thing" }),
    OpenAI.APIError,
  );
  assertEquals(placeholder.status, 502);
  assertStringIncludes(placeholder.message, "x-error-type: content_filter");
  // No Pollen left: 429 insufficient_quota.
  const broke = await assertRejects(
    () => generate(t.client("sk_brokekey0000000000"), { prompt: "x" }),
    OpenAI.RateLimitError,
  );
  assertEquals(broke.code, "insufficient_quota");
  assertStringIncludes(broke.message, "Insufficient Pollen balance");
  // A publishable key past its burst of 3: the service's 429.
  for (let i = 0; i < 3; i++) await generate(t.client(PUBLISHABLE), { prompt: `p${i}` });
  const limited = await assertRejects(
    () => generate(t.client(PUBLISHABLE), { prompt: "p4" }),
    OpenAI.RateLimitError,
  );
  assertStringIncludes(limited.message, "Rate Limit Exceeded");
  // An unknown key: 401 with the service's message.
  const stranger = "sk_unknownkey55555555";
  const denied = await assertRejects(
    () => generate(t.client(stranger), { model: "pollinations.dall-e-3", prompt: "x" }),
    OpenAI.AuthenticationError,
  );
  assertStringIncludes(denied.message, "You need to authenticate");
});

Deno.test("pollinations: without a key, the anonymous legacy host; its 'moved' page is a failure", async () => {
  {
    await using t = await setup({});
    const res = await generate(t.client("sk-none"), {
      model: "pollinations.dall-e-3",
      prompt: "cat",
    });
    await fetchImage(t.gw, res.data![0].url!);
    assertEquals(t.polli.hits.map((h) => [h.host, h.prompt]), [["legacy", "cat"]]);
    assertEquals(t.polli.requests[0].headers.get("authorization"), null);
  }
  {
    await using t = await setup({}, { legacyMoved: true });
    const err = await assertRejects(
      () => generate(t.client("sk-none"), { model: "pollinations.dall-e-3", prompt: "cat" }),
      OpenAI.APIError,
    );
    assertEquals(err.status, 502);
    assertStringIncludes(err.message, "text/html");
    assertStringIncludes(err.message, "WE HAVE MOVED");
  }
  {
    await using t = await setup({ "legacy-url": false });
    const err = await assertRejects(
      () => generate(t.client("sk-none"), { model: "pollinations.dall-e-3", prompt: "cat" }),
      OpenAI.AuthenticationError,
    );
    assertStringIncludes(err.message, "images.pollinations.key");
    assertEquals(t.polli.hits.length, 0);
  }
});

Deno.test("pollinations: with a key it comes first in the default order; a long prompt is cut", async () => {
  await using t = await setup({ key: SECRET });
  const long = "word ".repeat(2000);
  const res = await generate(t.client("anything"), { prompt: long });
  assertEquals(res.data!.length, 1);
  const url = t.polli.requests[0];
  assert(url.path.length + url.query.toString().length < 4096, "the URL fits");
  assert(t.polli.hits[0].prompt.startsWith("word word"));
});
