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
  ReadinessContext,
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

  /**
   * The models that can answer, without duplicates, in provider order: those of every provider
   * ready with `config` (or with the listing request's own credential). An id that resolves to
   * another provider (a `custom-llm` prefix that an earlier provider claims) is left out: the
   * provider that lists a model is the one that answers for it.
   */
  async models(config: Config, ctx: ListContext = {}): Promise<ModelInfo[]> {
    const lists = await Promise.all(this.providers.map(async (p) => {
      try {
        const readiness = await readinessOf(p, config, { credential: ctx.credential });
        if (!readiness.ready) return [];
        const models = await p.models(config, ctx);
        return models.filter((m) => this.resolve(m.id, config)?.provider === p);
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

  /** Every provider's readiness with `config` (and a request's credential). */
  readiness(
    config: Config,
    ctx: ReadinessContext = {},
  ): Promise<{ id: string; readiness: Readiness }[]> {
    return Promise.all(this.providers.map(async (p) => ({
      id: p.id,
      readiness: await readinessOf(p, config, ctx),
    })));
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

/**
 * A provider's readiness; one that does not say is taken as ready, and a check that fails is
 * reported as not ready with its reason.
 */
async function readinessOf(
  provider: Provider,
  config: Config,
  ctx: ReadinessContext,
): Promise<Readiness> {
  try {
    return await provider.readiness?.(config, ctx) ?? { ready: true };
  } catch (err) {
    return { ready: false, note: `its readiness check failed: ${(err as Error).message}` };
  }
}

/** Builds every provider for one server. */
export function createRegistry(deps: ProviderDeps): Registry {
  return new Registry(FACTORIES.map((create) => create(deps)));
}
