/**
 * Images of user messages as Gemini `inlineData`: data URLs decoded in place, http(s) URLs
 * fetched through the provider's upstream client with a size cap.
 *
 * @module
 */
import { readBytes, type Upstream } from "../../net/http.ts";
import { invalidRequest } from "../../openai/errors.ts";

/** The largest image fetched from a URL (Gemini's whole request is capped at 20 MB). */
export const MAX_IMAGE_BYTES = 20 * 1024 * 1024;

/** Base64 of bytes, in slices (a spread of a large array overflows the call stack). */
export function toBase64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(s);
}

/**
 * `{mimeType, data}` of a `data:` URL (base64 or percent-encoded), or undefined for another URL.
 * Percent-escapes that do not decode are the client's 400 naming `field`.
 */
export function parseDataUrl(
  url: string,
  field = "image_url",
): { mimeType: string; data: string } | undefined {
  const m = url.match(/^data:([^;,]*)((?:;[^;,]*)*),(.*)$/s);
  if (!m) return undefined;
  const mimeType = m[1] || "application/octet-stream";
  if (/;base64/i.test(m[2])) return { mimeType, data: m[3].replace(/\s+/g, "") };
  let text: string;
  try {
    text = decodeURIComponent(m[3]);
  } catch {
    throw invalidRequest(`${field}: the data: URL has percent-escapes that do not decode`, field);
  }
  return { mimeType, data: toBase64(new TextEncoder().encode(text)) };
}

const EXT_TYPES: Record<string, string> = {
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  webp: "image/webp",
  gif: "image/gif",
  heic: "image/heic",
  heif: "image/heif",
};

/** Downloads an image URL (at most `MAX_IMAGE_BYTES`) as inline data. */
export async function fetchImage(
  url: string,
  http: Upstream,
  param: string,
): Promise<{ mimeType: string; data: string }> {
  const res = await http.fetch(url, { timeouts: { connect: 15, "first-byte": 15, idle: 15 } });
  if (!res.ok) {
    await res.body?.cancel();
    throw invalidRequest(`The image ${url} could not be fetched: status ${res.status}`, param);
  }
  const bytes = await readBytes(
    res,
    MAX_IMAGE_BYTES,
    () => invalidRequest(`The image ${url} is larger than ${MAX_IMAGE_BYTES >> 20} MiB`, param),
  );
  let mimeType = (res.headers.get("content-type") ?? "").split(";")[0].trim().toLowerCase();
  if (!mimeType.startsWith("image/")) {
    const ext = new URL(url).pathname.split(".").pop()?.toLowerCase() ?? "";
    mimeType = EXT_TYPES[ext] ?? "image/jpeg";
  }
  return { mimeType, data: toBase64(bytes) };
}
