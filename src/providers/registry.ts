/**
 * The provider table of one server: every provider instance, built at start from the factories,
 * and the one place a model id is resolved into a `Route`. Providers are tried in order; the first
 * that resolves the model serves it (`custom` last: its prefixes are user-chosen).
 *
 * @module
 */
import type { Config } from "../config/schema.ts";
import { createClaudeProvider } from "./claude/mod.ts";
import { createCohereProvider } from "./cohere/mod.ts";
import { createCopilotProvider } from "./copilot/mod.ts";
import { createCozeProvider } from "./coze/mod.ts";
import { createCustomProvider } from "./custom/mod.ts";
import { createGeminiProvider } from "./gemini/mod.ts";
import { createInterpreterProvider } from "./interpreter/mod.ts";
import { createArenaProvider } from "./arena/mod.ts";
import type {
  ListContext,
  ModelInfo,
  Provider,
  ProviderDeps,
  ProviderRoute,
  Readiness,
  Route,
} from "./types.ts";
import { createYouProvider } from "./you/mod.ts";
import type { AccountState } from "../pool/mod.ts";

/** Every provider factory, in matching order. */
const FACTORIES: readonly ((deps: ProviderDeps) => Provider)[] = [
  createCopilotProvider,
  createClaudeProvider,
  createYouProvider,
  createGeminiProvider,
  createCohereProvider,
  createInterpreterProvider,
  createArenaProvider,
  createCozeProvider,
  createCustomProvider,
];

/** The providers of one server. */
export class Registry {
  constructor(readonly providers: readonly Provider[]) {}

  /** The route of `model`, or undefined when no provider serves it. */
  resolve(model: string, config: Config): Route | undefined {
    for (const provider of this.providers) {
      const match = provider.resolve(model, config);
      if (!match) continue;
      return {
        ...match,
        provider,
        model,
        turnMarkers: provider.turnMarkers,
        nativeChoices: match.nativeChoices ?? provider.nativeChoices === true,
      };
    }
    return undefined;
  }

  /** The provider with id `id`. */
  get(id: string): Provider | undefined {
    return this.providers.find((p) => p.id === id);
  }

  /** The models of every provider, without duplicates, in provider order. */
  async models(config: Config, ctx: ListContext = {}): Promise<ModelInfo[]> {
    const lists = await Promise.all(this.providers.map(async (p) => {
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

  /** Every provider's readiness with `config`. */
  readiness(config: Config): { id: string; readiness: Readiness }[] {
    return this.providers.map((p) => ({
      id: p.id,
      readiness: p.readiness?.(config) ?? { ready: true },
    }));
  }

  /** The state of every account pool, secrets masked. */
  pools(): { provider: string; accounts: AccountState[] }[] {
    return this.providers.flatMap((p) => p.pools?.() ?? []);
  }

  /** The extra HTTP routes of every provider. */
  routes(): ProviderRoute[] {
    return this.providers.flatMap((p) => p.routes ?? []);
  }

  /** Closes every provider; waits for their background work. */
  async close(): Promise<void> {
    await Promise.allSettled(this.providers.map((p) => p.close?.()));
  }
}

/** Builds every provider for one server. */
export function createRegistry(deps: ProviderDeps): Registry {
  return new Registry(FACTORIES.map((create) => create(deps)));
}
