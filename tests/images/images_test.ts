/**
 * Image generation on gradio spaces through the running gateway with the official `openai`
 * client's `images.generate`: every default space (Gradio 5 queue and `/call`, Gradio 4 queue,
 * Gradio 3 websocket) by its selector, the original's retired selectors, explicit model ids,
 * styles, samplers, sizes, `n`, `b64_json`, the prompt-to-tags LLM, up-scaling, errors and the
 * file route.
 */
import OpenAI from "openai";
import {
  assert,
  assertEquals,
  assertMatch,
  assertRejects,
  assertStringIncludes,
} from "../assert.ts";
import { jpegBytes, pngBytes, SPACE_KINDS, type SpaceKind } from "../fakes/gradio_spaces.ts";
import { startFakeBigjpg } from "../fakes/bigjpg.ts";
import { startFakeOpenAi } from "../fakes/openai.ts";
import { fetchImage, generate, inputsOf, NEGATIVE, withSpaces } from "./helpers.ts";

const SELECTORS: Record<SpaceKind, string> = {
  "flux-dev": "sk-flux-dev",
  "sd-3.5-large": "sk-sd-3.5-large",
  "dalle-4k": "sk-dalle-4k",
  "dalle-3-xl": "sk-dalle-3-xl",
  "animagine-xl": "sk-animagine-xl-3.1",
  "google-xl": "sk-google-xl",
};

Deno.test("images: every default space by its sk- selector, image stored and served", async () => {
  await using t = await withSpaces();
  for (const kind of SPACE_KINDS) {
    const res = await generate(t.client(SELECTORS[kind]), {
      model: "dall-e-3",
      prompt: "a red fox",
    });
    assert(Math.abs(res.created - Date.now() / 1000) < 60);
    assertEquals(res.data!.length, 1, kind);
    const item = res.data![0];
    const img = await fetchImage(t.gw, item.url!);
    assertEquals(img.status, 200);
    const jpeg = kind === "google-xl";
    assertEquals(img.type, jpeg ? "image/jpeg" : "image/png", kind);
    assertEquals(img.bytes, jpeg ? jpegBytes() : pngBytes(), kind);
    assertMatch(item.url!, /\/file\/\d{4}\/\d{2}\/\d{2}\/[A-Za-z0-9]+\.(png|jpg)$/);
    const inputs = inputsOf(t.spaces[kind]);
    assertStringIncludes(String(inputs[0]), "a red fox");
    assertEquals(item.revised_prompt, inputs[0], kind);
    // Only this space was asked, once; the later ones not yet.
    for (const other of SPACE_KINDS) {
      const expected = SPACE_KINDS.indexOf(other) <= SPACE_KINDS.indexOf(kind) ? 1 : 0;
      assertEquals(t.asked(other), expected, other);
    }
  }
  // FLUX.1-dev: Gradio 5, the queue under /gradio_api with fn 2 and trigger 4, typed inputs.
  const flux = t.spaces["flux-dev"];
  assertEquals(flux.requests.filter((r) => r.path === "/gradio_api/queue/join").length, 1);
  const join = flux.joins[0].body;
  assertEquals([join.fn_index, join.trigger_id], [2, 4]);
  const [, seed, randomize, width, height, guidance, steps] = join.data as unknown[];
  assert(Number.isInteger(seed) && (seed as number) >= 0 && (seed as number) < 2 ** 31);
  assertEquals([randomize, width, height, guidance, steps], [false, 1024, 1024, 3.5, 28]);
  assert(flux.requests.some((r) => r.path.startsWith("/gradio_api/file=")), "file under prefix");
  assertEquals(flux.configCalls, 1);
  // SD 3.5 Large: the simple REST route.
  const sd = t.spaces["sd-3.5-large"];
  assertEquals(sd.calls[0].apiName, "infer");
  assertEquals((sd.calls[0].body.data as unknown[]).slice(1), [
    NEGATIVE,
    (sd.calls[0].body.data as unknown[])[2],
    false,
    1024,
    1024,
    4.5,
    28,
  ]);
  // Gradio 4 spaces: un-prefixed queue, the original's fn/trigger pairs and inputs.
  const fnOf = (
    k: SpaceKind,
  ) => [t.spaces[k].joins[0].body.fn_index, t.spaces[k].joins[0].body.trigger_id];
  assertEquals(fnOf("dalle-4k"), [3, 6]);
  assertEquals(fnOf("dalle-3-xl"), [3, 6]);
  assertEquals(fnOf("animagine-xl"), [5, 49]);
  assert(t.spaces["dalle-4k"].requests.some((r) => r.path === "/queue/join"));
  assertEquals(inputsOf(t.spaces["animagine-xl"]).length, 15);
  assertEquals(inputsOf(t.spaces["animagine-xl"])[7], "Euler a");
  assertEquals(
    inputsOf(t.spaces["dalle-3-xl"])[1],
    `${NEGATIVE}, extra limb, missing limb, floating limbs, (mutated hands and fingers:1.4), disconnected limbs, mutation, mutated, ugly, disgusting, blurry, amputation`,
  );
  assertEquals(
    inputsOf(t.spaces["dalle-3-xl"])[0],
    "a red fox, {{{{by famous artist}}}, beautiful, 4k",
  );
  // Gradio 3: the websocket handshake with fn 2.
  assertEquals(t.spaces["google-xl"].socketMessages[0].fn_index, 2);
  assertEquals(inputsOf(t.spaces["google-xl"])[2], 25);
});

