/**
 * `generationConfig` of a Gemini request, by the one policy of `params.ts` and the model's
 * rules (`models.ts`): penalties only for the models that take them, `topK` within the model's
 * limit (the default one here; the API's own once known, see `catalog.ts`), `candidateCount` only
 * where several candidates are allowed, `thinkingConfig` by generation (`thinking.ts`), JSON
 * output as `responseMimeType` and `responseSchema`.
 *
 * @module
 */
import type { Config } from "../../config/schema.ts";
import type { ChatRequest } from "../../openai/schema.ts";
import type { Logger } from "../../util/log.ts";
import { maxTokens, reasoningOf, sampling, type SamplingSpec, stopList } from "../params.ts";
import { defaultTopK, maxCandidates, takesPenalties } from "./models.ts";
import { toGeminiSchema } from "./schema.ts";
import { thinkingConfigOf } from "./thinking.ts";

/** Stop sequences Gemini takes at most. */
const GEMINI_STOPS = 5;

function spec(model: string, config: Config): SamplingSpec {
  const penalties = takesPenalties(model, config) ? { min: -2, max: 2 } : false;
  return {
    temperature: { min: 0, max: 2 },
    top_p: { min: 0, max: 1 },
    presence_penalty: penalties,
    frequency_penalty: penalties,
  };
}

/** The generation config and the `topK` the client asked for (clamped once the limit is known). */
export interface Generation {
  config: Record<string, unknown>;
  topK?: number;
}

/** Builds `generationConfig` for `req` on `model`. */
export function generationConfig(
  req: ChatRequest,
  model: string,
  config: Config,
  log?: Logger,
): Generation {
  const gc: Record<string, unknown> = {};
  const s = sampling(req, spec(model, config), log);
  if (s.temperature !== undefined) gc.temperature = s.temperature;
  if (s.top_p !== undefined) gc.topP = s.top_p;
  let topK: number | undefined;
  if (s.top_k !== undefined && s.top_k > 0) {
    topK = s.top_k;
    gc.topK = Math.min(topK, defaultTopK(model));
  }
  const max = maxTokens(req, Infinity, log);
  if (max !== undefined) gc.maxOutputTokens = max;
  const stops = stopList(req, GEMINI_STOPS, log);
  if (stops.length > 0) gc.stopSequences = stops;
  if (s.seed !== undefined) gc.seed = s.seed;
  if (req.n != null && req.n > 1 && maxCandidates(model) >= req.n) gc.candidateCount = req.n;
  // Zero is every model's default; only a real penalty is worth sending.
  if (s.presence_penalty) gc.presencePenalty = s.presence_penalty;
  if (s.frequency_penalty) gc.frequencyPenalty = s.frequency_penalty;
  const rf = req.response_format;
  if (rf?.type === "json_object") gc.responseMimeType = "application/json";
  if (rf?.type === "json_schema") {
    gc.responseMimeType = "application/json";
    const schema = (rf as { json_schema: { schema?: Record<string, unknown> } }).json_schema.schema;
    if (schema) gc.responseSchema = toGeminiSchema(schema);
  }
  const thinking = thinkingConfigOf(reasoningOf(req), model, config.gemini.thoughts, log);
  if (thinking) gc.thinkingConfig = thinking;
  return { config: gc, topK };
}

/** `body` with its `topK` clamped to `limit` (a copy; the built body is reused on retries). */
export function withTopK(
  body: Record<string, unknown>,
  asked: number | undefined,
  limit: number,
): Record<string, unknown> {
  if (asked === undefined) return body;
  const gc = {
    ...(body.generationConfig as Record<string, unknown>),
    topK: Math.min(asked, limit),
  };
  return { ...body, generationConfig: gc };
}
