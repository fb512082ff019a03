/**
 * `/v1/embeddings` through Cohere's `/v2/embed`: at most 96 texts per call (more go in several
 * calls, in order), `input_type` from the request (a Cohere field some clients send) or
 * `cohere.embed-input-type`, `encoding_format` as `embedding_types` (`float`, or `base64`: the
 * float bytes base64-encoded, as OpenAI's), `dimensions` as `output_dimension` where the model
 * has it (embed v4: 256, 512, 1024 or 1536).
 *
 * @module
 */
import { readJson, type Upstream } from "../../net/http.ts";
import { invalidRequest, upstreamFailed } from "../../openai/errors.ts";
import type { EmbeddingRequest } from "../../openai/schema.ts";
import type { EmbeddingResult } from "../types.ts";
import { cohereHttpError } from "./errors.ts";

/** Texts per `/v2/embed` call (the API's limit). */
export const EMBED_BATCH = 96;

const INPUT_TYPES: ReadonlySet<string> = new Set([
  "search_document",
  "search_query",
  "classification",
  "clustering",
]);
const V4_DIMENSIONS = [256, 512, 1024, 1536];

/** The `/v2/embed` bodies of a request (one per batch of texts). */
export function toCohereEmbed(
  req: EmbeddingRequest,
  model: string,
  defaultInputType: string,
): Record<string, unknown>[] {
  const inputs = typeof req.input === "string" ? [req.input] : req.input;
  if (!inputs.every((i): i is string => typeof i === "string")) {
    throw invalidRequest("Cohere embeddings take text input, not token arrays", "input");
  }
  const asked = (req as { input_type?: unknown }).input_type;
  if (asked !== undefined && !INPUT_TYPES.has(String(asked))) {
    throw invalidRequest(
      `input_type must be one of ${[...INPUT_TYPES].join(", ")}`,
      "input_type",
    );
  }
  const common: Record<string, unknown> = {
    model,
    input_type: asked ?? defaultInputType,
    embedding_types: [req.encoding_format === "base64" ? "base64" : "float"],
  };
  if (req.dimensions !== undefined) {
    if (!model.startsWith("embed-v4") || !V4_DIMENSIONS.includes(req.dimensions)) {
      throw invalidRequest(
        model.startsWith("embed-v4")
          ? `dimensions must be one of ${V4_DIMENSIONS.join(", ")} for ${model}`
          : `${model} has a fixed size; dimensions needs embed-v4.0`,
        "dimensions",
      );
    }
    common.output_dimension = req.dimensions;
  }
  const bodies: Record<string, unknown>[] = [];
  for (let i = 0; i < inputs.length; i += EMBED_BATCH) {
    bodies.push({ ...common, texts: inputs.slice(i, i + EMBED_BATCH) });
  }
  return bodies;
}

interface EmbedAnswer {
  embeddings?: { float?: number[][]; base64?: string[] };
  meta?: { billed_units?: { input_tokens?: number } };
}

/** Sends the bodies with `key` and joins the answers in order. */
export async function cohereEmbed(
  bodies: Record<string, unknown>[],
  url: string,
  key: string,
  http: Upstream,
): Promise<EmbeddingResult> {
  const data: EmbeddingResult["data"] = [];
  let tokens = 0;
  for (const body of bodies) {
    const res = await http.fetch(url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/json",
        authorization: `Bearer ${key}`,
      },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw await cohereHttpError(res);
    const answer = await readJson<EmbedAnswer>("cohere", res);
    const type = (body.embedding_types as string[])[0] as "float" | "base64";
    const vectors = answer.embeddings?.[type];
    const texts = body.texts as string[];
    if (!Array.isArray(vectors) || vectors.length !== texts.length) {
      throw upstreamFailed("cohere", `/v2/embed answered without one ${type} embedding per text`);
    }
    for (const embedding of vectors) data.push({ index: data.length, embedding });
    tokens += answer.meta?.billed_units?.input_tokens ?? 0;
  }
  return { data, usage: { prompt_tokens: tokens, total_tokens: tokens } };
}
