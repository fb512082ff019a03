/**
 * Image generation through the running gateway with the official `openai` client's
 * `images.generate`, against fake gradio spaces (HTTP queue and gradio 3 websocket), a fake
 * playground, a fake bigjpg and the fake OpenAI API as the prompt-to-tags LLM.
 */
import OpenAI from "openai";
import {
  assert,
  assertEquals,
  assertMatch,
  assertRejects,
  assertStringIncludes,
} from "../assert.ts";
import { startGateway, type TestGateway } from "../helpers.ts";
import {
  type FakeGradio,
  type FakeSpaceOptions,
  jpegBytes,
  pngBytes,
  type SpaceKind,
  startFakeSpace,
} from "../fakes/gradio.ts";
import { startFakePlayground } from "../fakes/playground.ts";
import { startFakeBigjpg } from "../fakes/bigjpg.ts";
import { startFakeOpenAi } from "../fakes/openai.ts";

const KINDS: SpaceKind[] = [
  "prodia-sd",
  "prodia-xl",
  "dalle-4k",
  "dalle-3-xl",
  "animagine-xl",
  "google-xl",
];

const NEGATIVE = "(deformed eyes, nose, ears, nose, leg, head), bad anatomy, ugly";

type Params = Record<string, unknown>;

/** `images.generate` with any body (the SDK's types only know OpenAI's own values). */
function generate(client: OpenAI, body: Params) {
  return client.images.generate(body as unknown as OpenAI.Images.ImageGenerateParamsNonStreaming);
}

async function withSpaces(
  options: Partial<Record<SpaceKind, FakeSpaceOptions>> = {},
  images: Params = {},
  extra: Params = {},
) {
  const spaces = {} as Record<SpaceKind, FakeGradio>;
  for (const k of KINDS) spaces[k] = await startFakeSpace(k, options[k]);
  const section: Params = { ...images };
  for (const k of KINDS) {
    section[k] = { "base-url": spaces[k].origin, ...(images[k] as Params | undefined) };
  }
  const gw = await startGateway({ images: section, ...extra });
  return {
    spaces,
    gw,
    client: (apiKey: string) => new OpenAI({ baseURL: gw.url, apiKey, maxRetries: 0 }),
    async [Symbol.asyncDispose]() {
      await gw.close();
      for (const s of Object.values(spaces)) await s.close();
    },
  };
}

/** The inputs a space received (HTTP join data, or the websocket's data message). */
function inputsOf(space: FakeGradio, i = 0): unknown[] {
  if (space.options.websocket) {
    return space.socketMessages.filter((m) => "data" in m)[i].data as unknown[];
  }
  return space.joins[i].body.data as unknown[];
}

async function fetchImage(gw: TestGateway, url: string) {
  assert(url.startsWith(`${gw.origin}/file/`), `not a gateway URL: ${url}`);
  const res = await fetch(url);
  return {
    status: res.status,
    type: res.headers.get("content-type"),
    bytes: new Uint8Array(await res.arrayBuffer()),
  };
}

