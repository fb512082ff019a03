/**
 * Fake image spaces on the fake gradio app, each with the Gradio version, endpoint, inputs and
 * output shape the reference gives (upstreams-2026 section 8; adapter-main `relay/hf/fetch.go`
 * for the older spaces):
 *
 * | kind | gradio | endpoint | inputs | output |
 * |---|---|---|---|---|
 * | flux-dev | 5 (`/gradio_api`) | queue fn 2 / trigger 4 | prompt, seed, randomize_seed, width, height, guidance, steps | FileData, seed |
 * | sd-3.5-large | 5 | `/call/infer` | prompt, negative_prompt, seed, randomize_seed, width, height, guidance, steps | FileData, seed |
 * | dalle-4k | 4 (no prefix) | queue fn 3 / trigger 6 | prompt, negative, use_negative, style, seed, width, height, guidance, randomize | gallery, seed |
 * | dalle-3-xl | 4 | queue fn 3 / trigger 6 | prompt, negative, use_negative, seed, width, height, guidance, randomize | gallery, seed |
 * | animagine-xl | 4 | queue fn 5 / trigger 49 | 15 values (prompt, negative, seed, width, height, guidance, steps, sampler, ...) | gallery, details |
 * | google-xl | 3 (websocket) | fn 2 | prompt, negative, guidance, style | base64 JPEGs |
 *
 * A space checks its inputs as its components would (a prompt that is no text, a size or seed
 * that is no number fails the event) and can be made to fail, to answer late, or to refuse
 * with the ZeroGPU quota error.
 *
 * @module
 */
import { type FakeFn, type FakeGradio, type FakeGradioOptions, pause } from "./gradio.ts";
import { startFakeGradio } from "./gradio.ts";

/** A tiny valid PNG (1x1), optionally padded to `size` bytes with an extra chunk. */
export function pngBytes(size = 0): Uint8Array {
  const base = Uint8Array.from(
    atob(
      "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==",
    ),
    (c) => c.charCodeAt(0),
  );
  if (size <= base.length) return base;
  const out = new Uint8Array(size);
  out.set(base);
  return out;
}

/** A tiny JPEG-looking payload (SOI marker, JFIF header, EOI). */
export function jpegBytes(): Uint8Array {
  return Uint8Array.from([
    0xff,
    0xd8,
    0xff,
    0xe0,
    0x00,
    0x10,
    0x4a,
    0x46,
    0x49,
    0x46,
    0x00,
    0x01,
    0x01,
    0x00,
    0x00,
    0x01,
    0x00,
    0x01,
    0x00,
    0x00,
    0xff,
    0xd9,
  ]);
}

/** `data:<mime>;base64,...` of bytes. */
export function dataUrl(bytes: Uint8Array, mime: string): string {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return `data:${mime};base64,${btoa(bin)}`;
}

/** Which image space a fake plays. */
export type SpaceKind =
  | "flux-dev"
  | "sd-3.5-large"
  | "dalle-4k"
  | "dalle-3-xl"
  | "animagine-xl"
  | "google-xl";

/** Every kind, in the order of the gateway's default space list. */
export const SPACE_KINDS: readonly SpaceKind[] = [
  "flux-dev",
  "sd-3.5-large",
  "dalle-4k",
  "dalle-3-xl",
  "animagine-xl",
  "google-xl",
];

/** Options of a fake image space. */
export interface FakeSpaceOptions {
  /** Fail every generation with this message (shown). */
  fail?: string;
  /** Bytes of the generated image (default a 1x1 PNG; google-xl a JPEG). */
  image?: () => Uint8Array;
  /** Delay before the result, in ms. */
  delayMs?: number;
  /** Answer with no image at all (an empty gallery, or `null`). */
  noImage?: boolean;
  gradio?: Partial<FakeGradioOptions>;
}

interface Spec {
  version: 3 | 4 | 5;
  fn: number;
  trigger?: number;
  apiName?: string;
  /** Input names, in order (their count is checked). */
  names: string[];
  /** Inputs that must be numbers / booleans. */
  numbers: string[];
  booleans?: string[];
  output: (
    file: () => Record<string, unknown>,
    bytes: () => Uint8Array,
    empty: boolean,
  ) => unknown[];
}

