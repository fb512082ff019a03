/**
 * The Hugging Face gradio spaces: each one's queue (HTTP or gradio 3 websocket), `fn_index` and
 * `trigger_id`, the input list it expects, and where its image is in the output.
 *
 * | backend | queue | fn | inputs | image |
 * |---|---|---|---|---|
 * | prodia-sd | HTTP | 0 / 15 | prompt, negative, checkpoint, 25 steps, sampler, cfg 10, 1024, 1024, seed -1 | a file |
 * | prodia-xl | websocket | 0 | the same | a base64 PNG |
 * | dalle-4k | HTTP | 3 / 6 | prompt, negative, true, style, 30, 1024, 1024, 6, true | a gallery |
 * | dalle-3-xl | HTTP | 3 / 6 | prompt, negative, true, seed, 1024, 1024, 12, true | a gallery |
 * | animagine-xl | HTTP | 5 / 49 | prompt, negative, seed, 1024, 1024, 7, 50, sampler, "1024 x 1024", style, "Light v3.1", true, 0.55, 1.5, false | a gallery |
 * | google-xl | websocket | 2 | prompt, negative, 25, style | base64 JPEGs |
 *
 * @module
 */
import type { Config } from "../config/schema.ts";
import { CookieJar, queueResult, sessionHash, socketResult } from "../net/gradio.ts";
import { upstreamFailed } from "../openai/errors.ts";
import type { RequestContext } from "../providers/types.ts";
import { snippet } from "../net/http.ts";
import type { BackendId } from "./backends.ts";
import {
  ANIMAGINE_SAMPLERS,
  ANIMAGINE_STYLES,
  DALLE_4K_STYLES,
  GOOGLE_STYLES,
  pickSampler,
  pickStyle,
  PRODIA_SAMPLERS,
  PRODIA_SD_MODELS,
  PRODIA_XL_MODELS,
} from "./styles.ts";
import { type BackendResult, decodeDataUrl, type Generation, type ImageSource } from "./types.ts";

/** Words the original added to prompts for the stable-diffusion spaces. */
const DECORATION = ", {{{{by famous artist}}}, beautiful, 4k";

/** More negative words for the dalle-3-xl space. */
const XL_NEGATIVE =
  ", extra limb, missing limb, floating limbs, (mutated hands and fingers:1.4), disconnected " +
  "limbs, mutation, mutated, ugly, disgusting, blurry, amputation";

const USER_AGENT =
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) " +
  "Chrome/125.0.0.0 Safari/537.36 Edg/125.0.0.0";

type SpaceId = Exclude<BackendId, "playground" | "coze">;

interface SpaceSpec {
  base: string;
  fn: [number, number];
  socket?: boolean;
  /** The input list and the prompt it carries. */
  inputs(gen: Generation): { data: unknown[]; prompt: string };
  /** The image in the output list. */
  image(data: unknown[], root: string): ImageSource | undefined;
}

function randomInt(min: number, span: number): number {
  return min + Math.floor(Math.random() * span);
}

/** The image of a gradio file value (`FileData`, a gradio 3 file dict, a URL or base64). */
function fileSource(value: unknown, root: string): ImageSource | undefined {
  if (typeof value === "string") {
    if (/^https?:\/\//.test(value)) return { url: value };
    if (value.startsWith("data:") || /^[A-Za-z0-9+/=\s]{64,}$/.test(value)) {
      return { bytes: decodeDataUrl(value) };
    }
    return undefined;
  }
  if (!value || typeof value !== "object") return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v.url === "string" && v.url) return fileSource(v.url, root);
  const path = typeof v.path === "string" ? v.path : typeof v.name === "string" ? v.name : "";
  if (path) return { url: `${root}/file=${path}` };
  if (typeof v.data === "string") return fileSource(v.data, root);
  return undefined;
}

/** The first image of a gallery value (`[{image, caption}]` or a list of files). */
function galleryFirst(value: unknown, root: string): ImageSource | undefined {
  if (!Array.isArray(value) || value.length === 0) return undefined;
  const item = value[0];
  if (item && typeof item === "object" && "image" in (item as object)) {
    return fileSource((item as { image: unknown }).image, root);
  }
  if (Array.isArray(item)) return fileSource(item[0], root);
  return fileSource(item, root);
}

