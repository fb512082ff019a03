/**
 * Image generation: pick the backends (`backends.ts`), turn the prompt into tags for the spaces
 * that want them, run `n` generations (each on the first backend that works, `failover.ts`),
 * store each image, up-scale HD sizes through bigjpg, and answer in OpenAI's shape (`created`,
 * `data[].url` or `data[].b64_json`, `revised_prompt`).
 *
 * @module
 */
import { readBytes, type Upstream, upstreamFactory } from "../net/http.ts";
import { GatewayError, invalidRequest, upstreamTimeout } from "../openai/errors.ts";
import type { ImageRequest } from "../openai/schema.ts";
import type { PoolSet } from "../pool/mod.ts";
import type { Config } from "../config/schema.ts";
import type { Provider, RequestContext } from "../providers/types.ts";
import { type Backend, imageModelIds, type Plan, selectBackends } from "./backends.ts";
import { generateOnCoze } from "./coze.ts";
import { Failover, NoFailover } from "./failover.ts";
import { magnify } from "./magnify.ts";
import { generateOnPlayground } from "./playground.ts";
import { generateOnPollinations } from "./pollinations.ts";
import { type AppCache, generateOnSpace } from "./spaces.ts";
import { type ImageStore, type StoredImage, tooLarge } from "./store.ts";
import { type Complete, promptToTags } from "./tags.ts";
import { type BackendResult, encodeBase64, type Generation, type ImageSource } from "./types.ts";
import { linkedController } from "../util/signal.ts";

export { type Backend, defaultOrder, imageModelIds, selectBackends } from "./backends.ts";
export { backendStates } from "./readiness.ts";
export { type ImageStore, ImageStores } from "./store.ts";
export { type Complete, remoteComplete, tagsRequest } from "./tags.ts";

/** What the image route provides. */
export interface ImageOptions {
  store: ImageStore;
  /** Public base URL of this server (`server.domain`, or `http://127.0.0.1:<port>`). */
  domain: string;
  /** The prompt-to-tags LLM, when configured. */
  complete?: Complete;
  /** When each up-scaling key may be used again (kept by the server across requests). */
  resting: Map<string, number>;
  /** The provider that paints for the `coze` backend. */
  coze?: Provider;
  /** The image backends' credential pools (playground tokens). */
  pools: PoolSet;
  /** Notices already logged (retired backend names), kept by the server. */
  notices: Set<string>;
}

/** One entry of `data`. */
export type ImageData =
  & ({ url: string } | { b64_json: string })
  & { revised_prompt: string };

/** OpenAI's images response. */
export interface ImagesResponse {
  created: number;
  data: ImageData[];
}

/** Generations run at the same time for one request. */
const PARALLEL = 2;

/** True when `size` asks for up-scaling (`HD`, `1792x…`) or `quality` is `hd`. */
export function wantsHd(req: ImageRequest): boolean {
  return req.size === "HD" || (req.size ?? "").startsWith("1792x") || req.quality === "hd";
}

function checkRequest(req: ImageRequest): void {
  if (req.prompt.trim() === "") throw invalidRequest("The prompt is empty", "prompt");
  const size = req.size;
  if (size != null && size !== "HD" && size !== "auto" && !/^\d{2,5}x\d{2,5}$/.test(size)) {
    throw invalidRequest(
      `Invalid size '${size}': use WIDTHxHEIGHT (e.g. 1024x1024, 1792x1024) or HD`,
      "size",
    );
  }
}

/** The size to draw: `WxH` clamped to 256..2048 per side, 1024x1024 otherwise. */
export function sizeOf(req: ImageRequest): { width: number; height: number } {
  const m = /^(\d+)x(\d+)$/.exec(req.size ?? "");
  const clamp = (n: number) => Math.min(2048, Math.max(256, n));
  return m ? { width: clamp(Number(m[1])), height: clamp(Number(m[2])) } : SQUARE;
}

const SQUARE = { width: 1024, height: 1024 };

/** A seed of its own for each image (gradio spaces take 32-bit ones). */
function randomSeed(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0] % 2_147_483_647;
}

