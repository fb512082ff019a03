/**
 * Gemini model ids and what each generation takes, from the 2026 reference (section 7): the
 * built-in list (the fallback when discovery cannot run), the shut-down ids and their successors,
 * thinking settings by generation (a budget on 2.5, a level on 3.x), penalties only on the
 * models of `gemini.penalty-models`, `topK` limits, and where several candidates are allowed.
 *
 * @module
 */
import type { Config } from "../../config/schema.ts";

/** Chat models current in 2026 (Google's deprecations page, newest listing). */
export const GEMINI_CHAT_MODELS: readonly string[] = [
  "gemini-3.8-flash",
  "gemini-3.6-flash",
  "gemini-3.5-flash",
  "gemini-3.5-flash-lite",
  "gemini-3.1-flash-lite",
  "gemini-3.1-pro-preview",
  "gemini-3-flash-preview",
  "gemini-2.5-pro",
  "gemini-2.5-flash",
  "gemini-2.5-flash-lite",
  "gemini-2.0-flash",
  "gemini-2.0-flash-lite",
];

/** The embeddings model: the default, and what the shut-down embedding ids map to. */
export const GEMINI_EMBEDDING_MODEL = "gemini-embedding-001";

/** Any Gemini model id, with or without the `models/` prefix. */
const PATTERN =
  /^(models\/)?(gemini-[A-Za-z0-9._-]+|text-embedding-\d{3}|embedding-\d{3}|embedding-gecko-\d{3})$/;

/** The id the API takes (without `models/`). */
export function apiModel(model: string): string {
  return model.startsWith("models/") ? model.slice("models/".length) : model;
}

/** True for the ids this provider serves. */
export function isGeminiModel(model: string, config: Config): boolean {
  return PATTERN.test(model) || config.gemini.models.includes(model);
}

/** What replaces a shut-down id; `dimensions` keeps the vector size of an old embedding model. */
export interface Successor {
  model: string;
  dimensions?: number;
}

/**
 * The successor of a shut-down id (1.0/1.5 models, `gemini-3-pro-preview` since 2026-03-09,
 * `text-embedding-004` since 2026-01-14, the first embedding models since 2025-10-30), or
 * undefined for a current one.
 */
export function successorOf(model: string): Successor | undefined {
  const id = apiModel(model);
  if (/^(text-embedding-004|embedding-001|embedding-gecko-001)$/.test(id)) {
    return { model: GEMINI_EMBEDDING_MODEL, dimensions: 768 };
  }
  if (/^gemini-embedding-exp/.test(id)) return { model: GEMINI_EMBEDDING_MODEL };
  if (id === "gemini-3-pro-preview" || /^gemini-(1\.5-pro|1\.0-ultra)/.test(id)) {
    return { model: "gemini-3.1-pro-preview" };
  }
  if (/^gemini-1\.5-flash-8b/.test(id)) return { model: "gemini-3.5-flash-lite" };
  if (/^gemini-(1\.5-flash|1\.0-pro|pro$|pro-vision$)/.test(id)) {
    return { model: "gemini-3.5-flash" };
  }
  return undefined;
}

/** Major and minor version of a `gemini-<major>[.<minor>]-...` id. */
export function versionOf(model: string): { major: number; minor: number } | undefined {
  const m = apiModel(model).match(/^gemini-(\d+)(?:\.(\d+))?-/);
  return m ? { major: Number(m[1]), minor: Number(m[2] ?? 0) } : undefined;
}

/** Thinking levels, least to most. */
export const LEVELS = ["minimal", "low", "medium", "high"] as const;
/** One thinking level. */
export type Level = typeof LEVELS[number];

/** How a model is told how much to think, or undefined for models without thinking. */
export type ThinkingSpec =
  | { kind: "budget"; min: number; max: number; canDisable: boolean }
  | { kind: "level"; levels: readonly Level[] }
  | undefined;

/**
 * 2.5: `thinkingBudget` (Pro 128–32768, not off; Flash 0–24576; Flash-Lite 0 or 512–24576);
 * 3.x: `thinkingLevel` (Pro low/high; 3 Flash minimal to high; later Flash low/medium/high;
 * others low/high, the levels every 3.x model takes). Image, speech and live models get none.
 */
export function thinkingSpec(model: string): ThinkingSpec {
  const id = apiModel(model);
  const v = versionOf(id);
  if (!v || /-(image|tts|live|audio)|embedding/.test(id)) return undefined;
  if (v.major === 2 && v.minor === 5) {
    if (/-pro/.test(id)) return { kind: "budget", min: 128, max: 32768, canDisable: false };
    if (/-flash-lite/.test(id)) return { kind: "budget", min: 512, max: 24576, canDisable: true };
    return { kind: "budget", min: 0, max: 24576, canDisable: true };
  }
  if (v.major < 3) return undefined;
  if (/-pro/.test(id)) return { kind: "level", levels: ["low", "high"] };
  if (/-flash-lite/.test(id)) return { kind: "level", levels: ["low", "high"] };
  if (/-flash/.test(id)) {
    return v.major === 3 && v.minor === 0
      ? { kind: "level", levels: LEVELS }
      : { kind: "level", levels: ["low", "medium", "high"] };
  }
  return { kind: "level", levels: ["low", "high"] };
}

/** True for Gemini 3 and later, which check thought signatures. */
export function isGemini3(model: string): boolean {
  return (versionOf(model)?.major ?? 0) >= 3;
}

/** True when the model takes non-zero penalties (`gemini.penalty-models`). */
export function takesPenalties(model: string, config: Config): boolean {
  return config.gemini["penalty-models"].includes(apiModel(model));
}

/** The `topK` limit when the API does not say: 40 up to 2.0, 64 from 2.5 on. */
export function defaultTopK(model: string): number {
  const v = versionOf(model);
  return v && (v.major > 2 || (v.major === 2 && v.minor >= 5)) ? 64 : 40;
}

/** The most candidates one call may ask for: 8 on 2.0 and 2.5, 1 on Gemini 3. */
export function maxCandidates(model: string): number {
  const v = versionOf(model);
  if (!v || /-image/.test(apiModel(model))) return 1;
  return v.major === 2 ? 8 : 1;
}
