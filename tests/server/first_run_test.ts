/**
 * The first run, through the running gateway: what `/v1/models` lists with the shipped
 * `config.yaml` and with each kind of client key, what the welcome page and the start-up lines
 * say, the 401 of each provider naming its config key, `--models` agreeing with `/v1/models`.
 *
 * The providers of other work (claude, bing, lmsys) are left out of the assertions.
 */
import OpenAI from "openai";
import { readinessLines } from "../../src/server/info.ts";
import { assert, assertEquals, assertStringIncludes } from "../assert.ts";
import { startGateway, type TestGateway } from "../helpers.ts";
import { startFakeOpenAi } from "../fakes/openai.ts";

const root = new URL("../../", import.meta.url).pathname;
const MINE = ["gemini", "cohere", "coze", "you", "interpreter"];

/** `/v1/models` as `{id, owned_by}`, with `key` as the request's credential. */
async function listed(gw: TestGateway, key?: string): Promise<{ id: string; owned_by: string }[]> {
  const res = await fetch(`${gw.origin}/v1/models`, {
    headers: key ? { authorization: `Bearer ${key}` } : {},
  });
  assertEquals(res.status, 200);
  return (await res.json()).data;
}

/** True when nothing listens on 127.0.0.1:`port` (the interpreter's default port). */
function portFree(port: number): boolean {
  try {
    Deno.listen({ hostname: "127.0.0.1", port }).close();
    return true;
  } catch {
    return false;
  }
}

