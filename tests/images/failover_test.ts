/**
 * `dall-e-3` without a selector through the running gateway: the backends in their documented
 * order, failover on unreachable spaces, 5xx, ZeroGPU quota, a Gradio 5 space asked on 2024
 * paths, no image; a log line per failure; the last error in the answer when all fail (429 when
 * that was the quota); `images.default-backend` and `images.order`; named inputs via `/info`; an
 * abort closes the space's stream.
 */
import OpenAI from "openai";
import { assert, assertEquals, assertRejects, assertStringIncludes } from "../assert.ts";
import { abortedWithin, startGateway } from "../helpers.ts";
import { startFakeSpace } from "../fakes/gradio_spaces.ts";
import { startFakePollinations } from "../fakes/pollinations.ts";
import { fetchImage, generate, inputsOf, spacesFor, withSpaces } from "./helpers.ts";

const QUOTA = "You have exceeded your GPU quota (60s requested vs. 56s left). " +
  '<a href="https://huggingface.co/join">Create a free account</a> to get more usage quota.';

Deno.test("failover: a quota and an app error fail over in order, one log line each", async () => {
  await using t = await withSpaces({
    "flux-dev": { gradio: { quotaError: QUOTA } },
    "sd-3.5-large": { fail: "CUDA out of memory" },
  });
  const res = await generate(t.client("sk-not-a-selector"), { prompt: "a", n: 2 });
  assertEquals(res.data!.length, 2);
  for (const d of res.data!) await fetchImage(t.gw, d.url!);
  const warned = t.gw.logs.filter((l) => l.includes("images: ") && l.includes(" failed ("));
  assertEquals(warned.length, 2, warned.join("\n"));
  assertStringIncludes(warned[0], "flux-dev failed (429)");
  assertStringIncludes(warned[0], "You have exceeded your GPU quota");
  assertStringIncludes(warned[0], "trying sd-3.5-large");
  assertStringIncludes(warned[1], "sd-3.5-large failed (502)");
  assertStringIncludes(warned[1], "CUDA out of memory");
  assertStringIncludes(warned[1], "trying dalle-4k");
  // A failed backend is not asked again for the request's second image.
  assertEquals([t.asked("flux-dev"), t.asked("sd-3.5-large"), t.asked("dalle-4k")], [1, 1, 2]);
});

Deno.test("failover: a Gradio 5 space on un-prefixed paths is a 404 and the next space draws", async () => {
  const five = await startFakeSpace("flux-dev");
  const next = await startFakeSpace("dalle-4k");
  const spaces = spacesFor({ "flux-dev": five, "dalle-4k": next }, {
    "flux-dev": { "api-prefix": "" },
  });
  const gw = await startGateway({ images: { spaces, pollinations: { "legacy-url": false } } });
  try {
    const client = new OpenAI({ baseURL: gw.url, apiKey: "x", maxRetries: 0 });
    const res = await generate(client, { prompt: "a" });
    await fetchImage(gw, res.data![0].url!);
    assertEquals(five.joins.length, 0);
    assert(five.requests.some((r) => r.path === "/queue/join"), "asked the 2024 path");
    assert(gw.logs.some((l) => l.includes("flux-dev failed (404)")), gw.logs.join("\n"));
    assertEquals(next.joins.length, 1);
  } finally {
    await gw.close();
    await five.close();
    await next.close();
  }
});

