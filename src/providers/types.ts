/**
 * The one interface every upstream implements, and what travels with a request to it.
 *
 * A provider module exports a factory (`create<Name>Provider(deps)`); the server builds one
 * instance of each at start (`registry.ts`). An instance owns its state: account pools, caches,
 * background work, sockets, a browser, extra HTTP routes. A request's model id is resolved once
 * into a `Route` (provider, upstream model, tool mode, turn markers), which rides on the
 * `ChatContext`; nothing downstream parses the model id again.
 *
 * A provider turns a validated request into an async stream of `ChatEvent`s and nothing else: it
 * never writes HTTP responses and never formats any client API's chunks.
 *
 * @module
 */
import type { Browsers } from "../browser/mod.ts";
import type { Config } from "../config/schema.ts";
import type { ChatEvent } from "../core/events.ts";
import type { RequestFlags } from "../flags/types.ts";
import type { HttpClients, Upstream } from "../net/http.ts";
import type { TransportKind } from "../net/transport/mod.ts";
import type { ChatRequest, EmbeddingRequest } from "../openai/schema.ts";
import type { AccountState } from "../pool/mod.ts";
import type { Logger } from "../util/log.ts";

export type { ChatEvent, FinishReason } from "../core/events.ts";

/** A model as `/v1/models` lists it. */
export interface ModelInfo {
  id: string;
  owned_by: string;
  created?: number;
}

/** How a provider handles `tools`. */
export type ToolMode = "native" | "emulated";

/**
 * Where a flattened answer ends: the texts that mean the model started writing the next turn
 * (`needles`), and turn prefixes it may put at the very start of its answer (`leading`, dropped).
 */
export interface TurnMarkers {
  needles: readonly string[];
  leading: readonly string[];
}

/** What a provider says about a model id it serves. */
export interface ModelMatch<T = unknown> {
  /** The model id the upstream receives (may differ from the client's). */
  upstreamModel: string;
  toolMode: ToolMode;
  /** Provider data resolved with the model (a `custom-llm` entry, a bot), for its `chat`. */
  data?: T;
  /** Overrides the provider's `nativeChoices` for this model (some models take one candidate). */
  nativeChoices?: boolean;
}

/** A request's resolved model: decided once, read by the pipeline and the provider. */
export interface Route<T = unknown> extends ModelMatch<T> {
  provider: Provider;
  /** The model id exactly as the client sent it (what responses name). */
  model: string;
  /** The provider's turn markers when it flattens the conversation into one prompt. */
  turnMarkers?: TurnMarkers;
  /** True when the provider answers `n` choices itself (events carry `choice`). */
  nativeChoices: boolean;
}

/**
 * Where a provider keeps images it receives (a chat upstream's generated images): the server's
 * image store, served at `/file/...` of this server.
 */
export interface ImageSink {
  /** The largest image kept, in bytes (`images.max-size`). */
  readonly maxBytes: number;
  /** Stores an image and returns the URL clients fetch it from; refuses non-images (502). */
  save(bytes: Uint8Array, source: string): Promise<string>;
}

/** What any work done for a request receives (chat, embeddings, images). */
export interface RequestContext {
  /** Aborted when the client goes away or the request ends; pass it to every upstream call. */
  signal: AbortSignal;
  /** The configuration in force when the request arrived. */
  config: Config;
  /** A logger whose lines carry the request id. */
  log: Logger;
  /** The request id (also in the `X-Request-Id` header). */
  requestId: string;
  /**
   * The upstream credential the client sent (`Authorization: Bearer` or `X-Api-Key`), or
   * undefined when it sent none or when `server.password` consumed it; then pools serve.
   */
  token?: string;
  /**
   * Makes the HTTP client for one provider (its proxy, the timeouts, the abort signal); the
   * transport is the provider's config `transport` unless `transport` says otherwise.
   */
  upstream(provider: string, proxy?: string | false, transport?: TransportKind): Upstream;
  /** The server's image store, for images a provider receives (absent outside the server). */
  images?: ImageSink;
}

/** What a provider receives with each chat or embeddings request. */
export interface ChatContext extends RequestContext {
  /** The resolved model. */
  route: Route;
  /** Markers parsed out of the messages (`<pad />`, `<notebook />`, ...). */
  flags: RequestFlags;
}

/** The result of an embeddings call in OpenAI's shape (model is set by the server). */
export interface EmbeddingResult {
  data: { embedding: number[] | string; index: number }[];
  usage: { prompt_tokens: number; total_tokens: number };
}

