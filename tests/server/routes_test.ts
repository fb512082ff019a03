/**
 * Routes and aliases of the contract, CORS, request ids, the password gate, `/v1/pool`, the
 * welcome page, and the access log.
 */
import { assert, assertEquals, assertMatch } from "../assert.ts";
import { startFakeOpenAi } from "../fakes/openai.ts";
import { startGateway } from "../helpers.ts";
import { VERSION } from "../../src/version.ts";

async function setup(config: Record<string, unknown> = {}) {
  const upstream = await startFakeOpenAi({ keys: ["sk-configured-upstream-key"] });
  const gw = await startGateway({
    "custom-llm": [{
      prefix: "up",
      "base-url": upstream.baseUrl,
      "api-key": ["sk-configured-upstream-key"],
      models: ["gpt-4o-mini"],
    }],
    ...config,
  });
  return {
    upstream,
    gw,
    async [Symbol.asyncDispose]() {
      await gw.close();
      await upstream.close();
    },
  };
}

const chat = { model: "up/gpt-4o-mini", messages: [{ role: "user", content: "hi" }] };

Deno.test("chat, models and embeddings aliases answer like the main routes", async () => {
  await using t = await setup({ server: { password: ["pw-123456"] } });
  const auth = { authorization: "Bearer pw-123456", "content-type": "application/json" };
  for (
    const path of ["/v1/chat/completions", "/v1/object/completions", "/proxies/v1/chat/completions"]
  ) {
    const res = await fetch(t.gw.origin + path, {
      method: "POST",
      headers: auth,
      body: JSON.stringify(chat),
    });
    assertEquals(res.status, 200, path);
    assertEquals((await res.json()).choices[0].message.content, "Hello! You said: hi");
  }
  for (const path of ["/v1/models", "/proxies/v1/models"]) {
    const res = await fetch(t.gw.origin + path, { headers: auth });
    const ids = (await res.json()).data.map((m: { id: string }) => m.id);
    assert(ids.includes("up/gpt-4o-mini"), path);
    // Image models are listed too.
    assert(ids.includes("dall-e-3") && ids.includes("flux-dev.dall-e-3"), path);
  }
  for (const path of ["/v1/embeddings", "/proxies/v1/embeddings"]) {
    const res = await fetch(t.gw.origin + path, {
      method: "POST",
      headers: auth,
      body: JSON.stringify({ model: "up/text-embedding-3-small", input: "x" }),
    });
    assertEquals(res.status, 200, path);
    await res.body?.cancel();
  }
});

Deno.test("embeddings for an unknown model is a 404", async () => {
  await using t = await setup();
  const res = await fetch(t.gw.origin + "/v1/embeddings", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "nope/x", input: "a" }),
  });
  assertEquals(res.status, 404);
  await res.body?.cancel();
});

Deno.test("CORS: preflight answered without auth, headers on responses, request id", async () => {
  await using t = await setup({ server: { password: ["pw-123456"] } });
  const pre = await fetch(t.gw.origin + "/v1/chat/completions", {
    method: "OPTIONS",
    headers: {
      origin: "https://app.example",
      "access-control-request-method": "POST",
      "access-control-request-headers": "authorization, content-type, x-stainless-os",
    },
  });
  assertEquals(pre.status, 204);
  assertEquals(pre.headers.get("access-control-allow-origin"), "*");
  assertMatch(pre.headers.get("access-control-allow-methods")!, /POST/);
  assertMatch(pre.headers.get("access-control-allow-headers")!, /x-stainless-os/);
  await pre.body?.cancel();
  const res = await fetch(t.gw.origin + "/health", { headers: { origin: "https://app.example" } });
  assertEquals(res.headers.get("access-control-allow-origin"), "*");
  assertMatch(res.headers.get("x-request-id")!, /^[A-Za-z0-9]{12}$/);
  assertEquals(await res.json(), { status: "ok" });
  // A client's own request id is kept.
  const mine = await fetch(t.gw.origin + "/health", { headers: { "x-request-id": "trace-42" } });
  assertEquals(mine.headers.get("x-request-id"), "trace-42");
  await mine.body?.cancel();
});

