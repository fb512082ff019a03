/**
 * Images of user messages as Gemini `inlineData`: data URLs decoded in place, http(s) URLs
 * fetched through the SSRF guard (`net/public_fetch.ts`) with a size cap.
 *
 * @module
 */
import type { Upstream } from "../../net/http.ts";
import type { Logger } from "../../util/log.ts";
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
 * `{mimeType, data}` of a `data:` URL (base64 or percent-encoded), or undefined. Broken
 * percent-escapes are a 400 naming `param`.
 */
export function parseDataUrl(
  url: string,
  param = "messages",
): { mimeType: string; data: string } | undefined {
  const m = url.match(/^data:([^;,]*)((?:;[^;,]*)*),(.*)$/s);
  if (!m) return undefined;
  const mimeType = m[1] || "application/octet-stream";
  if (/;base64/i.test(m[2])) return { mimeType, data: m[3].replace(/\s+/g, "") };
  let text: string;
  try {
    text = decodeURIComponent(m[3]);
  } catch {
    throw invalidRequest(
      `${param}: the data: URL holds a malformed percent-escape (use base64 or valid %XX escapes)`,
      param,
    );
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

/**
 * Downloads an image URL (at most `MAX_IMAGE_BYTES`) as inline data, through the SSRF guard: a
 * client's URL never reaches this server's own network.
 */
export async function fetchImage(
  url: string,
  http: Upstream,
  param: string,
  log?: Logger,
): Promise<{ mimeType: string; data: string }> {
  const file = await http.fetchPublic(url, { field: param, maxBytes: MAX_IMAGE_BYTES, log });
  let mimeType = file.contentType;
  if (!mimeType.startsWith("image/")) {
    const ext = file.url.pathname.split(".").pop()?.toLowerCase() ?? "";
    mimeType = EXT_TYPES[ext] ?? "image/jpeg";
  }
  return { mimeType, data: toBase64(file.bytes) };
}
