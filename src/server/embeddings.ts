/**
 * `POST /v1/embeddings`: routed to the provider of the model when it has embeddings.
 *
 * @module
 */
import { invalidRequest } from "../openai/errors.ts";
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