Deno.test("images: every gradio space by its sk- token, image stored and served", async () => {
  await using t = await withSpaces();
  const tokens: Record<SpaceKind, string> = {
    "prodia-sd": "sk-prodia-sd",
    "prodia-xl": "sk-prodia-xl",
    "dalle-4k": "sk-dalle-4k",
    "dalle-3-xl": "sk-dalle-3-xl",
    "animagine-xl": "sk-animagine-xl-3.1",
    "google-xl": "sk-google-xl",
  };
  for (const kind of KINDS) {
    const res = await generate(t.client(tokens[kind]), { model: "dall-e-3", prompt: "a red fox" });
    assert(Math.abs(res.created - Date.now() / 1000) < 60);
    assertEquals(res.data!.length, 1, kind);
    const item = res.data![0];
    const img = await fetchImage(t.gw, item.url!);
    assertEquals(img.status, 200);
    const jpeg = kind === "google-xl";
    assertEquals(img.type, jpeg ? "image/jpeg" : "image/png", kind);
    assertEquals(img.bytes, jpeg ? jpegBytes() : pngBytes(), kind);
    assertMatch(item.url!, /\/file\/\d{4}\/\d{2}\/\d{2}\/[A-Za-z0-9]+\.(png|jpg)$/);
    // The space got its own input list with the default negative prompt.
    const inputs = inputsOf(t.spaces[kind]);
    assertStringIncludes(String(inputs[0]), "a red fox");
    assertStringIncludes(String(inputs[1]), NEGATIVE);
    assertEquals(item.revised_prompt, inputs[0]);
    // Only this space was asked, once; the later ones not yet.
    const asked = (k: SpaceKind) =>
      t.spaces[k].joins.length + t.spaces[k].socketMessages.filter((m) => "data" in m).length;
    for (const other of KINDS) {
      assertEquals(asked(other), KINDS.indexOf(other) <= KINDS.indexOf(kind) ? 1 : 0, other);
    }
  }
  // fn_index / trigger_id of each HTTP space.
  const fnOf = (
    k: SpaceKind,
  ) => [t.spaces[k].joins[0].body.fn_index, t.spaces[k].joins[0].body.trigger_id];
  assertEquals(fnOf("prodia-sd"), [0, 15]);
  assertEquals(fnOf("dalle-4k"), [3, 6]);
  assertEquals(fnOf("dalle-3-xl"), [3, 6]);
  assertEquals(fnOf("animagine-xl"), [5, 49]);
  assertEquals(t.spaces["prodia-xl"].socketMessages[0].fn_index, 0);
  assertEquals(t.spaces["google-xl"].socketMessages[0].fn_index, 2);
  // Input shapes the spaces need.
  const sd = inputsOf(t.spaces["prodia-sd"]);
  assertEquals(sd.slice(3), [25, "Euler a", 10, 1024, 1024, -1]);
  assertEquals(inputsOf(t.spaces["animagine-xl"]).length, 15);
  assertEquals(
    inputsOf(t.spaces["dalle-3-xl"])[1],
    `${NEGATIVE}, extra limb, missing limb, floating limbs, (mutated hands and fingers:1.4), disconnected limbs, mutation, mutated, ugly, disgusting, blurry, amputation`,
  );
  assertEquals(inputsOf(t.spaces["google-xl"])[2], 25);
});

Deno.test("images: explicit <backend>.dall-e-3 ids, styles, samplers, n and b64_json", async () => {
  await using t = await withSpaces();
  const client = t.client("sk-anything-else");
  const res = await generate(client, {
    model: "sd.dall-e-3",
    prompt: "a castle",
    n: 3,
    style: "dreamshaper_8.safetensors [9d40847d]",
    quality: "DDIM",
  });
  assertEquals(res.data!.length, 3);
  assertEquals(new Set(res.data!.map((d) => d.url)).size, 3);
  assertEquals(t.spaces["prodia-sd"].joins.length, 3);
  const inputs = inputsOf(t.spaces["prodia-sd"]);
  assertEquals(inputs[2], "dreamshaper_8.safetensors [9d40847d]");
  assertEquals(inputs[4], "DDIM");

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
      headers: { "content-type": "application/json", authorization: "Bearer sk-prodia-xl" },
      body: JSON.stringify({ prompt: "x" }),
    });
    assertEquals(r.status, 200, path);
    const body = await r.json();
    assertEquals(Object.keys(body).sort(), ["created", "data"]);
    assertEquals(Object.keys(body.data[0]).sort(), ["revised_prompt", "url"]);
  }
});

Deno.test("images: the prompt-to-tags LLM is any model of this server; <tag /> skips it", async () => {
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
    const client = t.client("sk-prodia-sd");
    const res = await generate(client, { prompt: "a fox in the snow" });
    assertEquals(
      res.data![0].revised_prompt,
      "red fox, {{snow}}, masterpiece, {{{{by famous artist}}}, beautiful, 4k",
    );
    assertEquals(inputsOf(t.spaces["prodia-sd"])[0], res.data![0].revised_prompt);
    const asked = llm.chatBodies()[0];
    assertEquals(asked.model, "gpt-4o-mini");
    assertStringIncludes(
      String((asked.messages as { content: string }[])[0].content),
      "a fox in the snow",
    );

    // dalle spaces ask for phrases instead of keywords.
    await generate(t.client("sk-dalle-4k"), { prompt: "fox" });
    assertEquals(inputsOf(t.spaces["dalle-4k"])[0], "fox in snow | cinematic");

    // <tag /> skips the LLM; <tag content=".." /> adds literal keywords.
    const before = llm.chatBodies().length;
    const skipped = await generate(client, {
      prompt: '<tag content="oil painting" /> <tag /> exactly this',
    });
    assertEquals(llm.chatBodies().length, before);
    assertEquals(
      skipped.data![0].revised_prompt,
      "oil painting, exactly this, {{{{by famous artist}}}, beautiful, 4k",
    );

    // An answer without the fences is a clear error.
    llm.respond = () => ({ text: "I cannot help with that." });
    const err = await assertRejects(
      () => generate(client, { prompt: "something" }),
      OpenAI.APIError,
    );
    assertEquals(err.status, 502);
    assertStringIncludes(err.message, "prompt-to-tags");
    assertStringIncludes(err.message, "I cannot help with that.");
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
    const body = req.json as {
      stream: boolean;
      model: string;
      temperature: number;
      max_tokens: number;
      messages: { role: string; content: string }[];
    };
    assertEquals(body.stream, false);
    assertEquals([body.model, body.temperature, body.max_tokens], ["gpt-4o-mini", 0.8, 1024]);
    assertEquals(body.messages.length, 1);
    assertEquals(body.messages[0].role, "user");
    assertStringIncludes(body.messages[0].content, "a whale");
  } finally {
    await llm.close();
  }
});

