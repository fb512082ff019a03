/**
 * A request context for calling one provider instance directly (without the server): the route
 * is resolved by the provider itself, upstream calls share one set of HTTP clients.
 *
 * @module
 */
import { Browsers } from "../src/browser/mod.ts";
import type { Config } from "../src/config/schema.ts";
import { emptyFlags, type RequestFlags } from "../src/flags/types.ts";
import { HttpClients, Upstream } from "../src/net/http.ts";
import type {
  ChatContext,
  Provider,
  ProviderDeps,
  RequestContext,
} from "../src/providers/types.ts";
import { createLogger, type Logger } from "../src/util/log.ts";

/** Dependencies for a provider factory in a test (nothing is started until used). */
export function testDeps(log: Logger = createLogger("silent")): ProviderDeps {
  return { log, browsers: new Browsers(log), http: new HttpClients() };
}

/** Options of `requestContext` and `providerContext`. */
export interface ContextOptions {
  config: Config;
  token?: string;
  signal?: AbortSignal;
  log?: Logger;
}

/** The context of a request that is not a chat (images). */
export function requestContext(o: ContextOptions): RequestContext {
  const signal = o.signal ?? new AbortController().signal;
  const clients = new HttpClients();
  return {
    signal,
    config: o.config,
    log: o.log ?? createLogger("silent"),
    requestId: "test",
    token: o.token,
    upstream: (provider, proxy) =>
      new Upstream({ provider, config: o.config, signal, proxy, clients }),
  };
}

/** The context of a chat request for `model` on `provider`. */
export function providerContext(
  provider: Provider,
  model: string,
  o: ContextOptions & { flags?: RequestFlags },
): ChatContext {
  const match = provider.resolve(model, o.config);
  if (!match) throw new Error(`${provider.id} does not serve ${model}`);
  return {
    ...requestContext(o),
    route: {
      ...match,
      provider,
      model,
      turnMarkers: provider.turnMarkers,
      nativeChoices: match.nativeChoices ?? provider.nativeChoices === true,
    },
    flags: o.flags ?? emptyFlags(),
  };
}
