/**
 * Readiness of every provider (but claude, bing and lmsys) and of the image backends, called
 * directly: ready or not with each kind of configuration and request credential, the notes as a
 * user reads them (the config key to set, what serves), and never a secret in them.
 */
import { configSchema } from "../../src/config/schema.ts";
import { backendStates } from "../../src/images/readiness.ts";
import { defaultOrder, imageModelIds } from "../../src/images/backends.ts";
import { createCohereProvider } from "../../src/providers/cohere/mod.ts";
import { createCozeProvider } from "../../src/providers/coze/mod.ts";
import { createCustomProvider } from "../../src/providers/custom/mod.ts";
import { createGeminiProvider } from "../../src/providers/gemini/mod.ts";
import { createInterpreterProvider } from "../../src/providers/interpreter/mod.ts";
import type { Provider, Readiness } from "../../src/providers/types.ts";
import { createYouProvider } from "../../src/providers/you/mod.ts";
import { assert, assertEquals } from "../assert.ts";
import { testDeps } from "../context.ts";
import { startFakeInterpreter } from "../fakes/interpreter.ts";
import { json, serveFake } from "../fakes/serve.ts";

const config = (raw: Record<string, unknown> = {}) => configSchema.parse(raw);
const PASSWORD = { server: { password: ["pw-123456"] } };

const GEMINI_KEY = "AIzaSyReadinessKey000000000000000000001";
const COHERE_KEY = "CoReadinessKey00000000000000000000000001";
const PAT = "pat_readinessToken0001";
const YOU_KEY = "ydc-sk-readiness-key-0001";
const COZE_COOKIE = "sessionid=readinesscookie0001; msToken=abc";
const YOU_COOKIE = "stytch_session=readinesscookie0002; DS=x";
const SECRETS = [GEMINI_KEY, COHERE_KEY, PAT, YOU_KEY, COZE_COOKIE, YOU_COOKIE];

async function readiness(
  p: Provider,
  raw: Record<string, unknown> = {},
  credential?: string,
): Promise<Readiness> {
  const r = await p.readiness!(config(raw), { credential });
  for (const s of SECRETS) assert(!r.note?.includes(s), `the note shows a secret: ${r.note}`);
  return r;
}

Deno.test("readiness gemini: gemini.keys, or the client's own AIza… key; the note names the key", async () => {
  const p = createGeminiProvider(testDeps());
  assertEquals(await readiness(p), {
    ready: false,
    note:
      "set gemini.keys in config.yaml, or send your own key (AIza…) as 'Authorization: Bearer …'",
  });
  // With a password, clients cannot bring their own key: only the config key is named.
  assertEquals(await readiness(p, PASSWORD), {
    ready: false,
    note: "set gemini.keys in config.yaml",
  });
  assertEquals(await readiness(p, { gemini: { keys: [GEMINI_KEY, GEMINI_KEY + "2"] } }), {
    ready: true,
    pooled: true,
    note: "2 keys (gemini.keys)",
  });
  assertEquals(await readiness(p, {}, GEMINI_KEY), {
    ready: true,
    pooled: false,
    note: "the request's own key",
  });
  assertEquals((await readiness(p, {}, "sk-placeholder-000000")).ready, false);
});

Deno.test("readiness cohere: cohere.keys, or a client key of Cohere's shape", async () => {
  const p = createCohereProvider(testDeps());
  assertEquals(await readiness(p), {
    ready: false,
    note: "set cohere.keys in config.yaml, or send your own key as 'Authorization: Bearer …'",
  });
  assertEquals(await readiness(p, { cohere: { keys: [COHERE_KEY] } }), {
    ready: true,
    pooled: true,
    note: "1 key (cohere.keys)",
  });
  assertEquals((await readiness(p, {}, COHERE_KEY)).ready, true);
  assertEquals((await readiness(p, {}, "sk-placeholder-000000")).ready, false);
});

Deno.test("readiness coze API mode: coze.tokens or a pat_… token, and which bots are listed", async () => {
  const p = createCozeProvider(testDeps());
  assertEquals(await readiness(p), {
    ready: false,
    note: "set coze.tokens in config.yaml, or send your own access token (pat_…) as " +
      "'Authorization: Bearer …'; no bot to list: set coze.bot (the bot behind the model " +
      "'coze'), coze.bots or coze.workspace-id; coze/<bot_id> works meanwhile",
  });
  const noBot = await readiness(p, { coze: { tokens: [PAT] } });
  assertEquals(noBot.ready, true);
  assertEquals(noBot.pooled, true);
  assert(noBot.note!.startsWith("1 access token (coze.tokens); no bot to list: set coze.bot"));
  assertEquals(
    (await readiness(p, { coze: { tokens: [PAT], bot: "7", bots: { a: "8", b: "9" } } })).note,
    "1 access token (coze.tokens); coze → coze.bot, coze/<name> → 2 bots of coze.bots",
  );
  assertEquals((await readiness(p, { coze: { bot: "7" } }, PAT)).ready, true);
  assertEquals((await readiness(p, { coze: { bot: "7" } }, "sk-placeholder")).ready, false);
});

