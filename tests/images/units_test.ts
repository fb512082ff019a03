/**
 * The pieces of image generation on their own: backend selection, the tags answer parser, the
 * store's type sniffing, caps and age limit.
 */
import { assert, assertEquals, assertRejects } from "../assert.ts";
import { selectBackend, SPACES } from "../../src/images/backends.ts";
import { extractTags, promptToTags } from "../../src/images/tags.ts";
import { ImageStore, sniffImage } from "../../src/images/store.ts";
import { defaultConfig } from "../../src/config/mod.ts";
import { GatewayError } from "../../src/openai/errors.ts";
import { jpegBytes, pngBytes } from "../fakes/gradio_spaces.ts";

Deno.test("selectBackend: the original's tokens, cookies, playground tokens and aliases", () => {
  const config = defaultConfig();
  const pick = (model: string, token?: string) => selectBackend(model, token, config);
  assertEquals(pick("dall-e-3", "sk-prodia-sd"), { backend: "prodia-sd" });
  assertEquals(pick("dall-e-3", "sk-prodia-xl"), { backend: "prodia-xl" });
  assertEquals(pick("dall-e-3", "sk-dalle-4k"), { backend: "dalle-4k" });
  assertEquals(pick("dall-e-3", "sk-dalle-3-xl"), { backend: "dalle-3-xl" });
  assertEquals(pick("dall-e-3", "sk-animagine-xl-3.1"), { backend: "animagine-xl" });
  assertEquals(pick("dall-e-3", "sk-google-xl"), { backend: "google-xl" });
  const pg = "abcdefgh-1234-5678-9abc-def012345678";
  assertEquals(pick("dall-e-3", pg), { backend: "playground", credential: pg });
  const coze = "sessionid=abc123; msToken=xyz";
  assertEquals(pick("dall-e-3", coze), { backend: "coze", credential: coze });
  assertEquals(pick("sd.dall-e-3", "sk-google-xl"), {
    backend: "prodia-sd",
    credential: undefined,
  });
  assertEquals(pick("xl.dall-e-3")?.backend, "prodia-xl");
  assertEquals(pick("google.dall-e-3")?.backend, "google-xl");
  assertEquals(pick("pg.dall-e-3", pg), { backend: "playground", credential: pg });
  assertEquals(pick("pg.dall-e-3", "sk-x"), { backend: "playground", credential: undefined });
  assertEquals(pick("coze.dall-e-3", coze), { backend: "coze", credential: coze });
  assertEquals(pick("animagine.dall-e-3")?.backend, "animagine-xl");
  assertEquals(pick("gpt-image-1", "sk-prodia-sd"), undefined);
  assertEquals(pick("foo.dall-e-3"), undefined);
  assertEquals(pick("sd.dall-e-9"), undefined);
});

Deno.test("selectBackend: an unknown token picks any of the six spaces, the last one too", () => {
  const config = defaultConfig();
  const seen = SPACES.map((_, i) =>
    selectBackend("dall-e-3", "sk-whatever", config, () => (i + 0.5) / SPACES.length)!.backend
  );
  assertEquals(seen, [...SPACES]);
  assertEquals(selectBackend("dall-e-3", undefined, config, () => 0.9999)!.backend, "google-xl");
  config.images["default-backend"] = "dalle-4k";
  assertEquals(selectBackend("dall-e-3", "sk-whatever", config)!.backend, "dalle-4k");
  assertEquals(selectBackend("dall-e-3", "sk-prodia-sd", config)!.backend, "prodia-sd");
});

Deno.test("extractTags: fences, a lone trailing fence, code fences, and nothing", () => {
  assertEquals(extractTags('prompt=\n"""\nred fox, snow\n"""'), "red fox, snow");
  assertEquals(extractTags('red "fox", snow"""'), "red fox, snow");
  assertEquals(extractTags("```\nfox,\nsnow\n```"), "fox, snow");
  assertEquals(extractTags("```text\nfox\n```"), "fox");
  assertEquals(extractTags("no fences here"), undefined);
  assertEquals(extractTags('""" """'), undefined);
});

Deno.test("promptToTags: markers, no LLM configured, LLM failures", async () => {
  assertEquals(await promptToTags("a fox", undefined), "a fox");
  assertEquals(
    await promptToTags('<tag content="ink" />a fox', () => Promise.resolve('"""fox, ink wash"""')),
    "ink, fox, ink wash",
  );
  assertEquals(
    await promptToTags("<tag llm=false />raw text", () => Promise.reject(new Error("no"))),
    "raw text",
  );
  assertEquals(await promptToTags('<tag content="only" />', undefined), "only");
  await assertRejects(() => promptToTags("<tag />", undefined), GatewayError, "empty");
  await assertRejects(
    () => promptToTags("x", () => Promise.resolve("sorry")),
    GatewayError,
    'between """ fences',
  );
});

Deno.test("store: sniffs the type, refuses non-images and oversize, keeps a day layout", async () => {
  const dir = await Deno.makeTempDir();
  try {
    assertEquals(sniffImage(pngBytes()), "png");
    assertEquals(sniffImage(jpegBytes()), "jpg");
    assertEquals(sniffImage(new TextEncoder().encode("RIFF1234WEBPVP8 ")), "webp");
    assertEquals(sniffImage(new TextEncoder().encode("GIF89a......")), "gif");
    assertEquals(sniffImage(new TextEncoder().encode("<html>")), undefined);
    const store = new ImageStore(dir, 1000, 60_000);
    const saved = await store.save(pngBytes());
    assert(/^\d{4}\/\d{2}\/\d{2}\/[A-Za-z0-9]{24}\.png$/.test(saved.rel), saved.rel);
    assertEquals(saved.contentType, "image/png");
    const opened = await store.open(saved.rel);
    assertEquals(opened?.size, pngBytes().length);
    opened?.file.close();
    await assertRejects(() => store.save(pngBytes(2000)), GatewayError, "images.max-size");
    await assertRejects(() => store.save(new Uint8Array(10)), GatewayError, "not an image");
    for (const bad of ["../x.png", "2026/01/01/../../x.png", "/etc/passwd", saved.rel + "x"]) {
      assertEquals(await store.open(bad), undefined, bad);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("store: images older than the age limit are swept and refused", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const store = new ImageStore(dir, 1_000_000, 60_000);
    const a = await store.save(pngBytes());
    const b = await store.save(jpegBytes());
    assertEquals(await store.sweep(Date.now()), 0);
    // An hour later both are past the one-minute limit.
    assertEquals(await store.sweep(Date.now() + 3_600_000), 2);
    assertEquals(await store.open(a.rel), undefined);
    assertEquals(await store.open(b.rel), undefined);
    // Emptied day folders are gone too.
    const left = [];
    for await (const e of Deno.readDir(dir)) left.push(e.name);
    assertEquals(left, []);
    // A file past the limit is refused (and deleted) when asked for.
    const old = new ImageStore(dir, 1_000_000, 1);
    const c = await old.save(pngBytes());
    await new Promise((r) => setTimeout(r, 20));
    assertEquals(await old.open(c.rel), undefined);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
