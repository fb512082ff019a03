/**
 * Gemini embeddings through the gateway with the `openai` client (which asks for base64 by
 * default): `:batchEmbedContents` on `gemini-embedding-001`, the shut-down `text-embedding-004`
 * mapped to it at 768 dimensions, dimensions, batches of 100, errors.
 */
import OpenAI from "openai";
import { assert, assertEquals, assertMatch, assertRejects } from "../../assert.ts";
import { KEY, setup } from "./_setup.ts";

Deno.test("gemini embeddings: batchEmbedContents on gemini-embedding-001, floats and base64, dimensions", async () => {
  await using t = await setup();
  const res = await t.client.embeddings.create({
    model: "gemini-embedding-001",
    input: ["hello", "world"],
    dimensions: 16,
  });
  assertEquals(res.object, "list");
  assertEquals(res.model, "gemini-embedding-001");
  assertEquals(res.data.map((d) => d.index), [0, 1]);
  assertEquals(res.data[0].embedding.length, 16);
  assert(res.usage.prompt_tokens > 0);
  const rec = t.fake.requests.at(-1)!;
  assertEquals(rec.path, "/v1beta/models/gemini-embedding-001:batchEmbedContents");
  assertEquals(rec.headers.get("x-goog-api-key"), KEY);
  assertEquals(rec.query.get("key"), null);
  assertEquals(rec.json, {
    requests: [
      {
        model: "models/gemini-embedding-001",
        content: { parts: [{ text: "hello" }] },
        outputDimensionality: 16,
      },
      {
        model: "models/gemini-embedding-001",
        content: { parts: [{ text: "world" }] },
        outputDimensionality: 16,
      },
    ],
  });
  // The SDK decoded base64; ask for floats explicitly and compare.
  const floats = await t.client.embeddings.create({
    model: "gemini-embedding-001",
    input: "hello",
    dimensions: 16,
    encoding_format: "float",
  });
  const a = floats.data[0].embedding;
  const b = res.data[0].embedding;
  assertEquals(a.length, 16);
  for (let i = 0; i < 16; i++) assert(Math.abs(a[i] - b[i]) < 1e-6, `dimension ${i}`);
});

Deno.test("gemini embeddings: text-embedding-004 (shut down) is gemini-embedding-001 at 768 dimensions", async () => {
  await using t = await setup();
  for (const model of ["models/text-embedding-004", "text-embedding-004"]) {
    const res = await t.client.embeddings.create({
      model,
      input: "hello",
      encoding_format: "float",
    });
    assertEquals(res.model, model);
    assertEquals(res.data[0].embedding.length, 768);
    const rec = t.fake.requests.at(-1)!;
    assertEquals(rec.path, "/v1beta/models/gemini-embedding-001:batchEmbedContents");
    assertEquals((rec.json as { requests: { outputDimensionality?: number }[] }).requests[0], {
      model: "models/gemini-embedding-001",
      content: { parts: [{ text: "hello" }] },
      outputDimensionality: 768,
    } as never);
  }
  // The client's own size wins.
  const sized = await t.client.embeddings.create({
    model: "text-embedding-004",
    input: "hello",
    dimensions: 256,
    encoding_format: "float",
  });
  assertEquals(sized.data[0].embedding.length, 256);
  const warnings = t.gw.logs.filter((l) => /text-embedding-004' is shut down/.test(l));
  assertEquals(warnings.length, 2, "one warning per id");
  assertMatch(warnings[0], /requests for it go to 'gemini-embedding-001'/);
  // The shut-down model itself is a 404 at Google: nothing is sent to it.
  assertEquals(t.fake.requests.filter((r) => r.path.includes("text-embedding-004")).length, 0);
});

Deno.test("gemini embeddings: more than 100 inputs go in several batches, in order", async () => {
  await using t = await setup();
  const inputs = Array.from({ length: 230 }, (_, i) => `text ${i}`);
  const res = await t.client.embeddings.create({
    model: "gemini-embedding-001",
    input: inputs,
    dimensions: 4,
    encoding_format: "float",
  });
  assertEquals(res.data.length, 230);
  assertEquals(res.data.map((d) => d.index), inputs.map((_, i) => i));
  const sizes = t.fake.requests.map((r) => (r.json as { requests: unknown[] }).requests.length);
  assertEquals(sizes, [100, 100, 30]);
  // Same text, same vector: batches kept their order.
  const single = await t.client.embeddings.create({
    model: "gemini-embedding-001",
    input: "text 150",
    dimensions: 4,
    encoding_format: "float",
  });
  assertEquals(single.data[0].embedding, res.data[150].embedding);
});

Deno.test("gemini embeddings: token arrays are refused, upstream errors pass through", async () => {
  await using t = await setup();
  const tokens = await assertRejects(
    () => t.client.embeddings.create({ model: "text-embedding-004", input: [[1, 2, 3]] }),
    OpenAI.BadRequestError,
  );
  assertMatch(tokens.message, /text input/);
  const empty = await assertRejects(
    () => t.client.embeddings.create({ model: "text-embedding-004", input: [""] }),
    OpenAI.BadRequestError,
  );
  assertMatch(empty.message, /400 INVALID_ARGUMENT/);
  const bad = new OpenAI({
    baseURL: t.gw.url,
    apiKey: "AIzaSyNotAValidKeyNotAValidKeyNotAValid",
    maxRetries: 0,
  });
  await assertRejects(
    () => bad.embeddings.create({ model: "text-embedding-004", input: "x" }),
    OpenAI.AuthenticationError,
  );
});
