/**
 * Images of user messages for Coze: a data URL is decoded (a 400 naming what is wrong) and, in
 * the API mode, uploaded with `POST /v1/files/upload` (multipart `file`), which answers
 * `{code: 0, data: {id}}`; messages then name it by `file_id`. http(s) URLs go as `file_url`.
 *
 * @module
 */
import type { Upstream } from "../../net/http.ts";
import { invalidRequest, upstreamFailed } from "../../openai/errors.ts";
import type { Turn } from "../combine.ts";
import { cozeJson } from "./api.ts";

/** A data URL's parts, or a 400 naming what is wrong. */
export function decodeDataUrl(url: string): { type: string; bytes: Uint8Array; ext: string } {
  const m = /^data:(image\/[A-Za-z0-9.+-]+);base64,(.*)$/s.exec(url);
  if (!m) {
    throw invalidRequest(
      "An image data URL must look like data:image/<type>;base64,<data>",
      "messages",
    );
  }
  const ext = {
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/jpg": "jpg",
    "image/gif": "gif",
    "image/webp": "webp",
  }[
    m[1].toLowerCase()
  ];
  if (!ext) {
    throw invalidRequest(`Unsupported image type ${m[1]}; use png, jpeg, gif or webp`, "messages");
  }
  let bytes: Uint8Array;
  try {
    bytes = Uint8Array.from(atob(m[2].replace(/\s+/g, "")), (c) => c.charCodeAt(0));
  } catch {
    throw invalidRequest("An image data URL holds invalid base64", "messages");
  }
  return { type: m[1].toLowerCase(), bytes, ext };
}

/** Refuses image URLs that are neither http(s) nor data URLs (400, before anything is sent). */
export function checkImageUrls(turns: readonly Turn[]): void {
  for (const t of turns) {
    for (const url of t.images) {
      if (/^https?:\/\//i.test(url)) continue;
      if (!url.startsWith("data:")) {
        throw invalidRequest("Image URLs must be http(s) or data: URLs", "messages");
      }
      decodeDataUrl(url);
    }
  }
}

/**
 * Uploads the data-URL images of `turns` to Coze with `token`; resolves with their file ids by
 * URL (each distinct image once).
 */
export async function uploadDataImages(
  turns: readonly Turn[],
  http: Upstream,
  base: string,
  token: string,
): Promise<Map<string, string>> {
  const ids = new Map<string, string>();
  for (const t of turns) {
    for (const url of t.images) {
      if (!url.startsWith("data:") || ids.has(url)) continue;
      const { type, bytes, ext } = decodeDataUrl(url);
      const form = new FormData();
      form.append("file", new Blob([bytes as BlobPart], { type }), `image.${ext}`);
      const data = await cozeJson<{ id?: unknown }>(http, `${base}/v1/files/upload`, token, {
        method: "POST",
        body: form,
      });
      const id = data?.id;
      if (typeof id !== "string" || id === "") {
        throw upstreamFailed("coze", "the file upload answered without a file id");
      }
      ids.set(url, id);
    }
  }
  return ids;
}