/** Answers an image request. */
export async function generateImages(
  req: ImageRequest,
  ctx: RequestContext,
  options: ImageOptions,
): Promise<ImagesResponse> {
  checkRequest(req);
  const config = ctx.config.images;
  const plan = selectBackends(req.model, ctx.token, ctx.config);
  if (!plan) {
    throw new GatewayError(
      404,
      `The model '${req.model}' is not an image model here; use dall-e-3 (the backends tried ` +
        `in turn, or the one the Authorization value names), pollinations/<model>, or one of ${
          imageModelIds(ctx.config).filter((m) => m !== "dall-e-3").join(", ")
        }`,
      "invalid_request_error",
      "model_not_found",
      "model",
    );
  }
  for (const notice of plan.notices) {
    // Logged once per server, not per request.
    if (options.notices.has(notice)) continue;
    options.notices.add(notice);
    ctx.log.warn(notice);
  }
  // Every image is kept (even for b64_json): nothing is generated for a store that cannot.
  await options.store.ensureWritable();
  // The whole request (tags, generations, up-scaling) is bounded by images.timeout.
  const limit = new AbortController();
  const timer = config.timeout > 0
    ? setTimeout(
      () => limit.abort(new DOMException("images.timeout", "TimeoutError")),
      config.timeout * 1000,
    )
    : undefined;
  const signal = linkedController([ctx.signal, limit.signal]).signal;
  const bounded: RequestContext = {
    ...ctx,
    signal,
    upstream: upstreamFactory(ctx.config, signal, ctx.upstream("images").clients),
  };
  try {
    return await run(req, bounded, plan, options);
  } catch (err) {
    if (limit.signal.aborted && !ctx.signal.aborted) {
      throw upstreamTimeout(
        plan.explicit ? plan.backends[0].name : "images",
        `the image was not ready within ${config.timeout}s (images.timeout)`,
      );
    }
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

/** The prompt-to-tags mode of a backend: spaces have their own, others draw the text. */
function tagsMode(backend: Backend): "keywords" | "phrases" | "off" {
  return backend.kind === "space" ? backend.space.tags : "off";
}

/** The proxy setting of a backend (its file host sits behind the same network path). */
function proxiesOf(backend: Backend, config: Config): string | false | undefined {
  if (backend.kind === "space") return backend.space.proxies;
  return config.images[backend.kind].proxies;
}

async function run(
  req: ImageRequest,
  ctx: RequestContext,
  plan: Plan,
  options: ImageOptions,
): Promise<ImagesResponse> {
  const config = ctx.config.images;
  // An empty prompt (once its markers are gone) is the client's error, before any backend.
  await promptToTags(req.prompt, undefined);
  const prompts = new Map<string, Promise<string>>();
  const promptFor = (mode: "keywords" | "phrases" | "off") => {
    let p = prompts.get(mode);
    if (!p) {
      const llm = mode !== "off" && options.complete
        ? (instruction: string) => options.complete!(instruction, ctx)
        : undefined;
      p = promptToTags(req.prompt, llm, mode === "phrases");
      prompts.set(mode, p);
    }
    return p;
  };
  const apps: AppCache = new Map();
  const failover = new Failover(plan.backends, ctx.log, ctx.signal);
  const size = sizeOf(req);
  const results = await inBatches(req.n ?? 1, PARALLEL, () =>
    failover.run(async (backend) => {
      let prompt: string;
      try {
        prompt = await promptFor(tagsMode(backend));
      } catch (err) {
        // The tags LLM failing is no backend's fault: no other backend would fare better.
        throw new NoFailover(err);
      }
      const gen: Generation = {
        prompt,
        negative: config["negative-prompt"],
        style: req.style,
        quality: req.quality,
        seed: randomSeed(),
        ...size,
      };
      const result = await draw(backend, gen, ctx, options, apps);
      const stored = await keep(result.image, backend, ctx, options.store);
      return { stored, prompt: result.prompt };
    }));
  const upscaled = wantsHd(req) && config.magnify.length > 0
    ? await Promise.all(
      results.map(async (r) => ({ ...r, stored: await upscale(r.stored, ctx, options) })),
    )
    : results;
  const created = Math.floor(Date.now() / 1000);
  return {
    created,
    data: upscaled.map(({ stored, prompt }) =>
      req.response_format === "b64_json"
        ? { b64_json: encodeBase64(stored.bytes), revised_prompt: prompt }
        : { url: `${options.domain}/file/${stored.rel}`, revised_prompt: prompt }
    ),
  };
}

/** One image on one backend. */
function draw(
  backend: Backend,
  gen: Generation,
  ctx: RequestContext,
  options: ImageOptions,
  apps: AppCache,
): Promise<BackendResult> {
  switch (backend.kind) {
    case "space":
      return generateOnSpace(backend.space, gen, ctx, apps);
    case "pollinations":
      return generateOnPollinations(gen, ctx, {
        model: backend.model,
        credential: backend.credential,
        maxBytes: options.store.maxBytes,
      });
    case "playground":
      return generateOnPlayground(gen, ctx, options.pools, backend.credential);
    case "coze":
      return generateOnCoze(gen, ctx, options.coze, backend.credential);
  }
}

/** Runs `count` jobs, at most `width` at a time; fails with the first error. */
async function inBatches<T>(count: number, width: number, job: () => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      out[i] = await job();
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, count) }, worker));
  return out;
}

/** Stores an image source: bytes directly, a URL after downloading it (capped). */
async function keep(
  source: ImageSource,
  backend: Backend,
  ctx: RequestContext,
  store: ImageStore,
): Promise<StoredImage> {
  if ("bytes" in source) return await store.save(source.bytes, backend.name);
  const http = ctx.upstream(backend.name, proxiesOf(backend, ctx.config));
  const bytes = await download(http, source.url, store.maxBytes, source.headers);
  return await store.save(bytes, backend.name);
}

/** Downloads an image, refusing (and stopping) once it exceeds `max` bytes. */
export async function download(
  http: Upstream,
  url: string,
  max: number,
  headers: Record<string, string> = {},
): Promise<Uint8Array> {
  const res = await http.ok(url, { headers });
  return await readBytes(res, max, (size) => tooLarge(size, max, http.provider));
}

/** Up-scales a stored image through bigjpg; on failure the original is kept (logged). */
async function upscale(
  stored: StoredImage,
  ctx: RequestContext,
  options: ImageOptions,
): Promise<StoredImage> {
  const config = ctx.config.images;
  const http = ctx.upstream("bigjpg");
  try {
    const url = await magnify(http, `${options.domain}/file/${stored.rel}`, {
      base: config["bigjpg-url"],
      keys: config.magnify,
      pollMs: config["magnify-poll"] * 1000,
      signal: ctx.signal,
      resting: options.resting,
    });
    const bytes = await download(http, url, options.store.maxBytes);
    return await options.store.save(bytes, "bigjpg");
  } catch (err) {
    if (ctx.signal.aborted) throw err;
    ctx.log.warn(
      `images: up-scaling failed, answering the original image: ${(err as Error).message}`,
    );
    return stored;
  }
}
