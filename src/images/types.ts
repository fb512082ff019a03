/**
 * Types shared by the image backends.
 *
 * @module
 */

/** What one generation asks of a backend. */
export interface Generation {
  /** The prompt to draw (after the tags step). */
  prompt: string;
  negative: string;
  /** `style` of the request (a backend preset; unknown = random). */
  style?: string | null;
  /** `quality` of the request (a sampler; unknown = `Euler a`). */
  quality?: string | null;
  /** A seed of its own for each generation (so that `n` images differ). */
  seed: number;
  /** The size asked for (`size`, clamped), 1024x1024 by default. */
  width: number;
  height: number;
}

/** Where a backend's image is: a URL to fetch, or the bytes. */
export type ImageSource =
  | { url: string; headers?: Record<string, string> }
  | { bytes: Uint8Array };

/** A backend's answer: the image and the prompt it was given. */
export interface BackendResult {
  image: ImageSource;
  /** The prompt as the backend received it (reported as `revised_prompt`). */
  prompt: string;
}

/** Decodes a `data:<type>;base64,...` URL (or bare base64) to bytes. */
export function decodeDataUrl(value: string): Uint8Array {
  const comma = value.startsWith("data:") ? value.indexOf(",") : -1;
  const b64 = (comma >= 0 ? value.slice(comma + 1) : value).replace(/\s+/g, "");
  return (Uint8Array as unknown as { fromBase64(s: string): Uint8Array }).fromBase64(b64);
}

/** Base64 of bytes. */
export function encodeBase64(bytes: Uint8Array): string {
  return (bytes as unknown as { toBase64(): string }).toBase64();
}
