/**
 * The `custom` provider: any OpenAI-compatible upstream listed under `custom-llm`. Model ids are
 * `<prefix>/<upstream model>`. The client's request is forwarded with its unknown fields, native
 * `tools`/`tool_calls` pass through both ways, and the upstream's stream becomes `ChatEvent`s.
 *
 * @module
 */
import type { Config, CustomLlmConfig } from "../../config/schema.ts";
import { upstreamFailed } from "../../openai/errors.ts";
import type { ChatRequest, EmbeddingRequest } from "../../openai/schema.ts";
import { expectType, httpError, httpErrorOf, readCapped, readJson } from "../../net/http.ts";
import { readSse } from "../../net/sse.ts";
import { keyPoolOptions, PoolSet, useAccount, withAccount } from "../../pool/mod.ts";
import type {
  ChatContext,
  ChatEvent,
  EmbeddingResult,
  ListContext,
  ModelInfo,
  Provider,
  ProviderDeps,
} from "../types.ts";
import { toCustomRequest } from "./request.ts";
import { fromCustomCompletion, fromCustomStream } from "./stream.ts";

/** The `custom-llm` entry whose prefix starts `model`, and the upstream model name. */
export function resolveCustom(
  model: string,
  config: Config,
): { entry: CustomLlmConfig; upstreamModel: string } | undefined {
  const slash = model.indexOf("/");
  if (slash <= 0) return undefined;
  const prefix = model.slice(0, slash);
  const entry = config["custom-llm"].find((e) => e.prefix === prefix);
  const upstreamModel = model.slice(slash + 1);
  return entry && upstreamModel ? { entry, upstreamModel } : undefined;
}

function poolName(entry: CustomLlmConfig): string {
  return `custom:${entry.prefix}`;
}

function proxyOf(entry: CustomLlmConfig): string | false | undefined {
  const p = entry["use-proxies"];
  return p === true ? undefined : p;
}

function headersFor(entry: CustomLlmConfig, key: string | undefined, stream: boolean) {
  const h: Record<string, string> = {
    "content-type": "application/json",
    accept: stream ? "text/event-stream" : "application/json",
    ...entry.headers,
  };
  if (key) h.authorization = `Bearer ${key}`;
  return h;
}

/**
 * The client's own key to send upstream, if any. When the entry has keys, a client's Bearer (often
 * a placeholder such as `sk-xxx`) would replace them and earn a 401: it is used only when it is one
 * of those keys, or when `client-keys` says to forward clients' keys.
 */
function clientKey(entry: CustomLlmConfig, ctx: ChatContext): string | undefined {
  const t = ctx.token;
  if (!t) return undefined;
  const keys = entry["api-key"];
  return keys.length === 0 || entry["client-keys"] || keys.includes(t) ? t : undefined;
}

/** The key pool of an entry, or undefined when neither the client nor config has a key. */
function keyPool(pools: PoolSet, entry: CustomLlmConfig, ctx: ChatContext) {
  if (!clientKey(entry, ctx) && entry["api-key"].length === 0) return undefined;
  return pools.get(poolName(entry), entry["api-key"], keyPoolOptions());
}

/** Streams `fn` with the client's key, a pooled key, or no key when none is configured. */
function withKey(
  pools: PoolSet,
  entry: CustomLlmConfig,
  ctx: ChatContext,
  fn: (key: string | undefined) => AsyncIterable<ChatEvent>,
): AsyncIterable<ChatEvent> {
  const pool = keyPool(pools, entry, ctx);
  if (!pool) return fn(undefined);
  return withAccount(pool, { token: clientKey(entry, ctx), signal: ctx.signal }, fn);
}

/** Model lists of upstreams' `/models`, kept five minutes. */
type ModelCache = Map<string, { at: number; models: ModelInfo[] }>;

async function upstreamModels(
  cache: ModelCache,
  entry: CustomLlmConfig,
  ctx: ListContext,
): Promise<ModelInfo[]> {
  const key = `${entry.prefix} ${entry["base-url"]}`;
  const hit = cache.get(key);
  if (hit && Date.now() - hit.at < 300_000) return hit.models;
  if (!ctx.upstream) return [];
  const http = ctx.upstream("custom", proxyOf(entry));
  const body = await http.json<{ data?: { id?: string }[] }>(`${entry["base-url"]}/models`, {
    headers: headersFor(entry, entry["api-key"][0], false),
    timeouts: { connect: 5, "first-byte": 5, idle: 5 },
  });
  const models = (body.data ?? [])
    .filter((m) => typeof m.id === "string")
    .map((m) => ({ id: `${entry.prefix}/${m.id}`, owned_by: `custom:${entry.prefix}` }));
  cache.set(key, { at: Date.now(), models });
  return models;
}

