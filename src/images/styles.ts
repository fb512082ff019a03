/**
 * The styles (checkpoints, style presets) and samplers each backend offers. `style` of a request
 * picks one by name (an unknown one picks at random, as the original did); `quality` picks the
 * sampler (default `Euler a`).
 *
 * @module
 */

/** Samplers of the prodia spaces. */
export const PRODIA_SAMPLERS = [
  "DPM++ 2M Karras",
  "DPM++ SDE Karras",
  "DPM++ 2M SDE Exponential",
  "DPM++ 2M SDE Karras",
  "Euler a",
  "Euler",
  "LMS",
  "Heun",
  "DPM2",
  "DPM2 a",
  "DPM++ 2S a",
  "DPM++ 2M",
  "DPM++ SDE",
  "DPM++ 2M SDE",
  "DPM++ 2M SDE Heun",
  "DPM++ 2M SDE Heun Karras",
  "DPM++ 2M SDE Heun Exponential",
  "DPM++ 3M SDE",
  "DPM++ 3M SDE Karras",
  "DPM++ 3M SDE Exponential",
  "DPM fast",
  "DPM adaptive",
  "LMS Karras",
  "DPM2 Karras",
  "DPM2 a Karras",
  "DPM++ 2S a Karras",
  "Restart",
  "DDIM",
  "PLMS",
  "UniPC",
];

/** Checkpoints of the prodia stable-diffusion space. */
export const PRODIA_SD_MODELS = [
  "absolutereality_v181.safetensors [3d9d4d2b]",
  "amIReal_V41.safetensors [0a8a2e61]",
  "anythingV5_PrtRE.safetensors [893e49b9]",
  "AOM3A3_orangemixs.safetensors [9600da17]",
  "Counterfeit_v30.safetensors [9e2a8f19]",
  "cyberrealistic_v33.safetensors [82b0d085]",
  "deliberate_v3.safetensors [afd9d2d4]",
  "dreamlike-anime-1.0.safetensors [4520e090]",
  "dreamlike-photoreal-2.0.safetensors [fdcf65e7]",
  "dreamshaper_8.safetensors [9d40847d]",
  "epicrealism_naturalSinRC1VAE.safetensors [90a4c676]",
  "juggernaut_aftermath.safetensors [5e20c455]",
  "lyriel_v16.safetensors [68fceea2]",
  "meinamix_meinaV11.safetensors [b56ce717]",
  "openjourney_V4.ckpt [ca2f377f]",
  "Realistic_Vision_V5.0.safetensors [614d1063]",
  "revAnimated_v122.safetensors [3f4fefd9]",
  "sdv1_4.ckpt [7460a6fa]",
  "v1-5-pruned-emaonly.safetensors [d7049739]",
  "toonyou_beta6.safetensors [980f6b15]",
];

/** Checkpoints of the prodia SDXL space. */
export const PRODIA_XL_MODELS = [
  "dreamshaperXL10_alpha2.safetensors [c8afe2ef]",
  "dynavisionXL_0411.safetensors [c39cc051]",
  "juggernautXL_v45.safetensors [e75f5471]",
  "realismEngineSDXL_v10.safetensors [af771c3f]",
  "sd_xl_base_1.0.safetensors [be9edd61]",
  "turbovisionXL_v431.safetensors [78890989]",
];

/** Style presets of the google SDXL space. */
export const GOOGLE_STYLES = [
  "(No style)",
  "Cinematic",
  "Photographic",
  "Anime",
  "Manga",
  "Digital Art",
  "Pixel art",
  "Fantasy art",
  "Neonpunk",
  "3D Model",
];

/** Style presets of the dalle-4k space. */
export const DALLE_4K_STYLES = [
  "3840 x 2160",
  "2560 x 1440",
  "Photo",
  "Cinematic",
  "Anime",
  "3D Model",
  "(No style)",
];

/** Style presets of the animagine space. */
export const ANIMAGINE_STYLES = [
  "(None)",
  "Cinematic",
  "Photographic",
  "Anime",
  "Manga",
  "Digital Art",
  "Pixel art",
  "Fantasy art",
  "Neonpunk",
  "3D Model",
];

/** Samplers of the animagine space. */
export const ANIMAGINE_SAMPLERS = [
  "DPM++ 2M Karras",
  "DPM++ SDE Karras",
  "DPM++ 2M SDE Karras",
  "Euler",
  "Euler a",
  "DDIM",
];

/** Models/filters of playground. */
export const PLAYGROUND_STYLES = [
  "none",
  "Realism_Engine_SDXL",
  "Real_Cartoon_XL",
  "Blue_Pencil_XL",
  "Starlight_XL",
  "Juggernaut_XL",
  "RealVisXL",
  "ZavyChromaXL",
  "NightVision_XL",
  "Realistic_Stock_Photo",
  "DreamShaper",
  "MBBXL_Ultimate",
  "Mysterious",
  "Copax_TimeLessXL",
  "SDXL_Niji",
  "Pixel_Art_XL",
  "ProtoVision_XL",
  "DucHaiten_AIart_SDXL",
  "CounterfeitXL",
  "vibrant_glass",
  "dreamy_stickers",
  "ultra_lighting",
  "watercolor",
  "macro_realism",
  "delicate_detail",
  "radiant_symmetry",
  "lush_illustration",
  "saturated_space",
  "neon_mecha",
  "ethereal_low_poly",
  "warm_box",
  "cinematic",
  "cinematic_warm",
  "wasteland",
  "flat_palette",
  "ominous_escape",
  "spielberg",
  "royalistic",
  "masterpiece",
  "wall_art",
  "haze",
  "black_and_white_3d",
];

/** The entry of `list` named `wanted` (case-insensitive), else a random one. */
export function pickStyle(list: readonly string[], wanted?: string | null): string {
  const hit = wanted ? list.find((s) => s.toLowerCase() === wanted.toLowerCase()) : undefined;
  return hit ?? list[Math.floor(Math.random() * list.length)];
}

/** The sampler of `list` named `wanted` (case-insensitive), else `Euler a`. */
export function pickSampler(list: readonly string[], wanted?: string | null): string {
  const hit = wanted ? list.find((s) => s.toLowerCase() === wanted.toLowerCase()) : undefined;
  return hit ?? "Euler a";
}

/** The built-in style lists, by the name `images.spaces[].styles` may give. */
const STYLE_PRESETS: Readonly<Record<string, readonly string[]>> = {
  "prodia-sd": PRODIA_SD_MODELS,
  "prodia-xl": PRODIA_XL_MODELS,
  "dalle-4k": DALLE_4K_STYLES,
  animagine: ANIMAGINE_STYLES,
  google: GOOGLE_STYLES,
  playground: PLAYGROUND_STYLES,
};

/** The built-in sampler lists, by the name `images.spaces[].samplers` may give. */
const SAMPLER_PRESETS: Readonly<Record<string, readonly string[]>> = {
  prodia: PRODIA_SAMPLERS,
  animagine: ANIMAGINE_SAMPLERS,
};

/**
 * The list a space's `styles` or `samplers` setting stands for: a built-in list by name, a list
 * of its own, one fixed value, or none.
 */
export function presetOf(
  value: string | readonly string[] | undefined,
  kind: "styles" | "samplers",
): readonly string[] | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string") return value.length > 0 ? value : undefined;
  return (kind === "styles" ? STYLE_PRESETS : SAMPLER_PRESETS)[value] ?? [value];
}