Deno.test("images: the original's selectors and ids keep working, retired ones mapped with one warning", async () => {
  await using t = await withSpaces();
  // sk-prodia-sd: the prodia spaces are gone; SD 3.5 Large draws instead.
  for (const key of ["sk-prodia-sd", "sk-prodia-sd"]) {
    const res = await generate(t.client(key), { model: "dall-e-3", prompt: "a castle" });
    assertEquals(res.data!.length, 1);
  }
  assertEquals(t.spaces["sd-3.5-large"].calls.length, 2);
  const notices = t.gw.logs.filter((l) => l.includes("'prodia-sd' is retired"));
  assertEquals(notices.length, 1, "one warning, not one per request");
  assertStringIncludes(notices[0], "sd-3.5-large");
  // xl.dall-e-3 (prodia-xl) draws on FLUX.1-dev; short aliases as before.
  await generate(t.client("sk-anything"), { model: "xl.dall-e-3", prompt: "x" });
  assertEquals(t.spaces["flux-dev"].joins.length, 1);
  await generate(t.client("sk-anything"), { model: "google.dall-e-3", prompt: "x" });
  await generate(t.client("sk-anything"), { model: "animagine.dall-e-3", prompt: "x" });
  await generate(t.client("sk-anything"), { model: "4k.dall-e-3", prompt: "x" });
  assertEquals([t.asked("google-xl"), t.asked("animagine-xl"), t.asked("dalle-4k")], [1, 1, 1]);
  // /v1/models lists today's names.
  const models = (await (await fetch(`${t.gw.url}/models`)).json()).data.map((m: { id: string }) =>
    m.id
  );
  for (const id of ["dall-e-3", "flux-dev.dall-e-3", "sd-3.5-large.dall-e-3"]) {
    assert(models.includes(id), id);
  }
  assert(!models.includes("playground.dall-e-3"), "playground is off by default");
  // Backends that cannot draw here are not listed: Pollinations without a key or its anonymous
  // host (legacy-url: false in this config), coze without coze.images and a token.
  assert(!models.includes("pollinations.dall-e-3"), "pollinations cannot draw");
  assert(!models.includes("coze.dall-e-3"), "coze cannot draw");
});

