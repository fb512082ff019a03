/**
 * Image generation: pick the backend, turn the prompt into tags (gradio spaces), run `n`
 * generations, store each image, up-scale HD sizes through bigjpg, and answer in OpenAI's shape
 * (`created`, `data[].url` or `data[].b64_json`, `revised_prompt`).
 *
 * @module
 */
import { readBytes, type Upstream, upstreamFactory } from "../net/http.ts";
import { GatewayError, invalidRequest, upstreamTimeout } from "../openai/errors.ts";
import type { ImageRequest } from "../openai/schema.ts";
import type { PoolSet } from "../pool/mod.ts";
import type { Provider, RequestContext } from "../providers/types.ts";
import { type BackendId, imageModelIds, selectBackend, type Selection } from "./backends.ts";
import { generateOnCoze } from "./coze.ts";
import { magnify } from "./magnify.ts";
import { generateOnPlayground } from "./playground.ts";
import { generateOnSpace } from "./spaces.ts";
import { type ImageStore, type StoredImage, tooLarge } from "./store.ts";
import { type Complete, promptToTags } from "./tags.ts";
import { type BackendResult, encodeBase64, type Generation, type ImageSource } from "./types.ts";
import { linkedController } from "../util/signal.ts";

export { type BackendId, selectBackend } from "./backends.ts";
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

/** Answers an image request. */
export async function generateImages(
  req: ImageRequest,
  ctx: RequestContext,
  options: ImageOptions,
): Promise<ImagesResponse> {
  checkRequest(req);
  const config = ctx.config.images;
  const selection = selectBackend(req.model, ctx.token, ctx.config);
  if (!selection) {
    throw new GatewayError(
      404,
      `The model '${req.model}' is not an image model here; use dall-e-3 (the backend chosen by ` +
        `the Authorization value) or one of ${
          imageModelIds().filter((m) => m !== "dall-e-3").join(", ")
        }`,
      "invalid_request_error",
      "model_not_found",
      "model",
    );
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
    return await run(req, bounded, selection, options);
  } catch (err) {
    if (limit.signal.aborted && !ctx.signal.aborted) {
      throw upstreamTimeout(
        selection.backend,
        `the image was not ready within ${config.timeout}s (images.timeout)`,
      );
    }
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

async function run(
  req: ImageRequest,
  ctx: RequestContext,
  selection: Selection,
  options: ImageOptions,
): Promise<ImagesResponse> {
  const config = ctx.config.images;
  const { backend, credential } = selection;
  const isSpace = backend !== "playground" && backend !== "coze";
  const prompt = isSpace
    ? await promptToTags(
      req.prompt,
      options.complete && ((instruction) => options.complete!(instruction, ctx)),
      backend === "dalle-4k" || backend === "dalle-3-xl",
    )
    : req.prompt.trim();
  const gen: Generation = {
    prompt,
    negative: config["negative-prompt"],
    style: req.style,
    quality: req.quality,
  };
  const once = (): Promise<BackendResult> => {
    if (backend === "playground") {
      return generateOnPlayground(gen, ctx, options.pools, credential);
    }
    if (backend === "coze") return generateOnCoze(gen, ctx, options.coze, credential);
    return generateOnSpace(backend, gen, ctx);
  };
  const n = req.n ?? 1;
  const results = await inBatches(n, PARALLEL, async () => {
    const result = await once();
    let stored = await keep(result.image, backend, ctx, options.store);
    if (wantsHd(req) && config.magnify.length > 0) {
      stored = await upscale(stored, ctx, options);
    }
    return { stored, prompt: result.prompt };
  });
  const created = Math.floor(Date.now() / 1000);
  return {
    created,
    data: results.map(({ stored, prompt }) =>
      req.response_format === "b64_json"
        ? { b64_json: encodeBase64(stored.bytes), revised_prompt: prompt }
        : { url: `${options.domain}/file/${stored.rel}`, revised_prompt: prompt }
    ),
  };
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
  backend: BackendId,
  ctx: RequestContext,
  store: ImageStore,
): Promise<StoredImage> {
  if ("bytes" in source) return await store.save(source.bytes, backend);
  // Through the backend's own proxy: its file host sits behind the same network path.
  const http = ctx.upstream(backend, ctx.config.images[backend].proxies);
  const bytes = await download(http, source.url, store.maxBytes, source.cookie);
  return await store.save(bytes, backend);
}

/** Downloads an image, refusing (and stopping) once it exceeds `max` bytes. */
export async function download(
  http: Upstream,
  url: string,
  max: number,
  cookie?: string,
): Promise<Uint8Array> {
  const res = await http.ok(url, { headers: cookie ? { cookie } : {} });
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
