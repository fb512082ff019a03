/**
 * The local store of generated images: files under `<dir>/YYYY/MM/DD/<random>.<ext>` served at
 * `/file/YYYY/MM/DD/<random>.<ext>`. The type comes from the bytes (PNG, JPEG, WebP, GIF; anything
 * else is refused), a file larger than the cap is refused, and files older than the age limit are
 * deleted (swept at most every ten minutes on writes, and refused when asked for).
 *
 * @module
 */
import { join } from "node:path";
import { GatewayError, upstreamFailed } from "../openai/errors.ts";
import { randomAlnum } from "../util/id.ts";

/** Image types the store keeps: extension and content type. */
const TYPES = {
  png: "image/png",
  jpg: "image/jpeg",
  webp: "image/webp",
  gif: "image/gif",
} as const;

/** An image file extension the store uses. */
export type ImageExt = keyof typeof TYPES;

/** The image type of `bytes` from their signature, or undefined when they are no image. */
export function sniffImage(bytes: Uint8Array): ImageExt | undefined {
  const b = bytes;
  if (b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) {
    return "png";
  }
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return "jpg";
  if (
    b.length >= 12 && b[0] === 0x52 && b[1] === 0x49 && b[2] === 0x46 && b[3] === 0x46 &&
    b[8] === 0x57 && b[9] === 0x45 && b[10] === 0x42 && b[11] === 0x50
  ) return "webp";
  if (b.length >= 6 && b[0] === 0x47 && b[1] === 0x49 && b[2] === 0x46 && b[3] === 0x38) {
    return "gif";
  }
  return undefined;
}

/** The content type of a stored file's extension. */
export function contentTypeOf(ext: string): string | undefined {
  return (TYPES as Record<string, string>)[ext];
}

/** A stored image. */
export interface StoredImage {
  /** Path below the store (`2026/01/31/abc.png`), also the part of the URL after `/file/`. */
  rel: string;
  contentType: string;
  bytes: Uint8Array;
}

/** A path the store could have made: no traversal, known extension. */
const REL = /^\d{4}\/\d{2}\/\d{2}\/[A-Za-z0-9]{8,64}\.(png|jpg|webp|gif)$/;

/** The image store of one folder. */
export class ImageStore {
  #lastSweep = 0;
  #writableAt = 0;

  /**
   * @param dir the folder (created on first write)
   * @param maxBytes the largest image kept
   * @param maxAgeMs how long an image is kept
   */
  constructor(readonly dir: string, readonly maxBytes: number, readonly maxAgeMs: number) {}

  /**
   * Fails with a 500 that shows no path (the log has it, through the error's cause) when the
   * folder cannot be written: checked before an image is generated, so that no backend's work
   * or credits are spent on an image that cannot be kept. A success is trusted for a minute.
   */
  async ensureWritable(): Promise<void> {
    if (Date.now() - this.#writableAt < 60_000) return;
    const probe = join(this.dir, `.write-check-${randomAlnum(12)}`);
    try {
      await Deno.mkdir(this.dir, { recursive: true });
      await Deno.writeFile(probe, new Uint8Array(), { createNew: true });
      await Deno.remove(probe);
    } catch (err) {
      throw unwritable(err);
    }
    this.#writableAt = Date.now();
  }

  /** Stores an image; refuses bytes that are no image or larger than the cap (502). */
  async save(bytes: Uint8Array, source = "the backend"): Promise<StoredImage> {
    if (bytes.length > this.maxBytes) throw tooLarge(bytes.length, this.maxBytes, source);
    const ext = sniffImage(bytes);
    if (!ext) {
      throw upstreamFailed(
        "images",
        `${source} gave data that is not an image (${bytes.length} bytes)`,
      );
    }
    const d = new Date();
    const day = `${d.getUTCFullYear()}/${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())}`;
    const rel = `${day}/${randomAlnum(24)}.${ext}`;
    try {
      await Deno.mkdir(join(this.dir, day), { recursive: true });
      await Deno.writeFile(join(this.dir, rel), bytes, { createNew: true });
    } catch (err) {
      this.#writableAt = 0;
      throw unwritable(err);
    }
    await this.#maybeSweep();
    return { rel, contentType: TYPES[ext], bytes };
  }

  /** Opens a stored image for serving, or undefined (unknown, malformed path, too old). */
  async open(
    rel: string,
  ): Promise<{ file: Deno.FsFile; size: number; contentType: string } | undefined> {
    if (!REL.test(rel)) return undefined;
    const path = join(this.dir, rel);
    let info: Deno.FileInfo;
    try {
      info = await Deno.stat(path);
    } catch {
      return undefined;
    }
    if (!info.isFile) return undefined;
    if (info.mtime && Date.now() - info.mtime.getTime() > this.maxAgeMs) {
      await Deno.remove(path).catch(() => {});
      return undefined;
    }
    const ext = rel.slice(rel.lastIndexOf(".") + 1);
    const file = await Deno.open(path, { read: true });
    return { file, size: info.size, contentType: contentTypeOf(ext)! };
  }

  /** Deletes images older than the age limit and folders left empty. Returns files deleted. */
  async sweep(now = Date.now()): Promise<number> {
    let removed = 0;
    const walk = async (dir: string, depth: number): Promise<boolean> => {
      let entries = 0;
      let kept = 0;
      try {
        for await (const e of Deno.readDir(dir)) {
          entries++;
          const path = join(dir, e.name);
          if (e.isDirectory && depth < 3) {
            if (await walk(path, depth + 1)) kept++;
            continue;
          }
          if (e.isFile && depth === 3) {
            const info = await Deno.stat(path).catch(() => undefined);
            if (info?.mtime && now - info.mtime.getTime() > this.maxAgeMs) {
              await Deno.remove(path).catch(() => {});
              removed++;
              continue;
            }
          }
          kept++;
        }
      } catch {
        return false;
      }
      if (depth > 0 && entries > 0 && kept === 0) await Deno.remove(dir).catch(() => {});
      return kept > 0;
    };
    await walk(this.dir, 0);
    return removed;
  }

  async #maybeSweep(): Promise<void> {
    const now = Date.now();
    if (now - this.#lastSweep < 600_000) return;
    this.#lastSweep = now;
    // Awaited: a sweep outliving the request would hold file handles nobody waits for.
    await this.sweep(now).catch(() => 0);
  }
}

function pad(n: number): string {
  return String(n).padStart(2, "0");
}

/** The 502 for an image over the cap. */
export function tooLarge(size: number, max: number, source: string) {
  const mib = (n: number) => (n / 1048576).toFixed(n < 1048576 ? 3 : 1);
  return upstreamFailed(
    "images",
    `${source} gave an image of ${mib(size)} MiB or more, over the limit of ${mib(max)} MiB ` +
      "(images.max-size)",
  );
}

/** The client's error for a store that cannot be written: no path (the cause has it, for logs). */
function unwritable(cause: unknown): GatewayError {
  return new GatewayError(
    500,
    "The image store cannot be written (images.dir); the server's log has the details",
    "server_error",
    "image_store_unwritable",
    null,
    { cause },
  );
}

/** The image stores of one server: one per folder and limits, made on first use. */
export class ImageStores {
  #stores = new Map<string, ImageStore>();

  /** The store of a folder with the given limits. */
  get(dir: string, maxBytes: number, maxAgeMs: number): ImageStore {
    const key = `${dir}\n${maxBytes}\n${maxAgeMs}`;
    let s = this.#stores.get(key);
    if (!s) this.#stores.set(key, s = new ImageStore(dir, maxBytes, maxAgeMs));
    return s;
  }
}