Deno.test("images: playground by session token, its pool, limit and bad session", async () => {
  const token = "abcdefgh-1234-5678-9abc-def012345678";
  const pooled = "zyxwvuts-1234-5678-9abc-def012345678";
  const pg = await startFakePlayground({ sessions: [token, pooled], dailyLimit: 2 });
  const gw = await startGateway({
    images: { playground: { "base-url": pg.origin, tokens: [pooled] } },
  });
  try {
    const client = new OpenAI({ baseURL: gw.url, apiKey: token, maxRetries: 0 });
    const res = await generate(client, {
      model: "dall-e-3",
      prompt: "a lighthouse",
      style: "watercolor",
    });
    const img = await fetchImage(gw, res.data![0].url!);
    assertEquals(img.type, "image/jpeg");
    assertEquals(img.bytes, jpegBytes());
    assertEquals(res.data![0].revised_prompt, "a lighthouse");
    const job = pg.jobs[0];
    assertEquals(job.prompt, "a lighthouse");
    assertEquals(job.dream_booth_model, "watercolor");
    assertEquals(job.negativePrompt, NEGATIVE);
    assertEquals([job.width, job.height, job.sampler, job.steps], [1024, 1024, 9, 30]);
    const sent = pg.requests[0].headers;
    assertEquals(sent.get("cookie"), `__Secure-next-auth.session-token=${token}`);
    assertMatch(sent.get("x-forwarded-for")!, /^\d+\.\d+\.\d+\.\d+$/);

    // The limit: one more image fits, the next is refused as a rate limit.
    await generate(client, { prompt: "again" });
    const limited = await assertRejects(
      () => generate(client, { prompt: "third" }),
      OpenAI.RateLimitError,
    );
    assertStringIncludes(limited.message, "DAILY_LIMIT_REACHED");

    // pg.dall-e-3 without a token of the client uses the configured pool.
    const anon = new OpenAI({ baseURL: gw.url, apiKey: "sk-none", maxRetries: 0 });
    await generate(anon, { model: "pg.dall-e-3", prompt: "pooled" });
    assertEquals(
      pg.requests.at(-1)!.headers.get("cookie"),
      `__Secure-next-auth.session-token=${pooled}`,
    );

    // An unknown session is an authentication error.
    const stranger = new OpenAI({
      baseURL: gw.url,
      apiKey: "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
      maxRetries: 0,
    });
    const denied = await assertRejects(
      () => generate(stranger, { prompt: "x" }),
      OpenAI.AuthenticationError,
    );
    assertStringIncludes(denied.message, "Please sign in");
  } finally {
    await gw.close();
    await pg.close();
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
    const res = await generate(t.client("sk-prodia-sd"), { prompt: "hd", size: "1792x1024" });
    const img = await fetchImage(t.gw, res.data![0].url!);
    assertEquals(img.type, "image/jpeg");
    assertEquals(img.bytes, jpegBytes());
    // bigjpg fetched the stored original from this server.
    const task = [...big.tasks.values()][0];
    assertMatch(task.input, new RegExp(`^${t.gw.origin}/file/.+\\.png$`));
    assertEquals(task.fetched, pngBytes().length);
    const keysTried = big.requests.filter((r) => r.method === "POST").map((r) =>
      r.headers.get("x-api-key")
    );
    assertEquals(keysTried, ["bad-key-9999999", "good-key-1111111"]);
    const body = big.requests.find((r) =>
      r.method === "POST" && r.headers.get("x-api-key") === "good-key-1111111"
    )!.json;
    assertEquals(body, { style: "art", noise: "3", x2: "1", input: task.input });

    // Not HD: no up-scaling.
    const before = big.requests.length;
    await generate(t.client("sk-prodia-sd"), { prompt: "normal", size: "1024x1024" });
    assertEquals(big.requests.length, before);
  } finally {
    await big.close();
  }
});

