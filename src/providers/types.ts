/**
 * The one interface every upstream implements. A provider turns a validated OpenAI request into an
 * async stream of `ChatEvent`s and nothing else: it never writes HTTP responses and never formats
 * OpenAI chunks. The server, the tool-call emulator and the flag matchers work on these events.
 *
 * @module
 */
import type { Config } from "../config/schema.ts";
import type { RequestFlags } from "../flags/types.ts";
import type { Upstream } from "../net/http.ts";
import type { ChatRequest, EmbeddingRequest } from "../openai/schema.ts";
import type { PoolSet } from "../pool/mod.ts";
import type { Logger } from "../util/log.ts";

/** Why a choice ended. */
export type FinishReason = "stop" | "length" | "tool_calls" | "content_filter";

/**
 * One event of an answer. `choice` is the index of the choice it belongs to (default 0); only
 * providers that produce several choices in one upstream call (`n`) set it.
 */
export type ChatEvent =
  | { type: "text"; text: string; choice?: number }
  | { type: "reasoning"; text: string; choice?: number }
  | {
    /**
     * A tool call or a fragment of one. The first event of an `index` carries `name` (and `id`
     * when the upstream gave one; the server makes one otherwise); later events of the same
     * index append `arguments` fragments.
     */
    type: "tool_call";
    index: number;
    id?: string;
    name?: string;
    arguments: string;
    choice?: number;
    /** Provider fields to put on the tool call object (e.g. Gemini's thought signature). */
    extra?: Record<string, unknown>;
  }
  | {
    type: "usage";
    prompt_tokens: number;
    completion_tokens: number;
    /** Prompt tokens served from the upstream's cache, when it says so. */
    cached_tokens?: number;
    /** Completion tokens spent on reasoning, when the upstream says so. */
    reasoning_tokens?: number;
  }
  | { type: "finish"; reason: FinishReason; choice?: number };

/** A model as `/v1/models` lists it. */
export interface ModelInfo {
  id: string;
  owned_by: string;
  created?: number;
}

/** What a provider receives with each request. */
export interface ChatContext {
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
  /** The model id exactly as the client sent it. */
  model: string;
  /** Markers parsed out of the messages (`<pad />`, `<notebook />`, ...). */
  flags: RequestFlags;
  /** The account and key pools of every provider. */
  pools: PoolSet;
  /** Makes the HTTP client for one provider (its proxy, the timeouts, the abort signal). */
  upstream(provider: string, proxy?: string | false): Upstream;
}

/** How a provider handles `tools`. */
export type ToolMode = "native" | "emulated";

/** The result of an embeddings call in OpenAI's shape (model is set by the server). */
export interface EmbeddingResult {
  data: { embedding: number[] | string; index: number }[];
  usage: { prompt_tokens: number; total_tokens: number };
}

/** A chat upstream. */
export interface ChatProvider {
  /** Short id: `custom`, `gemini`, `claude`, ... (also the pool name and `owned_by`). */
  readonly id: string;
  /** The models `/v1/models` lists for this provider. */
  models(config: Config, ctx?: { signal?: AbortSignal; upstream?: ChatContext["upstream"] }):
    | ModelInfo[]
    | Promise<ModelInfo[]>;
  /** True when this provider serves `model`. */
  matches(model: string, config: Config): boolean;
  /**
   * `native` passes `tools` upstream; `emulated` makes the server wrap the provider in the
   * prompt tool-call emulator, so `chat` then never sees `tools`.
   */
  toolMode(model: string, config: Config): ToolMode;
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
   * Finishes the provider's background work (conversation deletes, socket closes, a browser) at
   * shutdown; the server awaits it after it stopped taking requests.
   */
  close?(): Promise<void>;
  /** True when `chat` honours `n` itself (events carry `choice`); else the server fans out. */
  readonly nativeChoices?: boolean;
  /**
   * True when the provider flattens the conversation into one prompt with role markers; the
   * server then cuts the answer off where the model starts writing the next turn.
   */
  readonly flattens?: boolean;
}
