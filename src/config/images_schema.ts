/**
 * The `images` section of the config schema: gradio spaces (as configuration), the other
 * backends, Pollinations, the tags LLM, up-scaling and the image store.
 *
 * @module
 */
import { z } from "npm:zod@^4.6.7";
import { DEFAULT_SPACES, type SpaceInput } from "./image_spaces.ts";
import { baseUrl, proxyUrl, seconds, secret, secretList } from "./schema_parts.ts";

const proxySetting = z.union([proxyUrl, z.literal(false)]).optional();

/** The inputs of a space: a positional list, a map by parameter name, or a JSON text template. */
const spaceData = z.union([
  z.array(z.unknown()),
  z.record(z.string(), z.unknown()),
  z.string(),
]);

/** A built-in list of styles or samplers by name, or a list of one's own. */
const presetList = z.union([z.string(), z.array(z.string())]);

/** One gradio space `dall-e-3` can draw on (see docs/images.md). */
const imageSpace = z.strictObject({
  /** The backend's name: `sk-<name>` and `<name>.dall-e-3` select it. */
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "letters, digits, '.', '_' or '-' only"),
  /** `https://<owner>-<space>.hf.space` (`wss://` for a gradio 3 space). */
  root: baseUrl,
  /** A named endpoint, called at `<prefix>/call/<api-name>`. */
  "api-name": z.string().regex(/^\/?[A-Za-z0-9_.-]+$/).optional(),
  /** `fn_index` (or `[fn_index, trigger_id]`) for the queue, when there is no `api-name`. */
  fn: z.union([
    z.number().int().nonnegative(),
    z.tuple([z.number().int().nonnegative(), z.number().int()]),
  ]).optional(),
  /** The API prefix; read from the space's `/config` when absent. */
  "api-prefix": z.string().regex(/^(\/[A-Za-z0-9_.-]+)*$/).optional(),
  /** The inputs, with placeholders ({{prompt}}, {{seed}}, ...). */
  data: spaceData,
  /** Where the image is in the outputs: indexes and keys joined by dots (`0`, `0.0.image`). */
  image: z.string().regex(/^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$/).default("0"),
  /** What the prompt-to-tags step writes for this space. */
  tags: z.enum(["keywords", "phrases", "off"]).default("keywords"),
  styles: presetList.optional(),
  samplers: presetList.optional(),
  /** A Hugging Face token for this space (private spaces, ZeroGPU time of an account). */
  token: secret.optional(),
  proxies: proxySetting,
  enabled: z.boolean().default(true),
}).refine((s) => s["api-name"] !== undefined || s.fn !== undefined, {
  message: "needs 'api-name' or 'fn'",
});

const imageBackend = z.strictObject({
  "base-url": baseUrl.optional(),
  /** Unused; accepted so that configurations of the 2024 gateway load. */
  fn: z.tuple([z.number().int(), z.number().int()]).optional(),
  proxies: proxySetting,
  /** Credentials used when the client sends none (playground session tokens). */
  tokens: secretList.default([]),
});

const pollinations = z.strictObject({
  /** The keyed gateway. */
  "base-url": baseUrl.default("https://gen.pollinations.ai"),
  /** The anonymous 2024 host, tried (best effort) when no key is at hand; false = never. */
  "legacy-url": z.union([baseUrl, z.literal(false)]).default("https://image.pollinations.ai"),
  /** A `sk_` or `pk_` key from enter.pollinations.ai. */
  key: secret.optional(),
  /** The model when the request names none (`flux`, `turbo`, `gptimage`, ...). */
  model: z.string().default("flux"),
  enhance: z.boolean().default(false),
  safe: z.boolean().default(false),
  private: z.boolean().default(true),
  proxies: proxySetting,
});

export const images = z.strictObject({
  /** The gradio spaces, in the order `dall-e-3` tries them. */
  spaces: z.array(imageSpace).prefault(() => structuredClone(DEFAULT_SPACES) as SpaceInput[]),
  /** A Hugging Face token for every space (`Authorization: Bearer`). */
  "hf-token": secret.optional(),
  /** Backends `dall-e-3` tries in turn when the key names none; unset = see docs/images.md. */
  order: z.array(z.string()).optional(),
  pollinations: pollinations.prefault({}),
  /** playground.com (2024 route, status unknown): off unless enabled. */
  playground: imageBackend.extend({ enabled: z.boolean().default(false) }).prefault({}),
  coze: imageBackend.prefault({}),
  /** The LLM (any model of this server) that turns a prompt into tags. */
  llm: z
    .strictObject({
      model: z.string().optional(),
      "base-url": baseUrl.optional(),
      token: secret.optional(),
    })
    .prefault({}),
  /** The backend `dall-e-3` tries first when the key names none. */
  "default-backend": z.string().optional(),
  /** Seconds one image request may take (tags, every generation, up-scaling). */
  timeout: seconds.default(180),
  /** bigjpg.com API keys for up-scaling HD sizes. */
  magnify: secretList.default([]),
  /** The bigjpg API root. */
  "bigjpg-url": baseUrl.default("https://bigjpg.com"),
  /** Seconds between two polls of a bigjpg task (20 polls at most). */
  "magnify-poll": seconds.default(3),
  /** Folder of stored images, relative to the config file. */
  dir: z.string().default("data/images"),
  /** Largest stored image in MiB. */
  "max-size": z.number().positive().default(20),
  /** Days a stored image is kept. */
  "max-age": z.number().positive().default(7),
  "negative-prompt": z.string().default(
    "(deformed eyes, nose, ears, nose, leg, head), bad anatomy, ugly",
  ),
});
