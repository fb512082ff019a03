/**
 * The Gemini model ids this server lists and serves.
 *
 * @module
 */
import type { Config } from "../../config/schema.ts";
import type { ModelInfo } from "../types.ts";

/** The original's ids (v2.1.0 to v2-head) and the current Gemini family. */
export const GEMINI_CHAT_MODELS: readonly string[] = [
  "gemini-1.0-pro-latest",
  "gemini-1.5-pro-latest",
  "gemini-1.5-flash-latest",
  "gemini-1.5-pro-002",
  "gemini-1.5-flash-002",
  "gemini-1.5-pro-exp-0801",
  "gemini-1.5-pro-exp-0827",
  "gemini-2.0-flash",
  "gemini-2.0-flash-lite",
  "gemini-2.5-pro",
  "gemini-2.5-flash",
  "gemini-2.5-flash-lite",
  "gemini-3-pro-preview",
  "gemini-3-flash-preview",
];

/** Embedding models (`/v1/embeddings`). */
export const GEMINI_EMBEDDING_MODELS: readonly string[] = [
  "models/text-embedding-004",
  "text-embedding-004",
  "gemini-embedding-001",
];

/** Any Gemini model id, with or without the `models/` prefix. */
const PATTERN = /^(models\/)?(gemini-[A-Za-z0-9._-]+|text-embedding-\d{3}|embedding-\d{3})$/;

/** The id the API takes (without `models/`). */
export function apiModel(model: string): string {
  return model.startsWith("models/") ? model.slice("models/".length) : model;
}

/** True for the ids this provider serves. */
export function isGeminiModel(model: string, config: Config): boolean {
  return PATTERN.test(model) || config.gemini.models.includes(model);
}

/** True for thinking models (2.5 and later), which take `thinkingConfig`. */
export function isThinkingModel(model: string): boolean {
  return /^gemini-(2\.5|[3-9](\.\d+)?)-/.test(apiModel(model)) || /thinking/.test(model);
}

/** True for Gemini 3 and later, which check thought signatures and take `thinkingLevel`. */
export function isGemini3(model: string): boolean {
  return /^gemini-[3-9]/.test(apiModel(model));
}

/** What `/v1/models` lists. */
export function geminiModels(config: Config): ModelInfo[] {
  const ids = [...GEMINI_CHAT_MODELS, ...GEMINI_EMBEDDING_MODELS, ...config.gemini.models];
  return [...new Set(ids)].map((id) => ({ id, owned_by: "gemini" }));
}
