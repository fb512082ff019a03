/**
 * Copilot's model ids. Copilot has no model picker: the `send` frame's `mode` picks the behaviour
 * (reference section 1: `chat`, `reasoning` ("Think Deeper"), `smart` ("Smart (GPT-5)"); `study`
 * and `search` exist but are not served). The ids of the retired Bing provider keep working.
 *
 * @module
 */

/** The modes the gateway sends. */
export type CopilotMode = "chat" | "reasoning" | "smart";

/** The model ids `/v1/models` lists, and their mode. */
export const COPILOT_MODELS: Readonly<Record<string, CopilotMode>> = {
  copilot: "chat",
  "copilot-reasoning": "reasoning",
  "copilot-smart": "smart",
};

/**
 * Ids of the original gateway's Bing provider, served by Copilot (not listed): `bing-online`
 * searched the web (Copilot does so by itself), `bing-vision` took an image (any model does
 * now), `bing-reason` was the 2025 original's reasoning id.
 */
export const COPILOT_ALIASES: Readonly<Record<string, CopilotMode>> = {
  bing: "chat",
  "bing-online": "chat",
  "bing-vision": "chat",
  "bing-reason": "reasoning",
};

/** The mode of a model id, or undefined when Copilot does not serve it. */
export function copilotMode(model: string): CopilotMode | undefined {
  return COPILOT_MODELS[model] ?? COPILOT_ALIASES[model];
}