const SPECS: Record<SpaceId, SpaceSpec> = {
  "prodia-sd": {
    base: "https://prodia-fast-stable-diffusion.hf.space",
    fn: [0, 15],
    inputs: (g) => {
      const prompt = g.prompt + DECORATION;
      const model = pickStyle(PRODIA_SD_MODELS, g.style);
      const sampler = pickSampler(PRODIA_SAMPLERS, g.quality);
      return { prompt, data: [prompt, g.negative, model, 25, sampler, 10, 1024, 1024, -1] };
    },
    image: (d, root) => fileSource(d[0], root),
  },
  "prodia-xl": {
    base: "wss://prodia-sdxl-stable-diffusion-xl.hf.space",
    fn: [0, 0],
    socket: true,
    inputs: (g) => {
      const prompt = g.prompt + DECORATION;
      const model = pickStyle(PRODIA_XL_MODELS, g.style);
      const sampler = pickSampler(PRODIA_SAMPLERS, g.quality);
      return { prompt, data: [prompt, g.negative, model, 25, sampler, 10, 1024, 1024, -1] };
    },
    image: (d, root) => fileSource(d[0], root),
  },
  "dalle-4k": {
    base: "https://prithivmlmods-dalle-4k.hf.space",
    fn: [3, 6],
    inputs: (g) => ({
      prompt: g.prompt,
      data: [
        g.prompt,
        g.negative,
        true,
        pickStyle(DALLE_4K_STYLES, g.style),
        30,
        1024,
        1024,
        6,
        true,
      ],
    }),
    image: (d, root) => galleryFirst(d[0], root),
  },
  "dalle-3-xl": {
    base: "https://ehristoforu-dalle-3-xl-lora-v2.hf.space",
    fn: [3, 6],
    inputs: (g) => {
      const prompt = g.prompt + DECORATION;
      const seed = randomInt(1_100_000_000, 51_206_501);
      return { prompt, data: [prompt, g.negative + XL_NEGATIVE, true, seed, 1024, 1024, 12, true] };
    },
    image: (d, root) => galleryFirst(d[0], root),
  },
  "animagine-xl": {
    base: "https://cagliostrolab-animagine-xl-3-1.hf.space",
    fn: [5, 49],
    inputs: (g) => {
      const prompt = g.prompt + DECORATION;
      const seed = randomInt(300_000_000, 9_068_457);
      const sampler = pickSampler(ANIMAGINE_SAMPLERS, g.quality);
      const style = pickStyle(ANIMAGINE_STYLES, g.style);
      return {
        prompt,
        data: [
          prompt,
          g.negative,
          seed,
          1024,
          1024,
          7,
          50,
          sampler,
          "1024 x 1024",
          style,
          "Light v3.1",
          true,
          0.55,
          1.5,
          false,
        ],
      };
    },
    image: (d, root) => galleryFirst(d[0], root),
  },
  "google-xl": {
    base: "wss://google-sdxl.hf.space",
    fn: [2, 0],
    socket: true,
    inputs: (g) => {
      const prompt = g.prompt + DECORATION;
      return { prompt, data: [prompt, g.negative, 25, pickStyle(GOOGLE_STYLES, g.style)] };
    },
    image: (d, root) => {
      // Several images come back; one is picked at random.
      const list = Array.isArray(d[0]) ? d[0] : [];
      if (list.length === 0) return undefined;
      return fileSource(list[Math.floor(Math.random() * list.length)], root);
    },
  },
};

/** The configured root of a space (`images.<backend>.base-url`) or its public host. */
export function spaceRoot(space: SpaceId, config: Config): string {
  return config.images[space]["base-url"] ?? SPECS[space].base;
}

/** Generates one image on a gradio space. */
export async function generateOnSpace(
  space: SpaceId,
  gen: Generation,
  ctx: RequestContext,
): Promise<BackendResult> {
  const spec = SPECS[space];
  const settings = ctx.config.images[space];
  const root = spaceRoot(space, ctx.config);
  const [fnIndex, triggerId] = settings.fn ?? spec.fn;
  const { data, prompt } = spec.inputs(gen);
  const httpRoot = root.replace(/^ws(s?):\/\//i, "http$1://");
  const jar = new CookieJar();
  const call = {
    root,
    fnIndex,
    triggerId: spec.socket ? undefined : triggerId,
    data,
    sessionHash: sessionHash(),
    jar,
    headers: {
      "user-agent": USER_AGENT,
      origin: httpRoot,
      referer: `${httpRoot}/?__theme=light`,
      "accept-language": "en-US,en;q=0.9",
    },
  };
  const output = spec.socket
    ? await socketResult({
      provider: space,
      config: ctx.config,
      signal: ctx.signal,
      proxy: settings.proxies,
      clients: ctx.upstream(space).clients,
    }, call)
    : await queueResult(ctx.upstream(space, settings.proxies), { ...call, root: httpRoot });
  const image = spec.image(output, httpRoot);
  if (!image) {
    throw upstreamFailed(
      space,
      `no image in the space's output: ${snippet(JSON.stringify(output))}`,
    );
  }
  // Files of a space may need the session's cookies (a sticky backend) to be fetched.
  if ("url" in image) image.cookie = jar.header() || undefined;
  return { image, prompt };
}
