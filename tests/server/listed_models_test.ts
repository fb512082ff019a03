/**
 * A model `/v1/models` lists answers: for each provider made ready against its fake, every id it
 * lists is asked once through the running gateway (chat, or embeddings for embedding models) and
 * must be answered, never refused with a 404. The image models of a gateway whose spaces are
 * fakes likewise. A provider that is not ready lists nothing.
 */
import OpenAI from "openai";
import { assert, assertEquals } from "../assert.ts";
import { startGateway, type TestGateway } from "../helpers.ts";
import { startFakeCohere } from "../fakes/cohere.ts";
import { startFakeCozeApi } from "../fakes/coze_api.ts";
import { startFakeGemini } from "../fakes/gemini.ts";
import { startFakeInterpreter } from "../fakes/interpreter.ts";
import { startFakeOpenAi } from "../fakes/openai.ts";
import { startFakeYouApi } from "../fakes/you_api.ts";
import { setup as cozeWeb } from "../providers/coze/web/helpers.ts";
import { withSpaces } from "../images/helpers.ts";
import { startFakeClaudeWeb } from "../fakes/claude_web.ts";
import { startFakeArena } from "../fakes/arena.ts";
import { browserTest } from "../browser/chromium.ts";
import { setup as copilot } from "../providers/copilot/helpers.ts";

/** The ids `owner` lists, each asked once: the failures as `id: status message`. */
async function askEveryListed(
  gw: TestGateway,
  key: string,
  owner: (ownedBy: string) => boolean,
): Promise<{ ids: string[]; failures: string[] }> {
  const client = new OpenAI({ baseURL: gw.url, apiKey: key, maxRetries: 0 });
  const ids = (await client.models.list()).data.filter((m) => owner(m.owned_by)).map((m) => m.id);
  const failures: string[] = [];
  for (const id of ids) {
    try {
      if (/embed/.test(id)) {
        const res = await client.embeddings.create({ model: id, input: "hello" });
        assert(res.data.length === 1);
      } else {
        const res = await client.chat.completions.create({
          model: id,
          messages: [{ role: "user", content: "hi" }],
        });
        assert(typeof res.choices[0].message.content === "string");
      }
    } catch (err) {
      const e = err as { status?: number; message?: string };
      failures.push(`${id}: ${e.status ?? "?"} ${e.message}`);
    }
  }
  return { ids, failures };
}

Deno.test("listed models answer: gemini (ids from the API with the pool's key)", async () => {
  const fake = await startFakeGemini();
  const gw = await startGateway({
    server: { password: ["gw-pass"] },
    gemini: { "base-url": fake.origin, keys: ["AIzaSyFakeKey0000000000000000000000001"] },
  });
  try {
    const { ids, failures } = await askEveryListed(gw, "gw-pass", (o) => o === "gemini");
    assert(ids.length >= 10 && ids.includes("gemini-embedding-001"), ids.join(","));
    assertEquals(failures, []);
  } finally {
    await gw.close();
    await fake.close();
  }
});

Deno.test("listed models answer: cohere (chat and embedding ids)", async () => {
  const fake = await startFakeCohere();
  const gw = await startGateway({
    server: { password: ["gw-pass"] },
    cohere: { "base-url": fake.origin, keys: ["CoFakeKey0000000000000000000000000000001"] },
  });
  try {
    const { ids, failures } = await askEveryListed(gw, "gw-pass", (o) => o === "cohere");
    assert(ids.some((id) => id.startsWith("embed-")) && ids.length >= 5, ids.join(","));
    assertEquals(failures, []);
  } finally {
    await gw.close();
    await fake.close();
  }
});

Deno.test("listed models answer: coze API mode (the default bot, named and published bots)", async () => {
  const PAT = "pat_L0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRS";
  const fake = await startFakeCozeApi({
    tokens: [{ token: PAT, workspaces: ["ws1"] }],
    bots: [
      { id: "7350000000000000001", workspace: "ws1" },
      { id: "7350000000000000002", workspace: "ws1" },
    ],
  });
  const gw = await startGateway({
    server: { password: ["gw-pass"] },
    coze: {
      ...fake.config,
      tokens: [PAT],
      bot: "7350000000000000001",
      bots: { writer: "7350000000000000002" },
      "workspace-id": "ws1",
    },
  });
  try {
    const { ids, failures } = await askEveryListed(gw, "gw-pass", (o) => o === "coze");
    assertEquals(ids, [
      "coze",
      "coze/writer",
      "coze/7350000000000000001",
      "coze/7350000000000000002",
    ]);
    assertEquals(failures, []);
  } finally {
    await gw.close();
    await fake.close();
  }
});

Deno.test("listed models answer: coze web mode", async () => {
  await using t = await cozeWeb();
  const { ids, failures } = await askEveryListed(t.gw, "gw-pass", (o) => o === "coze");
  assertEquals(ids, ["coze"]);
  assertEquals(failures, []);
});