async function post(gw: TestGateway, path: string, body: unknown, key?: string) {
  const res = await fetch(gw.origin + path, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(key ? { authorization: `Bearer ${key}` } : {}),
    },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

const hi = [{ role: "user", content: "hi" }];

Deno.test("first run: the shipped config.yaml lists only what can answer, and says what each provider lacks", async () => {
  const gw = await startGateway(await Deno.readTextFile(root + "config.yaml"));
  try {
    assertEquals(gw.logs.filter((l) => l.includes("config:")), [], "no config warnings");
    const none = await listed(gw);
    const mine = none.filter((m) => MINE.includes(m.owned_by) || m.owned_by.startsWith("custom"));
    if (portFree(8000)) {
      assertEquals(mine, [], "no provider of ours is ready on the shipped config");
    }
    assertEquals(none.filter((m) => m.owned_by === "images").map((m) => m.id), [
      "dall-e-3",
      "flux-dev.dall-e-3",
      "sd-3.5-large.dall-e-3",
      "dalle-4k.dall-e-3",
      "dalle-3-xl.dall-e-3",
      "animagine-xl.dall-e-3",
      "google-xl.dall-e-3",
      "pollinations.dall-e-3",
    ]);
    // A placeholder key is nobody's; a key of a provider's shape lists that provider.
    assertEquals(
      (await listed(gw, "sk-placeholder-0000000000")).filter((m) => MINE.includes(m.owned_by)),
      (await listed(gw)).filter((m) => MINE.includes(m.owned_by)),
    );
    const withGemini = await listed(gw, "AIzaSyFirstRunKey0000000000000000000001");
    assert(withGemini.some((m) => m.id === "gemini-2.5-flash" && m.owned_by === "gemini"));
    assert(!withGemini.some((m) => m.owned_by === "cohere" || m.owned_by === "you"));
    const withYou = (await listed(gw, "ydc-sk-firstrun-000000000001")).filter((m) =>
      m.owned_by === "you"
    );
    assertEquals(withYou.map((m) => m.id), ["you/express", "you/advanced"]);

    // The 401 of each provider names the config key to set.
    const missing: [string, string, string][] = [
      ["/v1/chat/completions", "gemini-2.5-flash", "no gemini credential: set gemini.keys"],
      ["/v1/embeddings", "gemini-embedding-001", "no gemini credential: set gemini.keys"],
      ["/v1/chat/completions", "command-a-03-2025", "no cohere credential: set cohere.keys"],
      ["/v1/chat/completions", "coze/7350000000000000001", "no coze credential: set coze.tokens"],
      ["/v1/chat/completions", "you/express", "no you credential: set you.api-key"],
    ];
    for (const [path, model, message] of missing) {
      const body = path.endsWith("embeddings") ? { model, input: "x" } : { model, messages: hi };
      const res = await post(gw, path, body);
      assertEquals(res.status, 401, model);
      assertEquals(res.body.error.code, "missing_credential", model);
      assertStringIncludes(res.body.error.message, message);
      assertStringIncludes(
        res.body.error.message,
        "in config.yaml, or send your own",
      );
    }

    // The start-up lines and the welcome page say the same.
    const lines = await readinessLines(gw.registry, gw.store.current);
    const expected = [
      "provider gemini: not ready (set gemini.keys in config.yaml, or send your own key (AIza…) as 'Authorization: Bearer …')",
      "provider cohere: not ready (set cohere.keys in config.yaml, or send your own key as 'Authorization: Bearer …')",
      "provider you: not ready (set you.api-key in config.yaml, or send your own key (ydc-sk-…) as 'Authorization: Bearer …')",
      "provider custom: not ready (no custom-llm entries: add one (prefix, base-url, api-key) for any OpenAI-compatible upstream)",
      "images: dall-e-3 tries flux-dev, sd-3.5-large, dalle-4k, dalle-3-xl, animagine-xl, google-xl, pollinations",
    ];
    for (const line of expected) {
      assert(lines.includes(line), `${line}\nnot in\n${lines.join("\n")}`);
    }
    assert(
      lines.some((l) => l.startsWith("provider coze: not ready (set coze.tokens in config.yaml")),
    );
    if (portFree(8000)) {
      assert(lines.includes(
        "provider interpreter: not ready (nothing answers at http://127.0.0.1:8000: start " +
          "`interpreter --server` there, or set interpreter.base-url to where it runs)",
      ));
    }
    const page = await (await fetch(gw.origin + "/")).text();
    assertStringIncludes(
      page,
      "<li><code>gemini</code>: not ready — set gemini.keys in config.yaml, or send your own key " +
        "(AIza…) as &#39;Authorization: Bearer …&#39;</li>",
    );
    assertStringIncludes(page, "<li><code>you</code>: not ready — set you.api-key in config.yaml");
    assertStringIncludes(
      page,
      "<code>dall-e-3</code> tries, in order: <code>flux-dev</code>, <code>sd-3.5-large</code>",
    );
    assertStringIncludes(
      page,
      "<li><code>playground</code>: not ready — off (images.playground.enabled: false)</li>",
    );
    assertStringIncludes(page, "<li><code>coze</code>: not ready — set coze.images");
  } finally {
    await gw.close();
  }
});

Deno.test("first run: the welcome page and start-up lines name what serves, never a secret", async () => {
  const upstream = await startFakeOpenAi();
  const secrets = ["AIzaSyFirstRunSecret00000000000000000001", "sk-firstrun-secret-000001"];
  const gw = await startGateway({
    gemini: { keys: [secrets[0]] },
    "custom-llm": [{ prefix: "up", "base-url": `${upstream.origin}/v1`, "api-key": [secrets[1]] }],
  });
  try {
    const lines = await readinessLines(gw.registry, gw.store.current);
    assert(lines.includes("provider gemini: ready (1 key (gemini.keys))"), lines.join("\n"));
    assert(lines.includes(`provider custom: ready (up/… → ${upstream.origin}/v1 (1 key))`));
    const page = await (await fetch(gw.origin + "/")).text();
    assertStringIncludes(page, "<li><code>gemini</code>: ready — 1 key (gemini.keys)</li>");
    for (const s of secrets) {
      assert(!page.includes(s) && !lines.join("\n").includes(s), "a secret is shown");
    }
  } finally {
    await gw.close();
    await upstream.close();
  }
});

Deno.test("--models prints what /v1/models lists to a request without a key", async () => {
  const upstream = await startFakeOpenAi();
  const dir = await Deno.makeTempDir();
  const config = {
    "custom-llm": [{ prefix: "up", "base-url": `${upstream.origin}/v1`, models: ["m-1", "m-2"] }],
    images: { spaces: [], pollinations: { "legacy-url": false } },
  };
  const gw = await startGateway(config);
  try {
    await Deno.writeTextFile(`${dir}/c.yaml`, JSON.stringify(config));
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", `${root}main.ts`, "--config", `${dir}/c.yaml`, "--models"],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
    const printed = new TextDecoder().decode(out.stdout).trim().split("\n");
    const ids = (await listed(gw)).map((m) => m.id);
    assertEquals(printed, ids);
    assert(printed.includes("up/m-1") && !printed.some((id) => id.endsWith("dall-e-3")));
    assert(!printed.some((id) => id.startsWith("gemini")), "gemini has no key");
  } finally {
    await gw.close();
    await upstream.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("/v1/models: a custom-llm prefix another provider claims is not listed under it", async () => {
  const upstream = await startFakeOpenAi();
  const gw = await startGateway({
    "custom-llm": [
      { prefix: "you", "base-url": `${upstream.origin}/v1`, models: ["express"] },
      { prefix: "up", "base-url": `${upstream.origin}/v1`, models: ["gpt-4o-mini"] },
    ],
  });
  try {
    const ids = (await listed(gw)).filter((m) => m.owned_by.startsWith("custom")).map((m) => m.id);
    // `you/express` would go to the you provider (which has no key here): not this entry's.
    assertEquals(ids, ["up/gpt-4o-mini"]);
    const client = new OpenAI({ baseURL: gw.url, apiKey: "sk-placeholder", maxRetries: 0 });
    const res = await client.chat.completions.create({
      model: "up/gpt-4o-mini",
      messages: [{ role: "user", content: "hi" }],
    });
    assertEquals(res.choices[0].message.content, "Hello! You said: hi");
  } finally {
    await gw.close();
    await upstream.close();
  }
});

Deno.test("first run: the web modes' 401 names their cookie keys", async () => {
  const gw = await startGateway({
    coze: { mode: "web", "sign-url": "http://127.0.0.1:9/sign" },
    you: { mode: "web" },
  });
  try {
    const cases: [string, string][] = [
      ["coze/7350000000000000001-1-2", "set coze.cookies in config.yaml"],
      ["you/gpt_4o", "set you.cookies in config.yaml"],
    ];
    for (const [model, message] of cases) {
      const res = await post(gw, "/v1/chat/completions", { model, messages: hi });
      assertEquals(res.status, 401, model);
      assertStringIncludes(res.body.error.message, message);
    }
    const lines = await readinessLines(gw.registry, gw.store.current);
    assert(lines.some((l) => l.startsWith("provider coze: not ready (web mode: set coze.cookies")));
    assert(lines.some((l) => l.startsWith("provider you: not ready (web mode: set you.cookies")));
  } finally {
    await gw.close();
  }
});
