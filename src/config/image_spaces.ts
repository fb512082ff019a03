/**
 * The image spaces a configuration starts with, and the names older configurations and clients
 * use for backends. Data only: `schema.ts` parses the spaces like any `images.spaces` list, the
 * legacy migration and the image route read the names.
 *
 * Spaces come from upstreams-2026 section 8: FLUX.1-dev (ZeroGPU, queue `fn_index` 2 /
 * `trigger_id` 4, gpt4free `BlackForestLabs_Flux1Dev.py`), Stable Diffusion 3.5 Large
 * (`/call/infer`, gpt4free `StabilityAI_SD35Large.py`), and the spaces the original adapter
 * used in March 2025 (`relay/hf/fetch.go`, current status unknown).
 *
 * @module
 */

/** One `images.spaces` entry as a config file spells it. */
export interface SpaceInput {
  name: string;
  root: string;
  "api-name"?: string;
  fn?: number | [number, number];
  data: unknown[] | Record<string, unknown> | string;
  image?: string;
  tags?: "keywords" | "phrases" | "off";
  styles?: string | string[];
  samplers?: string | string[];
}

/** The words the original added to prompts for its stable-diffusion spaces. */
const DECORATED = "{{prompt}}, {{{{by famous artist}}}, beautiful, 4k";

/** The negative words the original added for the dalle-3-xl space. */
const XL_NEGATIVE = "{{negative_prompt}}, extra limb, missing limb, floating limbs, (mutated " +
  "hands and fingers:1.4), disconnected limbs, mutation, mutated, ugly, disgusting, blurry, " +
  "amputation";

/** The default `images.spaces`, in the order `dall-e-3` tries them. */
export const DEFAULT_SPACES: readonly SpaceInput[] = [
  {
    name: "flux-dev",
    root: "https://black-forest-labs-flux-1-dev.hf.space",
    fn: [2, 4],
    data: ["{{prompt}}", "{{seed}}", false, "{{width}}", "{{height}}", 3.5, 28],
    tags: "phrases",
  },
  {
    name: "sd-3.5-large",
    root: "https://stabilityai-stable-diffusion-3-5-large.hf.space",
    "api-name": "infer",
    data: [
      "{{prompt}}",
      "{{negative_prompt}}",
      "{{seed}}",
      false,
      "{{width}}",
      "{{height}}",
      4.5,
      28,
    ],
    tags: "phrases",
  },
  {
    name: "dalle-4k",
    root: "https://ijohn07-dalle-4k.hf.space",
    fn: [3, 6],
    data: ["{{prompt}}", "{{negative_prompt}}", true, "{{style}}", "{{seed}}", 1024, 1024, 6, true],
    image: "0",
    tags: "phrases",
    styles: "dalle-4k",
  },
  {
    name: "dalle-3-xl",
    root: "https://ehristoforu-dalle-3-xl-lora-v2.hf.space",
    fn: [3, 6],
    data: [DECORATED, XL_NEGATIVE, true, "{{seed}}", 1024, 1024, 12, true],
    tags: "phrases",
  },
  {
    name: "animagine-xl",
    root: "https://asahina2k-animagine-xl-3-1.hf.space",
    fn: [5, 49],
    data: [
      "{{prompt}}",
      "{{negative_prompt}}",
      "{{seed}}",
      1024,
      1024,
      7,
      35,
      "{{sampler}}",
      "1024 x 1024",
      "{{style}}",
      "Heavy v3.1",
      false,
      0.55,
      1.5,
      true,
    ],
    styles: "animagine",
    samplers: "animagine",
  },
  {
    name: "google-xl",
    root: "wss://google-sdxl.hf.space",
    fn: 2,
    data: [DECORATED, "{{negative_prompt}}", 25, "{{style}}"],
    styles: "google",
  },
];

/**
 * The 2024 spaces that are gone, as `images.spaces` entries: used only when an old config still
 * points one of them at a root of its own (`images.prodia-sd.base-url`, a mirror).
 */
export const RETIRED_SPACES: Readonly<Record<string, SpaceInput>> = {
  "prodia-sd": {
    name: "prodia-sd",
    root: "https://prodia-fast-stable-diffusion.hf.space",
    fn: [0, 15],
    data: [DECORATED, "{{negative_prompt}}", "{{style}}", 25, "{{sampler}}", 10, 1024, 1024, -1],
    styles: "prodia-sd",
    samplers: "prodia",
  },
  "prodia-xl": {
    name: "prodia-xl",
    root: "wss://prodia-sdxl-stable-diffusion-xl.hf.space",
    fn: 0,
    data: [DECORATED, "{{negative_prompt}}", "{{style}}", 25, "{{sampler}}", 10, 1024, 1024, -1],
    styles: "prodia-xl",
    samplers: "prodia",
  },
};

/** Other names of today's backends, accepted as they are (`4k.dall-e-3`, `sk-animagine-xl-3.1`). */
export const IMAGE_ALIASES: Readonly<Record<string, string>> = {
  "4k": "dalle-4k",
  "3-xl": "dalle-3-xl",
  animagine: "animagine-xl",
  "animagine-xl-3.1": "animagine-xl",
  google: "google-xl",
  flux: "flux-dev",
  sd3: "sd-3.5-large",
  pg: "playground",
  polli: "pollinations",
};

/** Backends of the 2024 gateway that are gone: what serves their names now, and why. */
export const RETIRED_IMAGE_NAMES: Readonly<Record<string, { to: string; why: string }>> = {
  "prodia-sd": { to: "sd-3.5-large", why: "the prodia spaces are gone" },
  sd: { to: "sd-3.5-large", why: "the prodia spaces are gone" },
  "prodia-xl": { to: "flux-dev", why: "the prodia spaces are gone" },
  xl: { to: "flux-dev", why: "the prodia spaces are gone" },
};

/** Backends that are not gradio spaces. */
export const OTHER_BACKENDS: readonly string[] = ["pollinations", "playground", "coze"];
