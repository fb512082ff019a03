/**
 * The models of the fake Gemini API and their rules, from the reference (upstreams-2026.md
 * section 7): shut-down ids, `topK` limits (40 up to 2.0, 64 from 2.5), thinking budgets of the
 * 2.5 models, thinking levels of the 3.x models, penalties only on `gemini-2.0-flash`, several
 * candidates only before Gemini 3. Models the reference says nothing about take any level.
 *
 * @module
 */

/** What one model takes. */
export interface FakeModel {
  topK: number;
  /** `thinkingBudget` range (`-1`, dynamic, is always taken); `zero`: 0 switches thinking off. */
  budget?: { min: number; max: number; zero: boolean };
  /** `thinkingLevel` values; undefined with `budget` unset and `levels` unset: no thinking. */
  levels?: readonly string[] | "any";
  penalties?: boolean;
  /** Most candidates per call. */
  candidates: number;
  embedding?: boolean;
}

/** Every model the fake serves. */
export const FAKE_MODELS: Record<string, FakeModel> = {
  "gemini-3.8-flash": { topK: 64, levels: ["low", "medium", "high"], candidates: 1 },
  "gemini-3.7-flash": { topK: 64, levels: ["low", "medium", "high"], candidates: 1 },
  "gemini-3.6-flash": { topK: 64, levels: "any", candidates: 1 },
  "gemini-3.5-flash": { topK: 64, levels: "any", candidates: 1 },
  "gemini-3.5-flash-lite": { topK: 64, levels: "any", candidates: 1 },
  "gemini-3.1-flash-lite": { topK: 64, levels: "any", candidates: 1 },
  "gemini-3.1-pro-preview": { topK: 64, levels: ["low", "high"], candidates: 1 },
  "gemini-3-flash-preview": {
    topK: 64,
    levels: ["minimal", "low", "medium", "high"],
    candidates: 1,
  },
  "gemini-2.5-pro": { topK: 64, budget: { min: 128, max: 32768, zero: false }, candidates: 8 },
  "gemini-2.5-flash": { topK: 64, budget: { min: 1, max: 24576, zero: true }, candidates: 8 },
  "gemini-2.5-flash-lite": {
    topK: 64,
    budget: { min: 512, max: 24576, zero: true },
    candidates: 8,
  },
  "gemini-2.0-flash": { topK: 40, penalties: true, candidates: 8 },
  "gemini-2.0-flash-lite": { topK: 40, candidates: 8 },
  "gemini-embedding-001": { topK: 0, candidates: 0, embedding: true },
};

/** Ids Google shut down: the API answers 404 for them. */
export const SHUT_DOWN = [
  "gemini-1.0-pro-latest",
  "gemini-1.5-pro-latest",
  "gemini-1.5-flash-latest",
  "gemini-1.5-pro-002",
  "gemini-1.5-flash-002",
  "gemini-3-pro-preview",
  "text-embedding-004",
  "embedding-001",
];