Deno.test("images: styles, samplers, sizes, n and b64_json", async () => {
  await using t = await withSpaces();
  const client = t.client("sk-anything-else");
  const res = await generate(client, {
    model: "animagine-xl.dall-e-3",
    prompt: "a castle",
    n: 3,
    style: "Anime",
    quality: "DDIM",
  });
  assertEquals(res.data!.length, 3);
  assertEquals(new Set(res.data!.map((d) => d.url)).size, 3);
  assertEquals(t.spaces["animagine-xl"].joins.length, 3);
  const inputs = inputsOf(t.spaces["animagine-xl"]);
  assertEquals([inputs[9], inputs[7]], ["Anime", "DDIM"]);
  // Each image its own seed.
  const seeds = t.spaces["animagine-xl"].joins.map((j) => (j.body.data as unknown[])[2]);
  assertEquals(new Set(seeds).size, 3);

  const g = await generate(client, {
    model: "google.dall-e-3",
    prompt: "a cat",
    style: "Anime",
    response_format: "b64_json",
  });
  const b64 = g.data![0].b64_json!;
  assertEquals(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)), jpegBytes());
  assertEquals(g.data![0].url, undefined);
  assertEquals(inputsOf(t.spaces["google-xl"])[3], "Anime");

  // An unknown style picks one of the space's own presets.
  await generate(client, { model: "dalle-4k.dall-e-3", prompt: "a city", style: "vivid" });
  const style = inputsOf(t.spaces["dalle-4k"])[3] as string;
  assert(
    ["3840 x 2160", "2560 x 1440", "Photo", "Cinematic", "Anime", "3D Model", "(No style)"]
      .includes(style),
  );

  // The size goes to the spaces that take one, clamped to 256..2048.
  await generate(client, { model: "flux-dev.dall-e-3", prompt: "wide", size: "1792x1024" });
  await generate(client, { model: "flux-dev.dall-e-3", prompt: "huge", size: "4096x100" });
  const sizes = t.spaces["flux-dev"].joins.map((j) => (j.body.data as unknown[]).slice(3, 5));
  assertEquals(sizes, [[1792, 1024], [2048, 256]]);

  // The README's route spellings answer too.
  for (
    const path of [
      "/v1/chat/generations",
      "/v1/object/generations",
      "/proxies/v1/images/generations",
    ]
  ) {
    const r = await fetch(`${t.gw.origin}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer sk-dalle-3-xl" },
      body: JSON.stringify({ prompt: "x" }),
    });
    assertEquals(r.status, 200, path);
    const body = await r.json();
    assertEquals(Object.keys(body).sort(), ["created", "data"]);
    assertEquals(Object.keys(body.data[0]).sort(), ["revised_prompt", "url"]);
  }
});

Deno.test("images: the prompt-to-tags LLM writes keywords or phrases per space; <tag /> skips it", async () => {
  const llm = await startFakeOpenAi({ keys: ["sk-llm-key-1234567890"] });
  llm.respond = (body) => ({
    text: String(body.messages[0].content as string).includes("text-to-image")
      ? 'Here:\n"""\nfox in snow | cinematic\n"""'
      : 'prompt=\n"""\nred fox, {{snow}}, masterpiece\n"""',
  });
  await using t = await withSpaces({}, { llm: { model: "up/gpt-4o-mini" } }, {
    "custom-llm": [{
      prefix: "up",
      "base-url": llm.baseUrl,
      "api-key": ["sk-llm-key-1234567890"],
      models: ["gpt-4o-mini"],
    }],
  });
  try {
    // animagine-xl wants keywords.
    const res = await generate(t.client("sk-animagine-xl"), { prompt: "a fox in the snow" });
    assertEquals(res.data![0].revised_prompt, "red fox, {{snow}}, masterpiece");
    assertEquals(inputsOf(t.spaces["animagine-xl"])[0], res.data![0].revised_prompt);
    const asked = llm.chatBodies()[0];
    assertEquals(asked.model, "gpt-4o-mini");
    assertStringIncludes(
      String((asked.messages as { content: string }[])[0].content),
      "a fox in the snow",
    );
    // dalle-3-xl wants phrases, and adds its decoration words.
    const d = await generate(t.client("sk-dalle-3-xl"), { prompt: "fox" });
    assertEquals(
      d.data![0].revised_prompt,
      "fox in snow | cinematic, {{{{by famous artist}}}, beautiful, 4k",
    );
    // <tag /> skips the LLM; <tag content=".." /> adds literal keywords.
    const before = llm.chatBodies().length;
    const skipped = await generate(t.client("sk-animagine-xl"), {
      prompt: '<tag content="oil painting" /> <tag /> exactly this',
    });
    assertEquals(llm.chatBodies().length, before);
    assertEquals(skipped.data![0].revised_prompt, "oil painting, exactly this");
    // An answer without the fences is a clear error, and no other space is tried for it.
    llm.respond = () => ({ text: "I cannot help with that." });
    const err = await assertRejects(
      () => generate(t.client("sk-none"), { prompt: "something" }),
      OpenAI.APIError,
    );
    assertEquals(err.status, 502);
    assertStringIncludes(err.message, "prompt-to-tags");
    assertStringIncludes(err.message, "I cannot help with that.");
    assertEquals(t.asked("sd-3.5-large"), 0);
  } finally {
    await llm.close();
  }
});

Deno.test("images: the tags LLM through images.llm.base-url (an OpenAI-compatible root)", async () => {
  const llm = await startFakeOpenAi({ keys: ["sk-llm-key-1234567890"] });
  llm.respond = () => ({ text: '"""\nblue whale, ocean\n"""' });
  await using t = await withSpaces({}, {
    llm: { model: "gpt-4o-mini", "base-url": llm.baseUrl, token: "sk-llm-key-1234567890" },
  });
  try {
    const res = await generate(t.client("sk-google-xl"), { prompt: "a whale" });
    assertStringIncludes(res.data![0].revised_prompt!, "blue whale, ocean");
    const req = llm.requests.find((r) => r.path === "/v1/chat/completions")!;
    assertEquals(req.headers.get("authorization"), "Bearer sk-llm-key-1234567890");
    const body = req.json as { stream: boolean; model: string; max_tokens: number };
    assertEquals([body.stream, body.model, body.max_tokens], [false, "gpt-4o-mini", 1024]);
  } finally {
    await llm.close();
  }
});

Deno.test("images: HD sizes are up-scaled through bigjpg; a failing key is skipped", async () => {
  const big = await startFakeBigjpg({ keys: { "dead-key-0000000": 5, "good-key-1111111": 5 } });
  await using t = await withSpaces({}, {
    magnify: ["bad-key-9999999", "good-key-1111111"],
    "bigjpg-url": big.origin,
    "magnify-poll": 0.05,
  });
  try {
    const res = await generate(t.client("sk-dalle-4k"), { prompt: "hd", size: "1792x1024" });
    const img = await fetchImage(t.gw, res.data![0].url!);
    assertEquals(img.type, "image/jpeg");
    assertEquals(img.bytes, jpegBytes());
    const task = [...big.tasks.values()][0];
    assertMatch(task.input, new RegExp(`^${t.gw.origin}/file/.+\\.png$`));
    assertEquals(task.fetched, pngBytes().length);
    const keysTried = big.requests.filter((r) => r.method === "POST").map((r) =>
      r.headers.get("x-api-key")
    );
    assertEquals(keysTried, ["bad-key-9999999", "good-key-1111111"]);
    const before = big.requests.length;
    await generate(t.client("sk-dalle-4k"), { prompt: "normal", size: "1024x1024" });
    assertEquals(big.requests.length, before);
  } finally {
    await big.close();
  }
});

Deno.test("images: bad prompts, sizes and models are 400/404 and bother no backend", async () => {
  await using t = await withSpaces();
  const client = t.client("sk-dalle-4k");
  const empty = await assertRejects(() => generate(client, { prompt: "" }), OpenAI.BadRequestError);
  assertEquals(empty.param, "prompt");
  await assertRejects(() => generate(client, { prompt: "   " }), OpenAI.BadRequestError);
  const onlyMarker = await assertRejects(
    () => generate(t.client("sk-none"), { prompt: "<tag />" }),
    OpenAI.BadRequestError,
  );
  assertStringIncludes(onlyMarker.message, "empty");
  const size = await assertRejects(
    () => generate(client, { prompt: "x", size: "big" }),
    OpenAI.BadRequestError,
  );
  assertEquals(size.param, "size");
  await assertRejects(() => generate(client, { prompt: "x", n: 11 }), OpenAI.BadRequestError);
  await assertRejects(
    () => generate(client, { prompt: "x", response_format: "png" }),
    OpenAI.BadRequestError,
  );
  const model = await assertRejects(
    () => generate(client, { model: "gpt-image-1", prompt: "x" }),
    OpenAI.NotFoundError,
  );
  assertStringIncludes(model.message, "flux-dev.dall-e-3");
  await assertRejects(
    () => generate(client, { model: "nope.dall-e-3", prompt: "x" }),
    OpenAI.NotFoundError,
  );
  const off = await assertRejects(
    () => generate(client, { model: "pg.dall-e-3", prompt: "x" }),
    OpenAI.NotFoundError,
  );
  assertStringIncludes(off.message, "images.playground.enabled");
  for (const k of SPACE_KINDS) assertEquals(t.asked(k), 0, k);
});

Deno.test("images: a named space's errors, timeouts, oversize and non-image answers are clear", async () => {
  await using t = await withSpaces({
    "flux-dev": { fail: "NSFW content detected. Try again with a different prompt." },
    "dalle-4k": { delayMs: 2500 },
    "animagine-xl": { image: () => pngBytes(4000) },
    "dalle-3-xl": { image: () => new TextEncoder().encode("<html>error page</html>") },
    "google-xl": { gradio: { queueFull: true } },
    "sd-3.5-large": { noImage: true },
  }, { timeout: 1, "max-size": 0.002 });
  const fail = (key: string) =>
    assertRejects(() => generate(t.client(key), { prompt: "x" }), OpenAI.APIError);
  const e1 = await fail("sk-flux-dev");
  assertEquals(e1.status, 502);
  assertStringIncludes(e1.message, "NSFW content detected");
  const e2 = await fail("sk-dalle-4k");
  assertEquals(e2.status, 504);
  assertStringIncludes(e2.message, "images.timeout");
  const e3 = await fail("sk-animagine-xl");
  assertEquals(e3.status, 502);
  assertStringIncludes(e3.message, "images.max-size");
  const e4 = await fail("sk-dalle-3-xl");
  assertEquals(e4.status, 502);
  assertStringIncludes(e4.message, "not an image");
  const e5 = await fail("sk-google-xl");
  assertEquals(e5.status, 503);
  assertStringIncludes(e5.message, "queue is full");
  const e6 = await fail("sk-sd-3.5-large");
  assertEquals(e6.status, 502);
  assertStringIncludes(e6.message, "no image at '0'");
  // A named backend is tried alone.
  assertEquals(t.asked("sd-3.5-large"), 1);
  assertEquals(t.asked("flux-dev"), 1);
});

Deno.test("images: /file serves only stored images; server.domain builds the URLs", async () => {
  await using t = await withSpaces({}, {}, { server: { domain: "https://img.example.com/" } });
  const res = await generate(t.client("sk-dalle-4k"), { prompt: "x" });
  const url = res.data![0].url!;
  assert(url.startsWith("https://img.example.com/file/"), url);
  const local = url.replace("https://img.example.com", t.gw.origin);
  const ok = await fetch(local);
  assertEquals(ok.headers.get("content-type"), "image/png");
  assertEquals(ok.headers.get("content-length"), String(pngBytes().length));
  await ok.body?.cancel();
  for (
    const bad of [
      "/file/2026/01/01/nothere.png",
      "/file/../config.yaml",
      "/file/%2e%2e/config.yaml",
      "/file/config.yaml",
    ]
  ) {
    const r = await fetch(`${t.gw.origin}${bad}`);
    assertEquals(r.status, 404, bad);
    const body = await r.json();
    assertEquals(typeof body.error.message, "string");
  }
});