/** Creates the `custom` provider. */
export function createCustomProvider(deps: ProviderDeps): Provider {
  const pools = new PoolSet(deps.log);
  const cache: ModelCache = new Map();
  return {
    id: "custom",
    nativeChoices: true,

    pools: () => pools.state(),

    readiness(config) {
      const entries = config["custom-llm"];
      if (entries.length === 0) {
        return {
          ready: false,
          note: "no custom-llm entries: add one (prefix, base-url, api-key) for any " +
            "OpenAI-compatible upstream",
        };
      }
      // An entry without keys serves too: with the client's key, or none (a local server).
      const keys = (e: CustomLlmConfig) => {
        const n = e["api-key"].length;
        return n > 0 ? `${n} key${n === 1 ? "" : "s"}` : "no api-key: the client's key, or none";
      };
      return {
        ready: true,
        note: entries.map((e) => `${e.prefix}/… → ${e["base-url"]} (${keys(e)})`).join(", "),
        pooled: entries.some((e) => e["api-key"].length > 0),
      };
    },

    async models(config, ctx = {}) {
      const lists = await Promise.all(config["custom-llm"].map(async (entry) => {
        if (entry.models.length > 0) {
          return entry.models.map((m) => ({
            id: `${entry.prefix}/${m}`,
            owned_by: `custom:${entry.prefix}`,
          }));
        }
        try {
          return await upstreamModels(cache, entry, ctx);
        } catch {
          return [];
        }
      }));
      return lists.flat();
    },

    resolve(model, config) {
      const found = resolveCustom(model, config);
      if (!found) return undefined;
      return {
        upstreamModel: found.upstreamModel,
        toolMode: found.entry.tc ? "emulated" : "native",
        data: found.entry,
      };
    },

    chat(req: ChatRequest, ctx: ChatContext) {
      const entry = ctx.route.data as CustomLlmConfig;
      const upstreamModel = ctx.route.upstreamModel;
      const http = ctx.upstream("custom", proxyOf(entry));
      const url = `${entry["base-url"]}/chat/completions`;
      // A non-streamed request is answered upstream in one piece too: cheaper than parsing a
      // stream only to join it, and then its whole wait counts against the first-byte limit.
      const stream = req.stream === true;
      const timeouts = stream ? undefined : { connect: ctx.config.server.timeouts["first-byte"] };
      return withKey(pools, entry, ctx, async function* (key) {
        const body = toCustomRequest(req, {
          upstreamModel,
          stream,
          streamUsage: entry["stream-usage"],
        });
        const send = () =>
          http.fetch(url, {
            method: "POST",
            headers: headersFor(entry, key, stream),
            body: JSON.stringify(body),
            timeouts,
          });
        let res = await send();
        if (res.status === 400 && body.stream_options) {
          // Some upstreams refuse stream_options; ask once more without it.
          const text = await readCapped(res);
          if (!/stream_options/i.test(text)) throw httpErrorOf(http.provider, res, text);
          delete body.stream_options;
          res = await send();
        }
        if (res.status < 200 || res.status >= 300) throw await httpError(http.provider, res);
        if ((res.headers.get("content-type") ?? "").toLowerCase().includes("application/json")) {
          // A non-streamed answer (asked for, or the upstream ignored `stream: true`).
          yield* fromCustomCompletion(await readJson(http.provider, res));
          return;
        }
        await expectType(http.provider, res, ["text/event-stream"]);
        yield* fromCustomStream(readSse(res.body!));
      });
    },

    async embed(req: EmbeddingRequest, ctx: ChatContext): Promise<EmbeddingResult> {
      const entry = ctx.route.data as CustomLlmConfig;
      const upstreamModel = ctx.route.upstreamModel;
      const http = ctx.upstream("custom", proxyOf(entry));
      const run = async (key: string | undefined) => {
        const body = await http.json<EmbeddingResult>(`${entry["base-url"]}/embeddings`, {
          method: "POST",
          headers: headersFor(entry, key, false),
          body: JSON.stringify({ ...req, model: upstreamModel }),
        });
        if (!Array.isArray(body?.data)) {
          throw upstreamFailed("custom", "embeddings answer without a data list");
        }
        return body;
      };
      const pool = keyPool(pools, entry, ctx);
      if (!pool) return await run(undefined);
      return await useAccount(pool, { token: clientKey(entry, ctx), signal: ctx.signal }, run);
    },
  };
}
