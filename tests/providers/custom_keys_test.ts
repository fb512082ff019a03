/**
 * `custom-llm` keys and embeddings encodings (issue 15): a client's placeholder key never replaces
 * the configured one, and embeddings reach the client in the encoding it asked for whatever the
 * upstream sent.
 */
import OpenAI from "openai";
import { assert, assertEquals } from "../assert.ts";
import { startFakeOpenAi } from "../fakes/openai.ts";
import { serveFake } from "../fakes/serve.ts";
import { startGateway } from "../helpers.ts";
import { inFormat } from "../../src/server/embeddings.ts";

const KEY = "cfg-custom-key-0123456789";

async function setup(entry: Record<string, unknown> = {}) {
  const upstream = await startFakeOpenAi({ keys: [KEY] });
  const gw = await startGateway({
    "custom-llm": [{
      prefix: "up",
      "base-url": upstream.baseUrl,
      "api-key": [KEY],
      models: ["gpt-4o-mini"],
      ...entry,
    }],
  });
  return {
    upstream,
    gw,
    client: (apiKey: string) => new OpenAI({ baseURL: gw.url, apiKey, maxRetries: 0 }),
    async [Symbol.asyncDispose]() {
      await gw.close();
      await upstream.close();
    },
  };
}

const chat = { model: "up/gpt-4o-mini", messages: [{ role: "user" as const, content: "hi" }] };

Deno.test("custom-llm: a client's placeholder key does not replace the configured key", async () => {
  await using t = await setup();
  const answer = await t.client("sk-xxx").chat.completions.create(chat);
  assertEquals(answer.choices[0].message.content, "Hello! You said: hi");
  assertEquals(t.upstream.requests[0].headers.get("authorization"), `Bearer ${KEY}`);
  // The configured key itself, sent by a client, is used as it is.
  await t.client(KEY).chat.completions.create(chat);
  assertEquals(t.upstream.requests[1].headers.get("authorization"), `Bearer ${KEY}`);
});

Deno.test("custom-llm: client-keys forwards a client's own key", async () => {
  await using t = await setup({ "client-keys": true });
  const err = await t.client("sk-client-own-key-42").chat.completions.create(chat).catch((e) => e);
  assertEquals(err.status, 401);
  assertEquals(
    t.upstream.requests[0].headers.get("authorization"),
    "Bearer sk-client-own-key-42",
  );
});

/** An OpenAI-compatible upstream that answers embeddings in one encoding whatever was asked. */
function fixedEncoding(encoding: "float" | "base64", vector: number[]) {
  return serveFake((_req, rec) => {
    const body = rec.json as { input: string | string[] };
    const n = Array.isArray(body.input) ? body.input.length : 1;
    const embedding = encoding === "float"
      ? vector
      : new Uint8Array(new Float32Array(vector).buffer).toBase64();
    return Response.json({
      object: "list",
      data: Array.from({ length: n }, (_, index) => ({ object: "embedding", index, embedding })),
      model: "e",
      usage: { prompt_tokens: n, total_tokens: n },
    });
  });
}

Deno.test("embeddings: the client gets its encoding whatever the upstream sent", async () => {
  // Values exact in float32, so both encodings compare equal.
  const vector = [0.5, -0.25, 1.5, 0.125];
  for (const sent of ["float", "base64"] as const) {
    const upstream = await fixedEncoding(sent, vector);
    const gw = await startGateway({
      "custom-llm": [{ prefix: "e", "base-url": upstream.origin, models: ["emb"] }],
    });
    try {
      const client = new OpenAI({ baseURL: gw.url, apiKey: "x", maxRetries: 0 });
      // The SDK asks for base64 by default and decodes it.
      const sdk = await client.embeddings.create({ model: "e/emb", input: ["a", "b"] });
      assertEquals(sdk.data.map((d) => d.embedding), [vector, vector], `upstream sent ${sent}`);
      const floats = await client.embeddings.create({
        model: "e/emb",
        input: "a",
        encoding_format: "float",
      });
      assertEquals(floats.data[0].embedding, vector, `upstream sent ${sent}, asked float`);
    } finally {
      await gw.close();
      await upstream.close();
    }
  }
});

Deno.test("embeddings: inFormat round-trips and refuses broken base64", () => {
  const b64 = inFormat([1, 2, 3], true) as string;
  assertEquals(inFormat(b64, false), [1, 2, 3]);
  assert(typeof b64 === "string");
  let status = 0;
  try {
    inFormat("AAA", false);
  } catch (e) {
    status = (e as { status: number }).status;
  }
  assertEquals(status, 502);
});
