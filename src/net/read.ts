/**
 * Reading upstream bodies with a cap: error bodies, unexpected bodies, downloads that must not
 * grow without bound.
 *
 * @module
 */

/** The largest error body read to build an error message. */
export const ERROR_BODY_LIMIT = 64 * 1024;

/**
 * The start of a body as text, at most `limit` bytes (by default as much as error messages are
 * built from); a body that breaks off gives what arrived. For error and unexpected bodies, which
 * may be large or never end.
 */
export async function readCapped(res: Response, limit = ERROR_BODY_LIMIT): Promise<string> {
  const bytes = await readBytes(res, limit, "truncate").catch(() => new Uint8Array());
  return new TextDecoder().decode(bytes);
}

/**
 * A body's bytes, at most `max` of them: with `onTooLarge` an error (thrown as soon as the
 * declared length or the bytes read exceed `max`, and the body is cancelled), or `"truncate"` to
 * keep the first `max` bytes.
 */
export async function readBytes(
  res: Response,
  max: number,
  onTooLarge: ((size: number) => Error) | "truncate",
): Promise<Uint8Array> {
  if (!res.body) return new Uint8Array();
  const declared = Number(res.headers.get("content-length") ?? NaN);
  if (onTooLarge !== "truncate" && Number.isFinite(declared) && declared > max) {
    await res.body.cancel();
    throw onTooLarge(declared);
  }
  const reader = res.body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < max || onTooLarge !== "truncate") {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.length;
      if (size > max && onTooLarge !== "truncate") throw onTooLarge(size);
      parts.push(value);
    }
  } catch (err) {
    if (onTooLarge !== "truncate" || parts.length === 0) throw err;
  } finally {
    reader.cancel().catch(() => {});
  }
  const all = new Uint8Array(Math.min(size, max));
  let off = 0;
  for (const p of parts) {
    const n = Math.min(p.length, all.length - off);
    all.set(p.subarray(0, n), off);
    off += n;
    if (off >= all.length) break;
  }
  return all;
}

/** The start of a body for an error message, on one line. */
export function snippet(text: string, max = 200): string {
  const t = text.replace(/\s+/g, " ").trim();
  return t.length > max ? t.slice(0, max) + "…" : t;
}