Deno.test("listed models answer: you API mode (agents, named agents)", async () => {
  const KEY = "ydc-sk-listedlistedlistedlistedlisted01";
  const AGENT = "3fa85f64-5717-4562-b3fc-2c963f66afa6";
  const fake = await startFakeYouApi({ keys: [{ key: KEY }], agents: [AGENT] });
  const gw = await startGateway({
    server: { password: ["gw-pass"] },
    you: { ...fake.config, "api-key": [KEY], agents: { mine: AGENT } },
  });
  try {
    const { ids, failures } = await askEveryListed(gw, "gw-pass", (o) => o === "you");
    assertEquals(ids, ["you/express", "you/advanced", "you/mine"]);
    assertEquals(failures, []);
  } finally {
    await gw.close();
    await fake.close();
  }
});

Deno.test("listed models answer: interpreter, listed only while its server answers", async () => {
  const fake = await startFakeInterpreter();
  const gw = await startGateway({ interpreter: { "base-url": fake.origin } });
  try {
    const { ids, failures } = await askEveryListed(gw, "sk-any", (o) => o === "interpreter");
    assertEquals(ids, ["open-interpreter", "open-interpreter-ws"]);
    assertEquals(failures, []);
  } finally {
    await gw.close();
    await fake.close();
  }
});

Deno.test("listed models answer: custom-llm (configured ids, and the upstream's own)", async () => {
  const upstream = await startFakeOpenAi();
  const gw = await startGateway({
    "custom-llm": [
      { prefix: "fixed", "base-url": `${upstream.origin}/v1`, models: ["gpt-4o-mini"] },
      { prefix: "asked", "base-url": `${upstream.origin}/v1` },
    ],
  });
  try {
    const { ids, failures } = await askEveryListed(gw, "sk-any", (o) => o.startsWith("custom:"));
    assert(ids.includes("fixed/gpt-4o-mini") && ids.some((id) => id.startsWith("asked/")));
    assertEquals(failures, []);
  } finally {
    await gw.close();
    await upstream.close();
  }
});

Deno.test("listed models answer: image models of the backends that can draw", async () => {
  await using t = await withSpaces();
  const models = (await (await fetch(`${t.gw.url}/models`)).json()).data
    .filter((m: { owned_by: string }) => m.owned_by === "images")
    .map((m: { id: string }) => m.id);
  assert(models.length >= 7, models.join(","));
  const failures: string[] = [];
  for (const model of models) {
    const res = await fetch(`${t.gw.url}/images/generations`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer sk-anything" },
      body: JSON.stringify({ model, prompt: "a lighthouse" }),
    });
    if (res.status !== 200) failures.push(`${model}: ${res.status} ${await res.text()}`);
    else await res.body?.cancel();
  }
  assertEquals(failures, []);
});

Deno.test("listed models answer: claude (defaults and thinking variants, the fake's models)", async () => {
  const fake = await startFakeClaudeWeb();
  const gw = await startGateway({
    server: { password: ["gw-pass"], "ca-file": fake.caFile },
    claude: { "base-url": fake.origin, cookies: fake.accounts.map((a) => a.sessionKey) },
  });
  try {
    const { ids, failures } = await askEveryListed(gw, "gw-pass", (o) => o === "claude");
    assert(ids.includes("claude") && ids.some((id) => id.endsWith("-thinking")), ids.join(","));
    assertEquals(failures, []);
  } finally {
    await gw.close();
    await fake.close();
  }
});

Deno.test("listed models answer: copilot (anonymous sessions, every mode)", async () => {
  await using t = await copilot({ copilot: { anonymous: 1 } });
  const { ids, failures } = await askEveryListed(t.gw, "sk-placeholder", (o) => o === "copilot");
  assertEquals(ids, ["copilot", "copilot-reasoning", "copilot-smart"]);
  assertEquals(failures, []);
});

browserTest("listed models answer: arena (the site's text models)", async () => {
  const fake = await startFakeArena();
  const gw = await startGateway({
    server: { password: ["gw-pass"], "ca-file": fake.caFile },
    arena: { "base-url": fake.origin },
    browser: { args: ["--ignore-certificate-errors"], timeout: 30 },
  });
  try {
    const { ids, failures } = await askEveryListed(gw, "gw-pass", (o) => o === "arena");
    assertEquals(ids.length, 3, ids.join(","));
    assertEquals(failures, []);
  } finally {
    await gw.close();
    await fake.close();
  }
});

Deno.test("listed models: a provider that is not ready lists nothing (claude and copilot)", async () => {
  const gw = await startGateway({ copilot: { anonymous: 0 } });
  try {
    const res = await fetch(`${gw.url}/models`, { headers: { authorization: "Bearer sk-x" } });
    const owners = new Set(
      (await res.json()).data.map((m: { owned_by: string }) => m.owned_by),
    );
    assert(!owners.has("claude") && !owners.has("copilot"), [...owners].join(","));
  } finally {
    await gw.close();
  }
});