const gallery = (file: () => Record<string, unknown>, _b: () => Uint8Array, empty: boolean) => [
  empty ? [] : [{ image: file(), caption: null }],
  12345,
];

const SPECS: Record<SpaceKind, Spec> = {
  "flux-dev": {
    version: 5,
    fn: 2,
    trigger: 4,
    names: ["prompt", "seed", "randomize_seed", "width", "height", "guidance_scale", "steps"],
    numbers: ["seed", "width", "height", "guidance_scale", "steps"],
    booleans: ["randomize_seed"],
    output: (file, _b, empty) => [empty ? null : file(), 42],
  },
  "sd-3.5-large": {
    version: 5,
    fn: 1,
    apiName: "infer",
    names: [
      "prompt",
      "negative_prompt",
      "seed",
      "randomize_seed",
      "width",
      "height",
      "guidance_scale",
      "num_inference_steps",
    ],
    numbers: ["seed", "width", "height", "guidance_scale", "num_inference_steps"],
    booleans: ["randomize_seed"],
    output: (file, _b, empty) => [empty ? null : file(), 42],
  },
  "dalle-4k": {
    version: 4,
    fn: 3,
    trigger: 6,
    names: ["prompt", "negative", "use_negative", "style", "seed", "width", "height", "g", "r"],
    numbers: ["seed", "width", "height", "g"],
    output: gallery,
  },
  "dalle-3-xl": {
    version: 4,
    fn: 3,
    trigger: 6,
    names: ["prompt", "negative", "use_negative", "seed", "width", "height", "g", "r"],
    numbers: ["seed", "width", "height", "g"],
    output: gallery,
  },
  "animagine-xl": {
    version: 4,
    fn: 5,
    trigger: 49,
    names: [
      "prompt",
      "negative",
      "seed",
      "width",
      "height",
      "guidance",
      "steps",
      "sampler",
      "aspect",
      "style",
      "quality",
      "upscale",
      "strength",
      "upscale_by",
      "tags",
    ],
    numbers: ["seed", "width", "height", "guidance", "steps"],
    output: gallery,
  },
  "google-xl": {
    version: 3,
    fn: 2,
    names: ["prompt", "negative", "guidance", "style"],
    numbers: ["guidance"],
    output: (_f, bytes, empty) => [empty ? [] : [dataUrl(bytes(), "image/jpeg")]],
  },
};

/** Starts a fake image space of `kind`. */
export async function startFakeSpace(
  kind: SpaceKind,
  options: FakeSpaceOptions = {},
): Promise<FakeGradio> {
  const spec = SPECS[kind];
  const bytes = options.image ?? (kind === "google-xl" ? jpegBytes : () => pngBytes());
  const run: FakeFn = async (data, ctx) => {
    for (const [i, name] of spec.names.entries()) {
      const v = data[i];
      if (i === 0 && (typeof v !== "string" || v.trim() === "")) {
        throw new Error("The prompt is empty");
      }
      if (spec.numbers.includes(name) && typeof v !== "number") {
        throw new Error(`${name}: expected a number, got ${JSON.stringify(v)}`);
      }
      if (spec.booleans?.includes(name) && typeof v !== "boolean") {
        throw new Error(`${name}: expected a boolean, got ${JSON.stringify(v)}`);
      }
    }
    if (options.fail) throw new Error(options.fail);
    if (options.delayMs) await pause(options.delayMs, ctx.signal);
    return spec.output(
      () => ctx.addFile(bytes(), "image/png", "image.png"),
      bytes,
      !!options.noImage,
    );
  };
  return await startFakeGradio({
    fns: { [spec.fn]: run },
    inputs: { [spec.fn]: spec.names.length },
    version: spec.version,
    triggers: spec.trigger !== undefined ? { [spec.fn]: spec.trigger } : undefined,
    apiNames: spec.apiName ? { [spec.apiName]: spec.fn } : undefined,
    parameters: spec.apiName ? { [spec.apiName]: spec.names.map((name) => ({ name })) } : undefined,
    showError: true,
    ...options.gradio,
  });
}