Deno.test("readiness coze web mode: coze.sign-url and coze.cookies (none for a web SDK bot)", async () => {
  const p = createCozeProvider(testDeps());
  const web = (extra: Record<string, unknown>) => ({ coze: { mode: "web", ...extra } });
  assertEquals(await readiness(p, web({})), {
    ready: false,
    note: "web mode: set coze.sign-url (a request-signing service; there is no default) and " +
      "coze.cookies, or use the API (coze.mode: api, coze.tokens)",
  });
  const sign = { "sign-url": "http://127.0.0.1:9/sign" };
  assertEquals(await readiness(p, web(sign)), {
    ready: false,
    note: "web mode: set coze.cookies in config.yaml, or send your own cookie (sessionid=…) as " +
      "'Authorization: Bearer …'",
  });
  assertEquals(
    await readiness(p, web({ ...sign, cookies: [COZE_COOKIE], "8k": { "bot-id": "1" } })),
    {
      ready: true,
      pooled: true,
      note: "web mode: 1 cookie (coze.cookies); coze → coze.8k",
    },
  );
  assertEquals(await readiness(p, web({ ...sign, "8k": { "bot-id": "1", websdk: true } })), {
    ready: true,
    pooled: false,
    note: "web mode: the web SDK (no cookie); coze → coze.8k (web SDK)",
  });
  assertEquals((await readiness(p, web(sign), COZE_COOKIE)).ready, true);
});

Deno.test("readiness you: you.api-key or a ydc-sk-… key; web mode: you.cookies", async () => {
  const p = createYouProvider(testDeps());
  assertEquals(await readiness(p), {
    ready: false,
    note:
      "set you.api-key in config.yaml, or send your own key (ydc-sk-…) as 'Authorization: Bearer …'",
  });
  assertEquals(await readiness(p, { you: { "api-key": [YOU_KEY] } }), {
    ready: true,
    pooled: true,
    note: "1 key (you.api-key)",
  });
  assertEquals((await readiness(p, {}, YOU_KEY)).ready, true);
  assertEquals((await readiness(p, {}, "sk-placeholder")).ready, false);
  const web = await readiness(p, { you: { mode: "web" } });
  assertEquals(web.ready, false);
  assert(web.note!.startsWith("web mode: set you.cookies in config.yaml, or send your own cookie"));
  assertEquals(await readiness(p, { you: { mode: "web", cookies: [YOU_COOKIE] } }), {
    ready: true,
    pooled: true,
    note: "web mode: 1 cookie (you.cookies); Cloudflare's challenge passed by Chromium (browser.*)",
  });
  // An API key does not make the web mode ready, nor a cookie the API mode.
  assertEquals((await readiness(p, { you: { mode: "web" } }, YOU_KEY)).ready, false);
  assertEquals((await readiness(p, { you: { mode: "web" } }, YOU_COOKIE)).ready, true);
  assertEquals((await readiness(p, {}, YOU_COOKIE)).ready, false);
});

Deno.test("readiness custom: ready with entries, each with its keys or none", async () => {
  const p = createCustomProvider(testDeps());
  assertEquals((await readiness(p)).ready, false);
  assertEquals(
    (await readiness(p)).note,
    "no custom-llm entries: add one (prefix, base-url, api-key) for any OpenAI-compatible upstream",
  );
  const r = await readiness(p, {
    "custom-llm": [
      { prefix: "a", "base-url": "http://127.0.0.1:9/v1", "api-key": ["sk-readiness-000001"] },
      { prefix: "b", "base-url": "http://127.0.0.1:10/v1" },
    ],
  });
  assertEquals(r, {
    ready: true,
    pooled: true,
    note: "a/… → http://127.0.0.1:9/v1 (1 key), b/… → http://127.0.0.1:10/v1 " +
      "(no api-key: the client's key, or none)",
  });
  assert(!r.note!.includes("sk-readiness-000001"));
});

