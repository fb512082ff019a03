/**
 * A space's inputs from its configured `data`, and its image from the outputs.
 *
 * Placeholders: `{{prompt}}`, `{{negative_prompt}}`, `{{seed}}`, `{{style}}`, `{{sampler}}`,
 * `{{width}}`, `{{height}}`. A string that is exactly one placeholder becomes the value with its
 * type (a number for seed and sizes); inside a longer string the value is written as text. The
 * original's `data` was JSON text with the placeholders in it (`{{seed}}` unquoted); such text
 * gets string values JSON-escaped and numbers as they are, and is then parsed.
 *
 * The image is found at the space's `image` path (`0`, `0.0.image`: indexes and keys joined by
 * dots); a list there gives its first item, a gallery item its `image`, a `FileData` its `url`
 * (or `<root><prefix>/file=<path>`), a string a URL, a `data:` URL or base64.
 *
 * @module
 */
import { GatewayError } from "../openai/errors.ts";
import { decodeDataUrl, type ImageSource } from "./types.ts";

/** The values of one generation. */
export interface InputValues {
  prompt: string;
  negative_prompt: string;
  seed: number;
  style: string;
  sampler: string;
  width: number;
  height: number;
}

const PLACEHOLDER = /\{\{(prompt|negative_prompt|seed|style|sampler|width|height)\}\}/g;
const WHOLE = /^\{\{(prompt|negative_prompt|seed|style|sampler|width|height)\}\}$/;

/** The inputs, and the text the prompt placeholder became (the `revised_prompt`). */
export interface FilledInputs {
  data: unknown[] | Record<string, unknown>;
  prompt: string;
}

/** Fills the placeholders of a space's `data` (list, map by name, or JSON text). */
export function fillInputs(
  space: string,
  data: unknown[] | Record<string, unknown> | string,
  values: InputValues,
): FilledInputs {
  let prompt: string | undefined;
  const fill = (v: unknown): unknown => {
    if (typeof v === "string") {
      const whole = WHOLE.exec(v);
      const out = whole
        ? values[whole[1] as keyof InputValues]
        : v.replace(PLACEHOLDER, (_, k: keyof InputValues) => String(values[k]));
      if (prompt === undefined && v.includes("{{prompt}}")) prompt = String(out);
      return out;
    }
    if (Array.isArray(v)) return v.map(fill);
    if (v && typeof v === "object") {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fill(x)]));
    }
    return v;
  };
  if (typeof data === "string") {
    const text = data.replace(PLACEHOLDER, (_, k: keyof InputValues) => {
      const v = values[k];
      return typeof v === "number" ? String(v) : JSON.stringify(v).slice(1, -1);
    });
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw misconfigured(
        space,
        `its data template is not JSON once filled: ${(err as Error).message}`,
      );
    }
    if (!parsed || typeof parsed !== "object") {
      throw misconfigured(space, "its data template is no list or mapping");
    }
    // The prompt as it went out: the first string that holds the prompt text.
    const list = Array.isArray(parsed) ? parsed : Object.values(parsed);
    const first = list.find((v) => typeof v === "string" && v.includes(values.prompt));
    return {
      data: parsed as unknown[] | Record<string, unknown>,
      prompt: typeof first === "string" ? first : values.prompt,
    };
  }
  const filled = fill(data) as unknown[] | Record<string, unknown>;
  return { data: filled, prompt: prompt ?? values.prompt };
}

function misconfigured(space: string, why: string): GatewayError {
  return new GatewayError(
    500,
    `images.spaces '${space}' is misconfigured: ${why}`,
    "server_error",
    "images_misconfigured",
  );
}

/** The value at a dotted path of the outputs (`0.0.image`), or undefined. */
export function valueAt(outputs: unknown[], path: string): unknown {
  let v: unknown = outputs;
  for (const key of path.split(".")) {
    if (v == null || typeof v !== "object") return undefined;
    v = Array.isArray(v) ? v[Number(key)] : (v as Record<string, unknown>)[key];
  }
  return v;
}

/**
 * The image of an output value. `fileBase` is `<root><prefix>` of the space, for files that
 * come as a path only.
 */
export function imageOf(value: unknown, fileBase: string, depth = 0): ImageSource | undefined {
  if (depth > 4 || value == null) return undefined;
  if (typeof value === "string") {
    if (/^https?:\/\//i.test(value)) return { url: value };
    if (value.startsWith("/")) return { url: `${new URL(fileBase).origin}${value}` };
    if (value.startsWith("data:") || /^[A-Za-z0-9+/=\s]{64,}$/.test(value)) {
      return { bytes: decodeDataUrl(value) };
    }
    return undefined;
  }
  if (Array.isArray(value)) {
    for (const item of value) {
      const found = imageOf(item, fileBase, depth + 1);
      if (found) return found;
    }
    return undefined;
  }
  if (typeof value !== "object") return undefined;
  const v = value as Record<string, unknown>;
  if ("image" in v) return imageOf(v.image, fileBase, depth + 1);
  if (typeof v.url === "string" && v.url) return imageOf(v.url, fileBase, depth + 1);
  const path = typeof v.path === "string" ? v.path : typeof v.name === "string" ? v.name : "";
  if (path) return { url: `${fileBase}/file=${path}` };
  if (typeof v.data === "string") return imageOf(v.data, fileBase, depth + 1);
  return undefined;
}