Deno.test("failover: unreachable spaces and 5xx; when all fail, the last error with a list", async () => {
  const polli = await startFakePollinations({ legacyMoved: true });
  const flux = await startFakeSpace("flux-dev", { gradio: { quotaError: QUOTA } });
  const sd = await startFakeSpace("sd-3.5-large", { gradio: { queueFull: true } });
  const spaces = [
    { name: "gone", root: "http://127.0.0.1:9", fn: 0, data: ["{{prompt}}"] },
    ...spacesFor({ "sd-3.5-large": sd, "flux-dev": flux }),
  ];
  const gw = await startGateway({
    images: {
      spaces,
      order: ["gone", "sd-3.5-large", "pollinations", "flux-dev"],
      pollinations: { "base-url": polli.origin, "legacy-url": polli.origin },
    },
  });
  try {
    const client = new OpenAI({ baseURL: gw.url, apiKey: "x", maxRetries: 0 });
    // The quota was the last error: 429 with the message and Retry-After.
    const err = await assertRejects(() => generate(client, { prompt: "a" }), OpenAI.APIError);
    assertEquals(err.status, 429);
    assertEquals(err.code, "insufficient_quota");
    assertStringIncludes(
      err.message,
      "every image backend failed: gone (502), sd-3.5-large (502), pollinations (502), flux-dev (429)",
    );
    assertStringIncludes(err.message, "the last error: flux-dev upstream refused");
    assertStringIncludes(err.message, "Create a free account to get more usage quota.");
    assert(err.headers?.get("retry-after"), "a Retry-After");
    assertEquals(polli.hits.map((h) => h.host), ["legacy"]);
    for (const name of ["gone", "sd-3.5-large", "pollinations"]) {
      assert(gw.logs.some((l) => l.includes(`images: ${name} failed`)), name);
    }
    // Named alone, the quota is a plain 429.
    const alone = await assertRejects(
      () => generate(client, { model: "flux-dev.dall-e-3", prompt: "a" }),
      OpenAI.RateLimitError,
    );
    assertStringIncludes(alone.message, "You have exceeded your GPU quota");
    assert(!alone.message.includes("every image backend"), alone.message);
  } finally {
    await gw.close();
    await polli.close();
    await flux.close();
    await sd.close();
  }
});

Deno.test("failover: images.default-backend goes first (old values mapped), then the order", async () => {
  await using t = await withSpaces(
    { "sd-3.5-large": { fail: "down" } },
    { "default-backend": "prodia-sd" },
    { server: { password: ["gw-pass"] } },
  );
  assert(
    t.gw.logs.some((l) => l.includes("'images.default-backend: prodia-sd' is now 'sd-3.5-large'")),
  );
  const client = t.client("gw-pass");
  await generate(client, { model: "dall-e-3", prompt: "one" });
  // sd-3.5-large first (and failing), then the list from its start.
  assertEquals([t.asked("sd-3.5-large"), t.asked("flux-dev")], [1, 1]);
  await generate(client, { model: "animagine.dall-e-3", prompt: "two" });
  assertEquals(t.asked("animagine-xl"), 1);
  const denied = await assertRejects(
    () => generate(t.client("sk-dalle-4k"), { prompt: "x" }),
    OpenAI.AuthenticationError,
  );
  assertStringIncludes(denied.message, "password");
});

Deno.test("spaces: inputs by name placed with /info; a disabled space is skipped", async () => {
  await using t = await withSpaces({}, { order: ["flux-dev", "sd-3.5-large"] }, {}, {
    "flux-dev": { enabled: false },
    "sd-3.5-large": {
      data: {
        prompt: "{{prompt}}",
        negative_prompt: "",
        seed: "{{seed}}",
        randomize_seed: false,
        width: "{{width}}",
        height: "{{height}}",
        guidance_scale: 4.5,
        num_inference_steps: 9,
      },
    },
  });
  const res = await generate(t.client("x"), { prompt: "named", size: "512x768" });
  assertEquals(res.data![0].revised_prompt, "named");
  const data = inputsOf(t.spaces["sd-3.5-large"]);
  assertEquals([data[0], data[1], data[4], data[5], data[7]], ["named", "", 512, 768, 9]);
  assertEquals(t.spaces["sd-3.5-large"].infoCalls, 1);
  assertEquals(t.asked("flux-dev"), 0);
  const off = await assertRejects(
    () => generate(t.client("sk-flux-dev"), { prompt: "x" }),
    OpenAI.NotFoundError,
  );
  assertStringIncludes(off.message, "turned off");
});

Deno.test("spaces: a client that leaves closes the space's event stream", async () => {
  await using t = await withSpaces({ "flux-dev": { delayMs: 10_000 } });
  const controller = new AbortController();
  const pending = t.client("sk-flux-dev").images.generate(
    { model: "dall-e-3", prompt: "slow" },
    { signal: controller.signal },
  ).catch((e) => e);
  const space = t.spaces["flux-dev"];
  const started = Date.now();
  while (!space.requests.some((r) => r.path === "/gradio_api/queue/data")) {
    assert(Date.now() - started < 10_000, "the space was never asked");
    await new Promise((r) => setTimeout(r, 10));
  }
  controller.abort();
  await pending;
  const stream = space.requests.find((r) => r.path === "/gradio_api/queue/data")!;
  await abortedWithin(stream, 5000, "the space's event stream to be closed");
});
