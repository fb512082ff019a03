/**
 * The Cohere model ids this server lists and serves.
 *
 * @module
 */
import type { Config } from "../../config/schema.ts";
import type { ModelInfo } from "../types.ts";

/** The original's ids plus the 08-2024 generation and later. */
export const COHERE_MODELS: readonly string[] = [
  "command",
  "command-r",
  "command-light",
  "command-light-nightly",
  "command-nightly",
  "command-r-plus",
  "command-r-08-2024",
  "command-r-plus-08-2024",
  "command-r7b-12-2024",
  "command-a-03-2025",
];

/** True for the ids this provider serves. */
export function isCohereModel(model: string, config: Config): boolean {
  return /^command(-[a-z0-9.-]+)?$/.test(model) || config.cohere.models.includes(model);
}

/** True for models that take `safety_mode` (the 08-2024 generation and later). */
export function takesSafetyMode(model: string): boolean {
  return /08-2024|r7b|command-a/.test(model);
}

/** What `/v1/models` lists. */
export function cohereModels(config: Config): ModelInfo[] {
  return [...new Set([...COHERE_MODELS, ...config.cohere.models])].map((id) => ({
    id,
    owned_by: "cohere",
  }));
}
