/**
 * The model ids of the `claude` provider: the current claude.ai models (each also with a
 * `-thinking` suffix that turns extended thinking on), `claude` and `claude-3` for the account's
 * default model, and the retired ids of the 2024 gateway mapped to the nearest current ones.
 *
 * The current list is clewdr v0.13.4's (reference section 2, `src/types/model.rs`). claude.ai
 * honours the model only for paid organizations; free ones answer with the account's default
 * whatever is asked. No discovery endpoint is known for the web path, so the list is fixed here
 * (any other `claude-*` id is passed on as it is, and claude.ai's "Invalid model" is a 404).
 *
 * @module
 */

/** The current models, newest first. */
export const CURRENT_MODELS = [
  "claude-fable-5",
  "claude-opus-5",
  "claude-opus-4-8",
  "claude-opus-4-7",
  "claude-opus-4-6",
  "claude-opus-4-5-20251101",
  "claude-sonnet-5",
  "claude-sonnet-4-6",
  "claude-sonnet-4-5-20250929",
  "claude-haiku-4-5-20251001",
] as const;

/** The suffix that asks for extended thinking. */
export const THINKING_SUFFIX = "-thinking";

/** Ids that mean "the account's default model" (no `model` in the completion body). */
const DEFAULT_IDS: readonly string[] = ["claude", "claude-3"];

/** Retired ids (the 2024 gateway's and their siblings) and the current model each becomes. */
const RETIRED: Readonly<Record<string, string>> = {
  "claude-instant-1.2": "claude-haiku-4-5-20251001",
  "claude-3-haiku-20240307": "claude-haiku-4-5-20251001",
  "claude-3-5-haiku-20241022": "claude-haiku-4-5-20251001",
  "claude-3-5-haiku-latest": "claude-haiku-4-5-20251001",
  "claude-2.0": "claude-sonnet-4-5-20250929",
  "claude-2.1": "claude-sonnet-4-5-20250929",
  "claude-3-sonnet-20240229": "claude-sonnet-4-5-20250929",
  "claude-3-5-sonnet-20240620": "claude-sonnet-4-5-20250929",
  "claude-3-5-sonnet-20241022": "claude-sonnet-4-5-20250929",
  "claude-3-5-sonnet-latest": "claude-sonnet-4-5-20250929",
  "claude-3-7-sonnet-20250219": "claude-sonnet-4-5-20250929",
  "claude-3-7-sonnet-latest": "claude-sonnet-4-5-20250929",
  "claude-sonnet-4-20250514": "claude-sonnet-4-5-20250929",
  "claude-sonnet-4-0": "claude-sonnet-4-5-20250929",
  "claude-3-opus-20240229": "claude-opus-4-5-20251101",
  "claude-3-opus-latest": "claude-opus-4-5-20251101",
  "claude-opus-4-20250514": "claude-opus-4-5-20251101",
  "claude-opus-4-0": "claude-opus-4-5-20251101",
  "claude-opus-4-1-20250805": "claude-opus-4-5-20251101",
  "claude-opus-4-1": "claude-opus-4-5-20251101",
};

/** What a model id asks of claude.ai. */
export interface ClaudeModel {
  /** The id claude.ai receives; undefined for the account's default model. */
  id?: string;
  /** True when the id carries the `-thinking` suffix. */
  thinking: boolean;
}

/** The ids `/v1/models` lists: the defaults, then each current model and its thinking variant. */
export function listedModels(): string[] {
  return [
    ...DEFAULT_IDS,
    ...CURRENT_MODELS.flatMap((m) => [m, `${m}${THINKING_SUFFIX}`]),
  ];
}

/** The model a client's id stands for, or undefined when it is not a claude id at all. */
export function claudeModel(model: string): ClaudeModel | undefined {
  if (model !== "claude" && !model.startsWith("claude-")) return undefined;
  const thinking = model.endsWith(THINKING_SUFFIX) && model !== THINKING_SUFFIX;
  const base = thinking ? model.slice(0, -THINKING_SUFFIX.length) : model;
  if (DEFAULT_IDS.includes(base)) return { thinking };
  return { id: RETIRED[base] ?? base, thinking };
}
