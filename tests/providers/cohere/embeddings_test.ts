/**
 * Cohere embeddings through the gateway with the `openai` client (which asks for base64 by
 * default): `/v2/embed`, `input_type`, `embedding_types`, `output_dimension`, batches of 96,
 * retired ids, errors.
 */
import OpenAI from "openai";
import { assert, assertEquals, assertMatch, assertRejects } from "../../assert.ts";
import { KEY, setup } from "./_setup.ts";

Deno.test("cohere embeddings: /v2/embed with base64 and floats, input_type, dimensions", async () => {
  await using t = await setup();
  const res = await t.client.embeddings.create({
    model: "embed-v4.0",
    input: ["hello", "world"],
    dimensions: 256,
  });
  assertEquals(res.model, "embed-v4.0");
  assertEquals(res.data.map((d) => d.index), [0, 1]);
  assertEquals(res.data[0].embedding.length, 256);
  assertEquals(res.usage.prompt_tokens, Math.ceil("hello world".length / 4));
  const rec = t.fake.requests.at(-1)!;
  assertEquals(rec.path, "/v2/embed");
  assertEquals(rec.headers.get("authorization"), `Bearer ${KEY}`);
  assertEquals(rec.json, {
    model: "embed-v4.0",
    input_type: "search_document",
    embedding_types: ["base64"],
    output_dimension: 256,
    texts: ["hello", "world"],
  });
  // The SDK decoded Cohere's base64 (float bytes); floats asked for directly are the same.
  const floats = await t.client.embeddings.create({
    model: "embed-v4.0",
    input: "hello",
    dimensions: 256,
    encoding_format: "float",
    // @ts-expect-error: Cohere's input_type, which some clients send.
    input_type: "search_query",
  });
  const sent = t.fake.requests.at(-1)!.json as Record<string, unknown>;
  assertEquals([sent.embedding_types, sent.input_type], [["float"], "search_query"]);
  const a = floats.data[0].embedding;
  const b = res.data[0].embedding;
  for (let i = 0; i < 256; i++) assert(Math.abs(a[i] - b[i]) < 1e-6, `dimension ${i}`);
});

Deno.test("cohere embeddings: more than 96 inputs go in several calls, in order; retired ids map", async () => {
  await using t = await setup({ cohere: { "embed-input-type": "clustering" } });
  const inputs = Array.from({ length: 200 }, (_, i) => `text ${i}`);
  const res = await t.client.embeddings.create({
    model: "embed-english-v2.0",
    input: inputs,
    encoding_format: "float",
  });
  assertEquals(res.data.length, 200);
  assertEquals(res.data.map((d) => d.index), inputs.map((_, i) => i));
  const bodies = t.fake.requests.map((r) =>
    r.json as { texts: string[]; model: string; input_type: string }
  );
  assertEquals(bodies.map((b) => b.texts.length), [96, 96, 8]);
  assertEquals(bodies.flatMap((b) => b.texts), inputs);
  assertEquals(
    new Set(bodies.map((b) => `${b.model} ${b.input_type}`)),
    new Set(["embed-english-v3.0 clustering"]),
  );
  const single = await t.client.embeddings.create({
    model: "embed-english-v3.0",
    input: "text 150",
    encoding_format: "float",
  });
  assertEquals(single.data[0].embedding, res.data[150].embedding);
  assertMatch(
    t.gw.logs.join("\n"),
    /'embed-english-v2\.0' is retired at Cohere; requests for it go to 'embed-english-v3\.0'/,
  );
});

Deno.test("cohere embeddings: what Cohere cannot do is a 400 naming the field, nothing sent", async () => {
  await using t = await setup();
  const cases: [Record<string, unknown>, string, RegExp][] = [
    [{ model: "embed-v4.0", input: [1, 2, 3] }, "input", /not token arrays/],
    [{ model: "embed-v4.0", input: "x", dimensions: 300 }, "dimensions", /256, 512, 1024, 1536/],
    [{ model: "embed-english-v3.0", input: "x", dimensions: 256 }, "dimensions", /fixed size/],
    [
      { model: "embed-v4.0", input: "x", input_type: "poem" },
      "input_type",
      /input_type must be one of/,
    ],
  ];
  for (const [body, param, re] of cases) {
    const err = await assertRejects(
      () => t.client.embeddings.create(body as unknown as OpenAI.EmbeddingCreateParams),
      OpenAI.BadRequestError,
    );
    assertEquals(err.param, param);
    assertMatch(err.message, re);
  }
  assertEquals(t.fake.requests.length, 0);
  const unknown = await assertRejects(
    () => t.client.embeddings.create({ model: "embed-nothing-v9", input: "x" }),
    OpenAI.NotFoundError,
  );
  assertMatch(unknown.message, /model 'embed-nothing-v9' not found/);
});
