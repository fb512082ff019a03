/**
 * `/v1/embeddings` through Gemini's `:batchEmbedContents` (100 texts per call, more in several
 * calls, in order): `dimensions` as `outputDimensionality` (a shut-down 768-dimension model
 * mapped to `gemini-embedding-001` keeps 768 unless the client asks otherwise), `encoding_format:
 * base64` as the float bytes base64-encoded, as OpenAI's.
 *
 * @module
 */
import { readJson, type Upstream } from "../../net/http.ts";
import { invalidRequest, upstreamFailed } from "../../openai/errors.ts";
import type { EmbeddingRequest } from "../../openai/schema.ts";
import { countTokens } from "../../util/tokens.ts";
import type { EmbeddingResult } from "../types.ts";
import { fromGoogleError, geminiHttpError, googleErrorOf } from "./errors.ts";
import { toBase64 } from "./images.ts";

/** Texts per `batchEmbedContents` call (the API's limit). */
const EMBED_BATCH = 100;

/** The texts of a request; token arrays are a 400. */
export function embedInputs(req: EmbeddingRequest): string[] {
  const inputs = typeof req.input === "string" ? [req.input] : req.input;
  if (!inputs.every((i): i is string => typeof i === "string")) {
    throw invalidRequest("Gemini embeddings take text input, not token arrays", "input");
  }
  return inputs;
}

/** Embeds `inputs` with `model` and `key`. */
export async function geminiEmbed(
  req: EmbeddingRequest,
  inputs: string[],
  o: { model: string; base: string; key: string; http: Upstream; dimensions?: number },
): Promise<EmbeddingResult> {
  const url = `${o.base}/v1beta/models/${encodeURIComponent(o.model)}:batchEmbedContents`;
  const dims = req.dimensions ?? o.dimensions;
  const vectors: number[][] = [];
  for (let i = 0; i < inputs.length; i += EMBED_BATCH) {
    const requests = inputs.slice(i, i + EMBED_BATCH).map((text) => ({
      model: `models/${o.model}`,
      content: { parts: [{ text }] },
      ...(dims ? { outputDimensionality: dims } : {}),
    }));
    const res = await o.http.fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", "x-goog-api-key": o.key },
      body: JSON.stringify({ requests }),
    });
    if (!res.ok) throw await geminiHttpError(res);
    const body = await readJson<{ embeddings?: { values?: number[] }[] }>("gemini", res);
    const e = googleErrorOf(body);
    if (e) throw fromGoogleError(e);
    if (!Array.isArray(body.embeddings) || body.embeddings.length !== requests.length) {
      throw upstreamFailed("gemini", "batchEmbedContents answered without one embedding per text");
    }
    for (const v of body.embeddings) vectors.push(v.values ?? []);
  }
  const tokens = inputs.reduce((n, t) => n + countTokens(t), 0);
  return {
    data: vectors.map((v, index) => ({
      index,
      embedding: req.encoding_format === "base64"
        ? toBase64(new Uint8Array(new Float32Array(v).buffer))
        : v,
    })),
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  };
}