/** Context for listing models (no request behind it). */
export interface ListContext {
  signal?: AbortSignal;
  upstream?: ChatContext["upstream"];
  /** The listing request's credential (see `ReadinessContext.credential`). */
  credential?: string;
}

/** An HTTP route a provider serves besides the API (e.g. a socket the upstream connects to). */
export interface ProviderRoute {
  /** A Hono path pattern (`/socket.io/*`). */
  path: string;
  /** Answers a request on `path` (any method), with the configuration in force. */
  handle(req: Request, config: Config): Response | Promise<Response>;
}

/**
 * Whether a provider can serve requests with the configuration, and what it lacks if not. Ready
 * means a request is served with what is configured (a key or token pool, a base URL that needs
 * no credential), or, asked with a `credential`, with that credential.
 */
export interface Readiness {
  ready: boolean;
  /**
   * What to configure (the config key) or what a client must send when it is not ready; what
   * serves when it is ("2 keys (gemini.keys)"). Never a secret.
   */
  note?: string;
  /**
   * True when it serves requests with what belongs to this server's owner: credentials from
   * config (accounts, keys), or a local server that runs code (the interpreter).
   */
  pooled?: boolean;
}

/** What readiness may be asked with besides the config. */
export interface ReadinessContext {
  /**
   * The credential a request carries (undefined when it sent none or `server.password` took
   * it): a provider that would serve with it (a key of its shape) is ready for that request.
   */
  credential?: string;
}

/** What the server gives each provider factory. */
export interface ProviderDeps {
  /** The server's logger (requests bring their own, with the request id). */
  log: Logger;
  /** The server's Chromium, started on first use. */
  browsers: Browsers;
  /** The server's HTTP clients (per proxy), for work outside a request. */
  http: HttpClients;
}

/** A chat upstream: one instance per server. */
export interface Provider {
  /** Short id: `custom`, `gemini`, `claude`, ... (also the `owned_by` of its models). */
  readonly id: string;
  /** The models `/v1/models` lists for this provider. */
  models(config: Config, ctx?: ListContext): ModelInfo[] | Promise<ModelInfo[]>;
  /** What this provider makes of `model`, or undefined when it does not serve it. */
  resolve(model: string, config: Config): ModelMatch | undefined;
  /** Streams the answer to `req`. Errors before the first event may be retried by pools. */
  chat(req: ChatRequest, ctx: ChatContext): AsyncIterable<ChatEvent>;
  /**
   * The prompt this provider would send upstream for `req` (for `<echo />`); providers that
   * flatten the conversation implement it with the same code `chat` uses.
   */
  renderPrompt?(req: ChatRequest, ctx: ChatContext): string | Promise<string>;
  /** `/v1/embeddings`, for providers that have them. */
  embed?(req: EmbeddingRequest, ctx: ChatContext): Promise<EmbeddingResult>;
  /**
   * Paints `prompt` and returns the image's URL, for providers that double as an image backend
   * (`credential`: the client's, else the provider's pool).
   */
  paint?(prompt: string, ctx: RequestContext, credential?: string): Promise<string>;
  /** The state of this provider's account pools, for `/v1/pool` (secrets masked). */
  pools?(): { provider: string; accounts: AccountState[] }[];
  /** Extra HTTP routes this provider serves; the server mounts them without naming it. */
  readonly routes?: readonly ProviderRoute[];
  /**
   * Whether it can serve with `config` (and the request's credential), for `/v1/models`, the
   * welcome page and the start-up log. A provider whose readiness is a fact of its upstream (a
   * local server that runs or not) answers asynchronously, with a short bounded check.
   */
  readiness?(config: Config, ctx?: ReadinessContext): Readiness | Promise<Readiness>;
  /** Resolves when the background work started so far (conversation deletes) has finished. */
  settled?(): Promise<void>;
  /**
   * Finishes the instance's background work (conversation deletes, socket closes) at shutdown;
   * the server awaits it after it stopped taking requests.
   */
  close?(): Promise<void>;
  /** True when `chat` honours `n` itself (events carry `choice`); else the pipeline fans out. */
  readonly nativeChoices?: boolean;
  /**
   * Set when the provider flattens the conversation into one prompt: the pipeline cuts the
   * answer off where the model starts writing the next turn.
   */
  readonly turnMarkers?: TurnMarkers;
}
