/**
 * What the server shows and accepts when exposed (issue 15): `/v1/pool` never shows a secret and
 * needs the password, JSON routes take JSON only, in-stream failures are logged as errors, and a
 * client's malformed input is never a 500.
 */
import { assert, assertEquals, assertMatch } from "../assert.ts";
import { startFakeOpenAi } from "../fakes/openai.ts";
import { startGateway } from "../helpers.ts";
import { serveFake } from "../fakes/serve.ts";
import { createLogger } from "../../src/util/log.ts";

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

Deno.test("JSON routes answer 415 to a body not sent as application/json", async () => {
  await using t = await setup();
  for (const path of ["/v1/chat/completions", "/v1/embeddings", "/v1/images/generations"]) {
    // What a cross-site form or fetch can send without a preflight: form, text, or no type.
    for (const type of ["text/plain", "application/x-www-form-urlencoded", undefined]) {
      const res = await fetch(t.gw.origin + path, {
        method: "POST",
        headers: type ? { "content-type": type } : {},
        body: type ? JSON.stringify(chat) : new Blob([JSON.stringify(chat)]),
      });
      assertEquals(res.status, 415, `${path} ${type}`);
      const body = await res.json();
      assertEquals(body.error.code, "unsupported_media_type");
      assertMatch(body.error.message, /application\/json/);
    }
  }
  assertEquals(t.upstream.requests.length, 0);
  const ok = await t.post(chat, { "content-type": "application/json; charset=utf-8" });
  assertEquals(ok.status, 200);
  await ok.body?.cancel();
});

Deno.test("server.strict-content-type: false accepts JSON sent as text", async () => {
  await using t = await setup({ server: { "strict-content-type": false } });
  const res = await t.post(chat, { "content-type": "text/plain" });
  assertEquals(res.status, 200);
  await res.body?.cancel();
});

Deno.test("an upstream failing mid-stream is logged as an error with the failure", async () => {
  await using t = await setup();
  t.upstream.respond = () => ({ text: "partial answer", streamError: "the model crashed" });
  const res = await t.post({ ...chat, stream: true });
  assertEquals(res.status, 200);
  assertMatch(await res.text(), /the model crashed/);
  const line = t.gw.logs.find((l) => l.includes("POST /v1/chat/completions"))!;
  assertMatch(
    line,
    /ERROR .*POST \/v1\/chat\/completions model=up\/gpt-4o-mini 200 \d+ms error: .*the model crashed/,
  );
});

Deno.test("raw bytes from an upstream are escaped in log lines", async () => {
  // An upstream answering 500 with NUL, 0xFF and an ESC sequence in its body.
  const bytes = new Uint8Array([
    ...new TextEncoder().encode("broken "),
    0x00,
    0x20,
    0xff,
    0x1b,
    ...new TextEncoder().encode("[31mred"),
  ]);
  const upstream = await serveFake(() =>
    new Response(bytes, { status: 500, headers: { "content-type": "text/plain" } })
  );
  const gw = await startGateway({
    "custom-llm": [{ prefix: "up", "base-url": `${upstream.origin}/v1`, models: ["m"] }],
  });
  try {
    const res = await fetch(gw.origin + "/v1/chat/completions", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ ...chat, model: "up/m" }),
    });
    assertEquals(res.status, 502);
    await res.body?.cancel();
    const logs = gw.logs.join("\n");
    // deno-lint-ignore no-control-regex
    assert(!/[\u0000\u001b\ufffd]/.test(logs), "raw control or invalid bytes in the log");
    assertMatch(logs, /broken \\x00 \\ufffd\\x1b\[31mred/);
  } finally {
    await gw.close();
    await upstream.close();
  }
});

Deno.test("log lines escape line breaks, NUL and lone surrogates", () => {
  const lines: string[] = [];
  const log = createLogger("info", (_l, line) => lines.push(line));
  log.info("a\r\nFAKE 200 b\u0000c\ud800d\u202ee\tf");
  assertEquals(lines.length, 1);
  assertMatch(lines[0], /INFO {2}a\\r\\nFAKE 200 b\\x00c\\ud800d\\u202ee\tf$/);
});

Deno.test("tool_choice 'required' or named without tools is OpenAI's 400, emulated or not", async () => {
  const upstream = await startFakeOpenAi();
  const gw = await startGateway({
    "custom-llm": [
      { prefix: "em", "base-url": upstream.baseUrl, tc: true, models: ["gpt-4o-mini"] },
      { prefix: "up", "base-url": upstream.baseUrl, models: ["gpt-4o-mini"] },
    ],
  });
  try {
    for (const model of ["em/gpt-4o-mini", "up/gpt-4o-mini"]) {
      for (const choice of ["required", { type: "function", function: { name: "f" } }]) {
        const res = await fetch(gw.origin + "/v1/chat/completions", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ ...chat, model, tool_choice: choice }),
        });
        assertEquals(res.status, 400, `${model} ${JSON.stringify(choice)}`);
        assertEquals((await res.json()).error, {
          message:
            "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.",
          type: "invalid_request_error",
          param: "tool_choice",
          code: null,
        });
      }
    }
    assertEquals(upstream.requests.length, 0);
    // "auto" and "none" without tools stay harmless.
    const res = await fetch(gw.origin + "/v1/chat/completions", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ ...chat, model: "em/gpt-4o-mini", tool_choice: "auto" }),
    });
    assertEquals(res.status, 200);
    await res.body?.cancel();
  } finally {
    await gw.close();
    await upstream.close();
  }
});

Deno.test("an internal error's message (paths) stays in the log, the client sees its kind", async () => {
  const { toGatewayError, logDetail } = await import("../../src/openai/errors.ts");
  const e = toGatewayError(new Error("EACCES: open '/srv/secret/place/file'"));
  assertEquals(e.status, 500);
  assert(!JSON.stringify(e.toBody()).includes("/srv/secret"));
  assertMatch(logDetail(e), /\/srv\/secret\/place/);
});
