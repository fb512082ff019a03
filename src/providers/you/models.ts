/**
 * you.com model ids. The API has no model parameter: it runs agents, `express` (fast, at most one
 * web search), `advanced` (multi-step research and compute) and custom agents made in you.com's
 * web UI (a UUID; they pick their own model). Ids:
 *
 * - `you/express`, `you/advanced`, `you/<agent uuid>`;
 * - `you/<name>` of `you.agents` (name -> agent), so the original's `you/<model>` ids can name
 *   your custom agents;
 * - the original's `you/<model>` ids (`you/gpt_4o`, `you/claude_3_5_sonnet`, ... and `you.models`)
 *   otherwise: the express agent, or advanced for reasoning models (`o1`, `reason`).
 *
 * @module
 */
import type { Config } from "../../config/schema.ts";

/** The original's model names (you.com's `selectedAiModel` values), served as `you/<name>`. */
export const YOU_MODELS: readonly string[] = [
  "gpt_4",
  "gpt_4o",
  "gpt_4o_mini",
  "gpt_4_turbo",
  "openai_o1",
  "openai_o1_mini",
  "claude_2",
  "claude_3_haiku",
  "claude_3_sonnet",
  "claude_3_5_sonnet",
  "claude_3_opus",
  "gemini_pro",
  "gemini_1_5_pro",
  "gemini_1_5_flash",
];

/** The agents every key can run. */
export const BUILT_IN_AGENTS: readonly string[] = ["express", "advanced"];

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `you.agents` with the names as `you/<name>` ids take them (a `you/` prefix is allowed). */
export function namedAgents(config: Config): Map<string, string> {
  const out = new Map<string, string>();
  for (const [name, agent] of Object.entries(config.you.agents)) {
    out.set(name.replace(/^you\//, ""), agent);
  }
  return out;
}

/** The agent `model` runs, or undefined when it is no you.com model id. */
export function resolveAgent(model: string, config: Config): string | undefined {
  if (!model.startsWith("you/")) return undefined;
  const name = model.slice(4);
  const named = namedAgents(config).get(name);
  if (named) return named;
  if (BUILT_IN_AGENTS.includes(name) || UUID.test(name)) return name;
  if (YOU_MODELS.includes(name) || config.you.models.includes(name)) {
    return /o1|reason/i.test(name) ? "advanced" : "express";
  }
  return undefined;
}

/** The ids `/v1/models` lists in the API mode. */
export function agentModels(config: Config): string[] {
  return [...BUILT_IN_AGENTS, ...namedAgents(config).keys()].map((n) => `you/${n}`);
}
