/**
 * `generationConfig.thinkingConfig` from the request's reasoning settings (`reasoningOf`: an
 * effort and/or a token budget, from any client API), by the model's generation: a
 * `thinkingBudget` within the 2.5 model's range, or a `thinkingLevel` the 3.x model takes —
 * never both, and neither for models without thinking. `includeThoughts` asks for thought
 * summaries (`gemini.thoughts`) unless the client turned reasoning off.
 *
 * @module
 */
import type { ReasoningRequest } from "../../core/events.ts";
import type { Logger } from "../../util/log.ts";
import { clamp } from "../params.ts";
import { type Level, LEVELS, thinkingSpec } from "./models.ts";

/** Budgets of the effort levels on 2.5 (`xhigh`: the model's most). */
const BUDGETS: Record<string, number> = {
  none: 0,
  minimal: 512,
  low: 1024,
  medium: 8192,
  high: 24576,
};

/** The level of an effort (or of a budget, when only one is given). */
function wantedLevel(r: ReasoningRequest): Level {
  switch (r.effort) {
    case "none":
    case "minimal":
      return "minimal";
    case "low":
      return "low";
    case "medium":
      return "medium";
    case "high":
    case "xhigh":
      return "high";
  }
  const b = r.budget_tokens ?? 0;
  return b <= 0 ? "minimal" : b <= 1024 ? "low" : b <= 8192 ? "medium" : "high";
}

/** `wanted` if the model takes it, else the nearest it takes (ties go up: more thought). */
export function nearestLevel(wanted: Level, levels: readonly Level[]): Level {
  if (levels.includes(wanted)) return wanted;
  const w = LEVELS.indexOf(wanted);
  let best = levels[0];
  for (const l of levels) {
    const d = Math.abs(LEVELS.indexOf(l) - w);
    const bestD = Math.abs(LEVELS.indexOf(best) - w);
    if (d < bestD || (d === bestD && LEVELS.indexOf(l) > LEVELS.indexOf(best))) best = l;
  }
  return best;
}

/** The thinkingConfig of a request on `model`, or undefined to send none. */
export function thinkingConfigOf(
  r: ReasoningRequest | undefined,
  model: string,
  thoughts: boolean,
  log?: Logger,
): Record<string, unknown> | undefined {
  const spec = thinkingSpec(model);
  if (!spec) {
    if (r) log?.debug(`request: reasoning settings dropped: ${model} does not think`);
    return undefined;
  }
  const off = r?.enabled === false;
  const out: Record<string, unknown> = {};
  if (thoughts && !off) out.includeThoughts = true;
  if (r && (r.effort || r.budget_tokens !== undefined || off)) {
    if (spec.kind === "level") {
      out.thinkingLevel = off ? spec.levels[0] : nearestLevel(wantedLevel(r), spec.levels);
    } else {
      let budget = off
        ? 0
        : r.budget_tokens ?? (r.effort === "xhigh" ? spec.max : BUDGETS[r.effort ?? "medium"]);
      if (budget === 0 && spec.canDisable) {
        out.thinkingBudget = 0;
      } else {
        // Flash-Lite takes 0 or its range; Pro cannot stop thinking (its least is 128).
        budget = clamp(
          budget,
          { min: Math.max(spec.min, 1), max: spec.max },
          "thinkingBudget",
          log,
        );
        out.thinkingBudget = budget;
      }
    }
  }
  return Object.keys(out).length > 0 ? out : undefined;
}
