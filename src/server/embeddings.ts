/**
 * `POST /v1/embeddings`: routed to the provider of the model when it has embeddings.
 *
 * @module
 */
import { invalidRequest, upstreamFailed } from "../openai/errors.ts";
import { embeddingRequest } from "../openai/schema.ts";
import { makeChatContext, readBody, resolveModel } from "./context.ts";
import type { Ctx } from "./types.ts";

/** Answers an embeddings request. */
export async function handleEmbeddings(c: Ctx): Promise<Response> {
  const req = await readBody(c, embeddingRequest);
  c.set("model", req.model);
  const route = resolveModel(c, req.model);
  const provider = route.provider;
  if (!provider.embed) {
    throw invalidRequest(
      `The model '${req.model}' (${provider.id}) has no embeddings`,
      "model",
      "model_not_supported",
    );
  }
  const { ctx, finish } = makeChatContext(c, route);
  try {
    const result = await provider.embed(req, ctx);
    const base64 = req.encoding_format === "base64";
    return c.json({
      object: "list",
      data: result.data.map((d) => ({
        object: "embedding",
        ...d,
        embedding: inFormat(d.embedding, base64),
      })),
      model: req.model,
      usage: result.usage,
    });
  } finally {
    finish();
  }
}

/**
 * An embedding in the encoding the client asked for, whatever the upstream sent: some ignore
 * `encoding_format: "base64"` (which the openai SDKs ask for by default and decode themselves)
 * and answer floats, which the SDK would decode into garbage. Base64 is the little-endian
 * float32 bytes, as OpenAI sends it.
 */
export function inFormat(embedding: number[] | string, base64: boolean): number[] | string {
  if (base64) {
    if (typeof embedding === "string") return embedding;
    const floats = Float32Array.from(embedding);
    return new Uint8Array(floats.buffer).toBase64();
  }
  if (Array.isArray(embedding)) return embedding;
  let bytes: Uint8Array;
  try {
    bytes = Uint8Array.fromBase64(embedding);
  } catch {
    throw upstreamFailed("embeddings", "the upstream sent an embedding that is not base64");
  }
  if (bytes.length % 4 !== 0) {
    throw upstreamFailed("embeddings", "the upstream sent a base64 embedding of partial floats");
  }
  return Array.from(new Float32Array(bytes.slice().buffer));
}
