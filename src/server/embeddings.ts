/**
 * `POST /v1/embeddings`: routed to the provider of the model when it has embeddings.
 *
 * @module
 */
import { invalidRequest, unknownModel } from "../openai/errors.ts";
import { embeddingRequest } from "../openai/schema.ts";
import { findProvider } from "../providers/registry.ts";
import type { Ctx } from "./app.ts";
import { makeContext, readBody } from "./context.ts";

/** Answers an embeddings request. */
export async function handleEmbeddings(c: Ctx): Promise<Response> {
  const config = c.get("deps").store.current;
  const req = await readBody(c, embeddingRequest);
  c.set("model", req.model);
  const provider = findProvider(req.model, config);
  if (!provider) throw unknownModel(req.model);
  if (!provider.embed) {
    throw invalidRequest(
      `The model '${req.model}' (${provider.id}) has no embeddings`,
      "model",
      "model_not_supported",
    );
  }
  const { ctx, finish } = makeContext(c, req.model);
  try {
    const result = await provider.embed(req, ctx);
    return c.json({
      object: "list",
      data: result.data.map((d) => ({ object: "embedding", ...d })),
      model: req.model,
      usage: result.usage,
    });
  } finally {
    finish();
  }
}
