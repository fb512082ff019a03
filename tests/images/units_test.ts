/**
 * The pieces of image generation on their own: backend selection and order, a space's inputs
 * and outputs, Pollinations URLs, the tags answer parser, the store's type sniffing, caps and age
 * limit.
 */
import {
  assert,
  assertEquals,
  assertRejects,
  assertStringIncludes,
  assertThrows,
} from "../assert.ts";
import { defaultOrder, selectBackends } from "../../src/images/backends.ts";
import { fillInputs, imageOf, valueAt } from "../../src/images/space_inputs.ts";
import { pollinationsUrl } from "../../src/images/pollinations.ts";
import { Failover } from "../../src/images/failover.ts";
import { createLogger } from "../../src/util/log.ts";
import { extractTags, promptToTags } from "../../src/images/tags.ts";
import { ImageStore, sniffImage } from "../../src/images/store.ts";
import { defaultConfig } from "../../src/config/mod.ts";
import { GatewayError } from "../../src/openai/errors.ts";
import { dataUrl, jpegBytes, pngBytes } from "../fakes/gradio_spaces.ts";

/** What a plan tries: backend names, and the credential of a single one. */
function names(model: string, token?: string, config = defaultConfig()) {
  const plan = selectBackends(model, token, config);
  return plan && {
    tried: plan.backends.map((b) => b.name),
    credential: plan.backends.length === 1
      ? (plan.backends[0] as { credential?: string }).credential
      : undefined,
    notices: plan.notices.length,
  };
}

Deno.test("selectBackends: the original's tokens, cookies, playground tokens and aliases", () => {
  const one = (name: string, credential?: string, notices = 0) => ({
    tried: [name],
    credential,
    notices,
  });
  assertEquals(names("dall-e-3", "sk-prodia-sd"), one("sd-3.5-large", undefined, 1));
  assertEquals(names("dall-e-3", "sk-prodia-xl"), one("flux-dev", undefined, 1));
  assertEquals(names("dall-e-3", "sk-dalle-4k"), one("dalle-4k"));
  assertEquals(names("dall-e-3", "sk-dalle-3-xl"), one("dalle-3-xl"));
  assertEquals(names("dall-e-3", "sk-animagine-xl-3.1"), one("animagine-xl"));
  assertEquals(names("dall-e-3", "sk-google-xl"), one("google-xl"));
  assertEquals(names("dall-e-3", "SK-FLUX-DEV"), one("flux-dev"));
  const coze = "sessionid=abc123; msToken=xyz";
  assertEquals(names("dall-e-3", coze), one("coze", coze));
  assertEquals(names("dall-e-3", "sk_polli0123456789"), one("pollinations", "sk_polli0123456789"));
  assertEquals(names("sd.dall-e-3", "sk-google-xl"), one("sd-3.5-large", undefined, 1));
  assertEquals(names("google.dall-e-3")?.tried, ["google-xl"]);
  assertEquals(names("coze.dall-e-3", coze), one("coze", coze));
  assertEquals(names("animagine.dall-e-3")?.tried, ["animagine-xl"]);
  assertEquals(
    names("pollinations/turbo", "pk_abcdefgh1234"),
    one("pollinations", "pk_abcdefgh1234"),
  );
  assertEquals(names("gpt-image-1", "sk-prodia-sd"), undefined);
  assertEquals(names("foo.dall-e-3"), undefined);
  assertEquals(names("sd.dall-e-9"), undefined);
  // playground: off by default (its token is then no selector, pg.dall-e-3 a 404), on when enabled.
  const pg = "abcdefgh-1234-5678-9abc-def012345678";
  assertEquals(names("dall-e-3", pg)?.tried.length, 7);
  assertThrows(() => names("pg.dall-e-3", pg), GatewayError, "turned off");
  const on = defaultConfig();
  on.images.playground.enabled = true;
  assertEquals(names("dall-e-3", pg, on), one("playground", pg));
  assertEquals(names("pg.dall-e-3", "sk-x", on), one("playground"));
});

Deno.test("defaultOrder: spaces in their order, Pollinations last (first with a key), default first", async () => {
  const config = defaultConfig();
  const spaces = [
    "flux-dev",
    "sd-3.5-large",
    "dalle-4k",
    "dalle-3-xl",
    "animagine-xl",
    "google-xl",
  ];
  assertEquals(defaultOrder(config), [...spaces, "pollinations"]);
  assertEquals(names("dall-e-3", "sk-whatever", config)?.tried, [...spaces, "pollinations"]);
  config.images.pollinations.key = "sk_abcdefgh";
  assertEquals(defaultOrder(config), ["pollinations", ...spaces]);
  config.images["default-backend"] = "dalle-4k";
  assertEquals(defaultOrder(config).slice(0, 2), ["dalle-4k", "pollinations"]);
  config.images.order = ["google", "nope", "flux-dev", "playground", "google-xl"];
  assertEquals(defaultOrder(config), ["dalle-4k", "google-xl", "flux-dev"]);
  config.images.spaces[0].enabled = false;
  assertEquals(defaultOrder(config), ["dalle-4k", "google-xl"]);
  config.images.pollinations.key = undefined;
  config.images.pollinations["legacy-url"] = false;
  config.images.order = undefined;
  config.images["default-backend"] = undefined;
  assertEquals(defaultOrder(config), spaces.slice(1));
  // Nothing left to try: an empty plan, which the route answers with a 503.
  for (const s of config.images.spaces) s.enabled = false;
  assertEquals(names("dall-e-3", undefined, config)?.tried, []);
  const none = new Failover([], createLogger("silent", () => {}), new AbortController().signal);
  const err = await assertRejects(() => none.run(() => Promise.resolve(1)), GatewayError);
  assertEquals(err.status, 503);
});

