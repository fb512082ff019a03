/**
 * Images in and out of Copilot.
 *
 * In: the images of the last user message are uploaded (`POST /c/api/attachments`, the raw bytes
 * with their type) and sent as `image` parts. `data:` URLs are read here; image URLs on the web
 * are fetched through the guard of client-supplied URLs (no private addresses, see
 * docs/security.md).
 *
 * Out: an `imageGenerated` image is downloaded into the server's image store (`ctx.images`) and
 * linked from there, so that the link outlives Copilot's; when that fails (or the request has no
 * store) Copilot's own URL is linked and the log says why.
 *
 * @module
 */
import { readBytes, type Upstream } from "../../net/http.ts";
import { invalidRequest } from "../../openai/errors.ts";
import type { Logger } from "../../util/log.ts";
import type { ImageSink } from "../types.ts";

/** Image types Copilot's upload takes (gpt4free `is_accepted_format`). */
const TYPES = ["image/png", "image/jpeg", "image/jpg", "image/gif", "image/webp"];

/** The largest image sent up. */
export const MAX_INPUT_IMAGE = 20 * 1024 * 1024;

/** At most this many images per message. */
export const MAX_INPUT_IMAGES = 8;

/** An image ready for upload. */
export interface ImageBytes {
  bytes: Uint8Array<ArrayBuffer>;
  type: string;
}

/** Reads a `data:image/...;base64,...` URL. */
export function dataImage(url: string, param = "messages"): ImageBytes {
  const m = /^data:([^;,]*)((?:;[^,;]*)*),(.*)$/s.exec(url);
  const type = (m?.[1] ?? "").toLowerCase();
  if (!m || !m[2].split(";").includes("base64")) {
    throw invalidRequest("copilot takes images as base64 data:image/... URLs", param);
  }
  if (!TYPES.includes(type)) {
    throw invalidRequest(
      `copilot takes PNG, JPEG, GIF or WebP images, not '${type || "no type"}'`,
      param,
    );
  }
  let bytes: Uint8Array<ArrayBuffer>;
  try {
    bytes = Uint8Array.fromBase64(m[3].replace(/\s+/g, ""));
  } catch {
    throw invalidRequest("an image data: URL is not valid base64", param);
  }
  if (bytes.length > MAX_INPUT_IMAGE) {
    throw invalidRequest(
      `an image is larger than ${MAX_INPUT_IMAGE >> 20} MiB`,
      param,
      "too_large",
    );
  }
  return { bytes, type: type === "image/jpg" ? "image/jpeg" : type };
}

/**
 * The bytes of an image URL on the web, fetched through the guard of client-supplied URLs
 * (`Upstream.fetchPublic`: public addresses only, every redirect checked, size-capped).
 */
export async function fetchImageUrl(
  http: Upstream,
  url: string,
  param = "messages",
  log?: Logger,
): Promise<ImageBytes> {
  const file = await http.fetchPublic(url, { field: param, maxBytes: MAX_INPUT_IMAGE, log });
  const type = file.contentType === "image/jpg" ? "image/jpeg" : file.contentType;
  if (!TYPES.includes(type)) {
    throw invalidRequest(
      `copilot takes PNG, JPEG, GIF or WebP images; ${url} is '${type || "no type"}'`,
      param,
    );
  }
  return { bytes: new Uint8Array(file.bytes), type };
}

/** The images of the prompt as bytes (`data:` URLs read, web URLs through `fetchImageUrl`). */
export async function imageInputs(
  urls: readonly string[],
  http: Upstream,
  log?: Logger,
): Promise<ImageBytes[]> {
  if (urls.length > MAX_INPUT_IMAGES) {
    throw invalidRequest(
      `copilot takes at most ${MAX_INPUT_IMAGES} images per message (got ${urls.length})`,
      "messages",
    );
  }
  const out: ImageBytes[] = [];
  for (const url of urls) {
    if (url.startsWith("data:")) out.push(dataImage(url));
    else if (/^https?:\/\//i.test(url)) out.push(await fetchImageUrl(http, url, "messages", log));
    else throw invalidRequest("an image_url must be a data: or http(s) URL", "messages");
  }
  return out;
}

/**
 * Keeps a generated image in the server's store and returns the URL to link; Copilot's own URL
 * when there is no store or the download fails (`warn` says why).
 */
export async function keepImage(
  url: string,
  http: Upstream,
  images: ImageSink | undefined,
  warn: (why: string) => void,
): Promise<string> {
  if (!images) return url;
  try {
    const res = await http.fetch(url, { headers: { accept: "image/*" } });
    if (!res.ok) {
      await res.body?.cancel();
      throw new Error(`status ${res.status}`);
    }
    const bytes = await readBytes(
      res,
      images.maxBytes,
      (size) => new Error(`${size} bytes, over images.max-size`),
    );
    return await images.save(bytes, "copilot");
  } catch (err) {
    warn(`copilot: the generated image was not stored (${(err as Error).message}); linking ${url}`);
    return url;
  }
}