Deno.test("readiness interpreter: ready only when an open-interpreter server answers, with its key", async () => {
  const p = createInterpreterProvider(testDeps());
  // Nothing listens: a port that was just free.
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const free = (l.addr as Deno.NetAddr).port;
  l.close();
  const none = await readiness(p, { interpreter: { "base-url": `http://127.0.0.1:${free}` } });
  assertEquals(none, {
    ready: false,
    note: `nothing answers at http://127.0.0.1:${free}: start \`interpreter --server\` there, ` +
      "or set interpreter.base-url to where it runs",
  });
  const open = await startFakeInterpreter();
  const keyed = await startFakeInterpreter({ apiKey: "oi-secret-key-0001" });
  const other = await serveFake(() => json({ detail: "Not Found" }, 404));
  try {
    assertEquals(await readiness(p, { interpreter: { "base-url": open.origin } }), {
      ready: true,
      pooled: true,
      note: `an open-interpreter server answers at ${open.origin}`,
    });
    assertEquals(await readiness(p, { interpreter: { "base-url": keyed.origin } }), {
      ready: false,
      note: `the interpreter at ${keyed.origin} wants a key: set interpreter.api-key to its ` +
        "INTERPRETER_API_KEY",
    });
    const wrong = await readiness(p, {
      interpreter: { "base-url": keyed.origin, "api-key": "oi-wrong-key-0001" },
    });
    assertEquals(wrong.ready, false);
    assert(wrong.note!.includes("refuses interpreter.api-key"), wrong.note);
    assert(!wrong.note!.includes("oi-wrong-key-0001"));
    const right = await readiness(p, {
      interpreter: { "base-url": keyed.origin, "api-key": "oi-secret-key-0001" },
    });
    assertEquals(right.ready, true);
    assert(keyed.requests.some((r) => r.headers.get("x-api-key") === "oi-secret-key-0001"));
    // Another server on the port (no /heartbeat of its own) is not an interpreter.
    const r = await readiness(p, { interpreter: { "base-url": other.origin } });
    assertEquals(r.ready, false);
    assert(r.note!.includes("/heartbeat answered 404, not an open-interpreter 0.4 server"), r.note);
  } finally {
    await Promise.all([open.close(), keyed.close(), other.close()]);
  }
});

Deno.test("readiness interpreter: outcomes are kept a few seconds, concurrent checks share one", async () => {
  const p = createInterpreterProvider(testDeps());
  const fake = await startFakeInterpreter();
  try {
    const raw = { interpreter: { "base-url": fake.origin } };
    await Promise.all([readiness(p, raw), readiness(p, raw), readiness(p, raw)]);
    await readiness(p, raw);
    assertEquals(fake.requests.filter((r) => r.path === "/heartbeat").length, 1);
  } finally {
    await fake.close();
  }
});

Deno.test("image backends: ready ones listed and tried in order, the others with what to set", () => {
  const shipped = config();
  const states = backendStates(shipped);
  assertEquals(states.filter((b) => b.ready).map((b) => b.name), [
    "flux-dev",
    "sd-3.5-large",
    "dalle-4k",
    "dalle-3-xl",
    "animagine-xl",
    "google-xl",
    "pollinations",
  ]);
  const byName = Object.fromEntries(states.map((b) => [b.name, b]));
  assertEquals(byName.playground.note, "off (images.playground.enabled: false)");
  assertEquals(
    byName.coze.note,
    "set coze.images (bot-id of a bot that paints); and the coze provider: set coze.tokens in " +
      "config.yaml, or send your own access token (pat_…) as 'Authorization: Bearer …'; no bot " +
      "to list: set coze.bot (the bot behind the model 'coze'), coze.bots or coze.workspace-id; " +
      "coze/<bot_id> works meanwhile",
  );
  assert(byName.pollinations.note.startsWith("anonymous at https://image.pollinations.ai"));
  assertEquals(imageModelIds(shipped), [
    "dall-e-3",
    ...states.filter((b) => b.ready).map((b) => `${b.name}.dall-e-3`),
  ]);

  // Nothing can draw: no dall-e-3 either.
  const none = config({
    images: {
      spaces: [],
      pollinations: { "legacy-url": false },
      playground: { enabled: true },
      order: ["coze", "playground", "pollinations"],
    },
  });
  assertEquals(defaultOrder(none), []);
  assertEquals(imageModelIds(none), []);
  assertEquals(
    backendStates(none).find((b) => b.name === "playground")!.note,
    "set images.playground.tokens (playground.com session tokens)",
  );
  // A request's own Pollinations key makes it draw for that request (and dall-e-3 with it).
  assertEquals(imageModelIds(none, "sk_readinessPollinations01"), [
    "dall-e-3",
    "pollinations.dall-e-3",
  ]);
  // coze draws with coze.images and a token.
  const coze = config({
    coze: { tokens: [PAT], images: { "bot-id": "5" } },
    images: { spaces: [], pollinations: { "legacy-url": false }, order: ["coze"] },
  });
  assertEquals(defaultOrder(coze), ["coze"]);
  assertEquals(imageModelIds(coze), ["dall-e-3", "coze.dall-e-3"]);
  const note = backendStates(coze).find((b) => b.name === "coze")!.note;
  assert(note.startsWith("the coze.images bot (1 access token (coze.tokens)"), note);
  assert(!note.includes(PAT));
});
