/**
 * What the server shows and accepts when exposed (issue 15): `/v1/pool` never shows a secret and
 * needs the password, JSON routes take JSON only, in-stream failures are logged as errors, and a
 * client's malformed input is never a 500.
 */
import { assert, assertEquals, assertMatch } from "../assert.ts";
import { startFakeOpenAi } from "../fakes/openai.ts";
import { startGateway } from "../helpers.ts";

const KEY = "cfg-upstream-key-0123456789abcdef";

async function setup(config: Record<string, unknown> = {}) {
  const upstream = await startFakeOpenAi({ keys: [KEY] });
  const gw = await startGateway({
    "custom-llm": [{
      prefix: "up",
      "base-url": upstream.baseUrl,
      "api-key": [KEY],
      models: ["gpt-4o-mini"],
    }],
    ...config,
  });
  const post = (body: unknown, headers: HeadersInit = {}, path = "/v1/chat/completions") =>
    fetch(gw.origin + path, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
  return {
    upstream,
    gw,
    post,
    async [Symbol.asyncDispose]() {
      await gw.close();
      await upstream.close();
    },
  };
}

const chat = { model: "up/gpt-4o-mini", messages: [{ role: "user", content: "hi" }] };

Deno.test("/v1/pool: an upstream 401 quoting the key is recorded masked", async () => {
  await using t = await setup({ server: { password: ["pw-123456"] } });
  // The upstream quotes the whole key, as some compatible servers do.
  t.upstream.respond = (_body, rec) => ({
    error: {
      status: 401,
      message: `Incorrect API key provided: ${
        rec.headers.get("authorization")?.replace(/^Bearer /, "")
      }`,
      code: "invalid_api_key",
    },
  });
  const res = await t.post(chat, { authorization: "Bearer pw-123456" });
  assertEquals(res.status, 401);
  assert(!(await res.text()).includes(KEY));
  const pool = await fetch(t.gw.origin + "/v1/pool", {
    headers: { authorization: "Bearer pw-123456" },
  });
  assertEquals(pool.status, 200);
  const text = await pool.text();
  assert(!text.includes(KEY), text);
  const account = JSON.parse(text).data[0].accounts[0];
  assertMatch(account.last_error, /Incorrect API key provided: cfg-up…def/);
});

Deno.test("/v1/pool: 403 without a password unless server.public-pool", async () => {
  {
    await using t = await setup();
    const res = await fetch(t.gw.origin + "/v1/pool");
    assertEquals(res.status, 403);
    const body = await res.json();
    assertEquals(body.error.code, "pool_needs_password");
    assertMatch(body.error.message, /server\.password/);
  }
  {
    await using t = await setup({ server: { "public-pool": true } });
    const res = await fetch(t.gw.origin + "/v1/pool");
    assertEquals(res.status, 200);
    assertEquals((await res.json()).object, "list");
  }
});