Deno.test("fillInputs: typed placeholders, text inside strings, the original's JSON template", () => {
  const values = {
    prompt: 'a "fox"\nin snow',
    negative_prompt: "ugly",
    seed: 42,
    style: "Anime",
    sampler: "Euler a",
    width: 768,
    height: 512,
  };
  assertEquals(
    fillInputs("s", ["{{prompt}}, 4k", "{{seed}}", "{{width}}x{{height}}", true, {
      s: "{{style}}",
    }], values),
    {
      data: ['a "fox"\nin snow, 4k', 42, "768x512", true, { s: "Anime" }],
      prompt: 'a "fox"\nin snow, 4k',
    },
  );
  assertEquals(fillInputs("s", { p: "{{prompt}}", n: "{{negative_prompt}}" }, values).data, {
    p: 'a "fox"\nin snow',
    n: "ugly",
  });
  // The original's template: {{seed}} unquoted, strings escaped into their quotes.
  const template = '["{{prompt}}", "{{negative_prompt}}", true, "{{style}}", {{seed}}, 1024]';
  assertEquals(fillInputs("s", template, values), {
    data: ['a "fox"\nin snow', "ugly", true, "Anime", 42, 1024],
    prompt: 'a "fox"\nin snow',
  });
  // Unknown placeholders are left alone; a template that is no JSON is a clear 500.
  assertEquals(fillInputs("s", ["{{other}}"], values).data, ["{{other}}"]);
  const err = assertThrows(() => fillInputs("s", "[{{prompt}}]", values), GatewayError);
  assertEquals(err.status, 500);
  assertStringIncludes(err.message, "images.spaces 's'");
});

Deno.test("imageOf: FileData, galleries, paths, relative URLs, base64 and nothing", () => {
  const base = "https://x.hf.space/gradio_api";
  const png = dataUrl(pngBytes(), "image/png");
  assertEquals(
    imageOf({ path: "/tmp/a.png", url: "https://x.hf.space/gradio_api/file=/tmp/a.png" }, base),
    {
      url: "https://x.hf.space/gradio_api/file=/tmp/a.png",
    },
  );
  assertEquals(imageOf({ path: "/tmp/b.png" }, base), { url: `${base}/file=/tmp/b.png` });
  assertEquals(imageOf([{ image: { path: "/tmp/c.png" }, caption: null }], base), {
    url: `${base}/file=/tmp/c.png`,
  });
  assertEquals(imageOf("/gradio_api/file=/tmp/d.png", base), {
    url: "https://x.hf.space/gradio_api/file=/tmp/d.png",
  });
  assertEquals(imageOf([png], base), { bytes: pngBytes() });
  assertEquals(imageOf([], base), undefined);
  assertEquals(imageOf(null, base), undefined);
  assertEquals(imageOf("just text", base), undefined);
  assertEquals(valueAt([[{ image: 1 }], 2], "0.0.image"), 1);
  assertEquals(valueAt([null], "0.1"), undefined);
});

Deno.test("pollinationsUrl: the prompt encoded and cut on a whole escape to fit 4096", () => {
  const q = new URLSearchParams({ model: "flux" });
  assertEquals(
    pollinationsUrl("https://g", "/image/", "a b/c?", q),
    "https://g/image/a%20b%2Fc%3F?model=flux",
  );
  // Every cut position: the base grows by one each time, the prompt mixes 1-, 2- and 4-byte
  // characters; the URL fits and the prompt decodes to a whole prefix.
  const prompt = "aé😀".repeat(600);
  for (let n = 0; n < 20; n++) {
    const base = `https://${"g".repeat(n + 1)}`;
    const url = pollinationsUrl(base, "/image/", prompt, q);
    assert(url.length <= 4096, String(n));
    const sent = decodeURIComponent(url.slice(`${base}/image/`.length, url.indexOf("?")));
    assert(sent.length > 800 && prompt.startsWith(sent), String(n));
  }
  assertEquals(
    pollinationsUrl("https://g", "/p/", "a\ud800b", q),
    "https://g/p/a%EF%BF%BDb?model=flux",
  );
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