Deno.test("images: when every bigjpg key fails, the original image is answered", async () => {
  const big = await startFakeBigjpg({ keys: { "spent-key-000000": 0 } });
  await using t = await withSpaces({}, {
    magnify: ["spent-key-000000"],
    "bigjpg-url": big.origin,
    "magnify-poll": 0.05,
  });
  try {
    const res = await generate(t.client("sk-prodia-xl"), { prompt: "hd", size: "HD" });
    const img = await fetchImage(t.gw, res.data![0].url!);
    assertEquals(img.type, "image/png");
    assert(t.gw.logs.some((l) => l.includes("up-scaling failed") && l.includes("no_api_calls")));
    assert(!t.gw.logs.some((l) => l.includes("spent-key-000000")), "a key leaked into the logs");
  } finally {
    await big.close();
  }
});

Deno.test("images: bad prompts, sizes and models are 400/404", async () => {
  await using t = await withSpaces();
  const client = t.client("sk-prodia-sd");
  const empty = await assertRejects(() => generate(client, { prompt: "" }), OpenAI.BadRequestError);
  assertEquals(empty.param, "prompt");
  await assertRejects(() => generate(client, { prompt: "   " }), OpenAI.BadRequestError);
  const onlyMarker = await assertRejects(
    () => generate(client, { prompt: "<tag />" }),
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
  assertStringIncludes(model.message, "sd.dall-e-3");
  await assertRejects(
    () => generate(client, { model: "nope.dall-e-3", prompt: "x" }),
    OpenAI.NotFoundError,
  );
  // No space was bothered.
  assertEquals(t.spaces["prodia-sd"].joins.length, 0);
});

Deno.test("images: backend errors, timeouts, oversize and non-image answers are clear", async () => {
  await using t = await withSpaces({
    "prodia-sd": { fail: "NSFW content detected. Try again with a different prompt." },
    "dalle-4k": { delayMs: 2500 },
    "animagine-xl": { image: () => pngBytes(4000) },
    "dalle-3-xl": { image: () => new TextEncoder().encode("<html>error page</html>") },
    "google-xl": { gradio: { queueFull: true } },
  }, { timeout: 1, "max-size": 0.002 });
  const e1 = await assertRejects(
    () => generate(t.client("sk-prodia-sd"), { prompt: "x" }),
    OpenAI.APIError,
  );
  assertEquals(e1.status, 502);
  assertStringIncludes(e1.message, "NSFW content detected");

  const e2 = await assertRejects(
    () => generate(t.client("sk-dalle-4k"), { prompt: "x" }),
    OpenAI.APIError,
  );
  assertEquals(e2.status, 504);
  assertStringIncludes(e2.message, "images.timeout");

  const e3 = await assertRejects(
    () => generate(t.client("sk-animagine-xl-3.1"), { prompt: "x" }),
    OpenAI.APIError,
  );
  assertEquals(e3.status, 502);
  assertStringIncludes(e3.message, "images.max-size");

  const e4 = await assertRejects(
    () => generate(t.client("sk-dalle-3-xl"), { prompt: "x" }),
    OpenAI.APIError,
  );
  assertEquals(e4.status, 502);
  assertStringIncludes(e4.message, "not an image");

  const e5 = await assertRejects(
    () => generate(t.client("sk-google-xl"), { prompt: "x" }),
    OpenAI.APIError,
  );
  assertEquals(e5.status, 503);
  assertStringIncludes(e5.message, "queue is full");
});

Deno.test("images: /file serves only stored images; server.domain builds the URLs", async () => {
  await using t = await withSpaces({}, {}, { server: { domain: "https://img.example.com/" } });
  const res = await generate(t.client("sk-prodia-sd"), { prompt: "x" });
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

Deno.test("images: behind server.password, model ids and images.default-backend choose", async () => {
  await using t = await withSpaces({}, { "default-backend": "dalle-3-xl" }, {
    server: { password: ["gw-pass"] },
  });
  const client = t.client("gw-pass");
  await generate(client, { model: "dall-e-3", prompt: "one" });
  assertEquals(t.spaces["dalle-3-xl"].joins.length, 1);
  await generate(client, { model: "animagine.dall-e-3", prompt: "two" });
  assertEquals(t.spaces["animagine-xl"].joins.length, 1);
  const denied = await assertRejects(
    () => generate(t.client("sk-prodia-sd"), { prompt: "x" }),
    OpenAI.AuthenticationError,
  );
  assertStringIncludes(denied.message, "password");
});
