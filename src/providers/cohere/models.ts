/**
 * Cohere's model ids: the built-in list (the fallback when discovery cannot run), the retired ids
 * and their successors, and what each model takes (safety modes, thinking, `tool_choice`,
 * images). Ids and rules from Cohere's models page, deprecations page and v2 OpenAPI (2026).
 *
 * @module
 */
import type { Config } from "../../config/schema.ts";

/** Chat models live in 2026 (Cohere's models page and changelog). */
export const COHERE_CHAT_MODELS: readonly string[] = [
  "command-a-plus-05-2026",
  "command-a-03-2025",
  "command-a-reasoning-08-2025",
  "command-a-vision-07-2025",
  "command-a-translate-08-2025",
  "command-r7b-12-2024",
  "command-r-08-2024",
  "command-r-plus-08-2024",
  "c4ai-aya-expanse-32b",
  "c4ai-aya-vision-32b",
  "north-mini-code-1-0",
];

/** Embedding models for `/v2/embed`. */
export const COHERE_EMBED_MODELS: readonly string[] = [
  "embed-v4.0",
  "embed-english-v3.0",
  "embed-english-light-v3.0",
  "embed-multilingual-v3.0",
  "embed-multilingual-light-v3.0",
];

/** The embedding model of a request that names a retired one, and Cohere's newest. */
export const DEFAULT_EMBED_MODEL = "embed-v4.0";

/**
 * Ids Cohere retired (models deprecated 2025-09-15, embed v2 and Aya 8B retired 2026-04-04) and
 * what serves them now.
 */
export const RETIRED: Readonly<Record<string, string>> = {
  command: "command-a-03-2025",
  "command-nightly": "command-a-03-2025",
  "command-r-plus": "command-a-03-2025",
  "command-r-plus-04-2024": "command-r-plus-08-2024",
  "command-light": "command-r7b-12-2024",
  "command-light-nightly": "command-r7b-12-2024",
  "command-r": "command-r-08-2024",
  "command-r-03-2024": "command-r-08-2024",
  "embed-english-v2.0": "embed-english-v3.0",
  "embed-english-light-v2.0": "embed-english-light-v3.0",
  "embed-multilingual-v2.0": "embed-multilingual-v3.0",
  "c4ai-aya-expanse-8b": "c4ai-aya-expanse-32b",
  "c4ai-aya-vision-8b": "c4ai-aya-vision-32b",
};

const CHAT_PATTERN = /^(command(-[a-z0-9.-]+)?|c4ai-aya-[a-z0-9.-]+|north-[a-z0-9.-]+)$/;
const EMBED_PATTERN = /^embed-[a-z0-9.-]+$/;

/** True for the chat ids this provider serves (retired ones included: they are mapped). */
export function isCohereChatModel(model: string, config: Config): boolean {
  return CHAT_PATTERN.test(model) || config.cohere.models.includes(model);
}

/** True for embedding model ids. */
export function isCohereEmbedModel(model: string): boolean {
  return EMBED_PATTERN.test(model);
}

/** The 08-2024 models: the first to take `safety_mode`, and the last to take `OFF`. */
function isAugust2024(model: string): boolean {
  return model === "command-r-08-2024" || model === "command-r-plus-08-2024";
}

/** True for models that take `safety_mode` (Command R 08-2024 and newer Command models). */
export function takesSafetyMode(model: string): boolean {
  return isAugust2024(model) || /^command-(r7b|a)-/.test(model);
}

/** The `safety_mode` sent for `mode`: `OFF` only where the model takes it (08-2024 models). */
export function safetyModeFor(model: string, mode: string): string {
  return mode === "OFF" && !isAugust2024(model) ? "CONTEXTUAL" : mode;
}

/** True for models that take `tool_choice` (Command R7B and newer). */
export function takesToolChoice(model: string): boolean {
  return /^command-(r7b|a)-/.test(model) || model.startsWith("north-");
}

/** True for the reasoning models, which take `thinking` (on by default there). */
export function takesThinking(model: string): boolean {
  return /^command-a-(reasoning|plus)-/.test(model);
}

/** True for models that read images in user messages. */
export function takesImages(model: string): boolean {
  return /^command-a-(vision|plus)-/.test(model) || /^c4ai-aya-vision-/.test(model);
}