Deno.test("password gate: 401 without it, /health open, the pool serves authorised requests", async () => {
  await using t = await setup({ server: { password: ["pw-one-1111", "pw-two-2222"] } });
  const none = await fetch(t.gw.origin + "/v1/models");
  assertEquals(none.status, 401);
  const body = await none.json();
  assertEquals(body.error.code, "invalid_api_key");
  assertMatch(body.error.message, /requires a password/);
  const wrong = await fetch(t.gw.origin + "/v1/chat/completions", {
    method: "POST",
    headers: { "content-type": "application/json", authorization: "Bearer nope" },
    body: JSON.stringify(chat),
  });
  assertEquals(wrong.status, 401);
  assertEquals((await wrong.json()).error.message, "Incorrect password");
  assertEquals((await fetch(t.gw.origin + "/health")).status, 200);
  const headers: Record<string, string>[] = [{ authorization: "Bearer pw-two-2222" }, {
    "x-api-key": "pw-one-1111",
  }];
  for (const header of headers) {
    const ok = await fetch(t.gw.origin + "/v1/chat/completions", {
      method: "POST",
      headers: { "content-type": "application/json", ...header },
      body: JSON.stringify(chat),
    });
    assertEquals(ok.status, 200);
    await ok.body?.cancel();
  }
  // The password never went upstream; the configured key did.
  for (const r of t.upstream.requests) {
    assertEquals(r.headers.get("authorization"), "Bearer sk-configured-upstream-key");
  }
  // Nor into the log.
  const logs = t.gw.logs.join("\n");
  assert(
    !logs.includes("pw-two-2222") && !logs.includes("pw-one-1111") &&
      !logs.includes("sk-configured-upstream-key"),
  );
});

Deno.test("/v1/pool shows pools with masked ids, behind the password", async () => {
  await using t = await setup({ server: { password: ["pw-123456"] } });
  assertEquals((await fetch(t.gw.origin + "/v1/pool")).status, 401);
  const chatRes = await fetch(t.gw.origin + "/v1/chat/completions", {
    method: "POST",
    headers: { "content-type": "application/json", authorization: "Bearer pw-123456" },
    body: JSON.stringify(chat),
  });
  await chatRes.body?.cancel();
  const res = await fetch(t.gw.origin + "/v1/pool", {
    headers: { authorization: "Bearer pw-123456" },
  });
  assertEquals(res.status, 200);
  const text = await res.text();
  assert(!text.includes("sk-configured-upstream-key"), text);
  const body = JSON.parse(text);
  assertEquals(body.data[0].provider, "custom:up");
  assertEquals(body.data[0].accounts[0], {
    id: "sk-con…key",
    busy: 0,
    ready: true,
    aside_until: null,
    last_error: null,
    uses: 1,
    clearance_failures: 0,
  });
});

Deno.test("the welcome page shows the version and the configured providers", async () => {
  await using t = await setup();
  const res = await fetch(t.gw.origin + "/");
  assertEquals(res.status, 200);
  assertMatch(res.headers.get("content-type")!, /text\/html/);
  const html = await res.text();
  assert(html.includes(VERSION));
  assert(html.includes("<code>custom</code>"));
  assert(html.includes(t.upstream.baseUrl));
});

Deno.test("unknown routes are 404, wrong methods 405, both OpenAI-shaped", async () => {
  await using t = await setup();
  const nf = await fetch(t.gw.origin + "/v2/whatever");
  assertEquals(nf.status, 404);
  assertEquals((await nf.json()).error.code, "unknown_url");
  const na = await fetch(t.gw.origin + "/v1/chat/completions");
  assertEquals(na.status, 405);
  assertEquals(na.headers.get("allow"), "POST");
  assertEquals((await na.json()).error.code, "method_not_allowed");
});

Deno.test("the access log has method, route, model, status and duration, never a credential", async () => {
  await using t = await setup();
  const res = await fetch(t.gw.origin + "/v1/chat/completions", {
    method: "POST",
    headers: {
      "content-type": "application/json",
      authorization: "Bearer sk-configured-upstream-key",
    },
    body: JSON.stringify(chat),
  });
  await res.body?.cancel();
  const line = t.gw.logs.find((l) => l.includes("POST /v1/chat/completions"))!;
  assertMatch(
    line,
    /INFO {2}\[[A-Za-z0-9]{12}\] POST \/v1\/chat\/completions model=up\/gpt-4o-mini 200 \d+ms tokens=\d+\+\d+/,
  );
  assert(!t.gw.logs.join("\n").includes("sk-configured-upstream-key"));
});
