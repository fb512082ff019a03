/**
 * The provider table: which provider serves a model id, and what `/v1/models` lists.
 * Providers are tried in order; the first whose `matches` accepts the model serves it.
 *
 * @module
 */
import type { Config } from "../config/schema.ts";
import { bingProvider } from "./bing/mod.ts";
import { claudeProvider } from "./claude/mod.ts";
import { cozeProvider } from "./coze/mod.ts";
import { cohereProvider } from "./cohere/mod.ts";
import { customProvider } from "./custom/mod.ts";
import { geminiProvider } from "./gemini/mod.ts";
import { interpreterProvider } from "./interpreter/mod.ts";
import { lmsysProvider } from "./lmsys/mod.ts";
import type { ChatContext, ChatProvider, ModelInfo } from "./types.ts";
import { youProvider } from "./you/mod.ts";

/** Every provider, in matching order (`custom` last: its prefixes are user-chosen). */
export const providers: readonly ChatProvider[] = [
  bingProvider,
  claudeProvider,
  youProvider,
  geminiProvider,
  cohereProvider,
  interpreterProvider,
  lmsysProvider,
  cozeProvider,
  customProvider,
];

/** The provider serving `model`, or undefined. */
export function findProvider(model: string, config: Config): ChatProvider | undefined {
  return providers.find((p) => p.matches(model, config));
}

/** The models of every provider, without duplicates, in provider order. */
export async function listModels(
  config: Config,
  ctx: { signal?: AbortSignal; upstream?: ChatContext["upstream"] } = {},
): Promise<ModelInfo[]> {
  const lists = await Promise.all(providers.map(async (p) => {
    try {
      return await p.models(config, ctx);
    } catch {
      return [];
    }
  }));
  const seen = new Set<string>();
  const out: ModelInfo[] = [];
  for (const m of lists.flat()) {
    if (seen.has(m.id)) continue;
    seen.add(m.id);
    out.push(m);
  }
  return out;
}
