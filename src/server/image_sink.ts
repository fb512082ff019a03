/**
 * The image store of the running configuration and the public URL of what it keeps, for the
 * image routes and for providers that receive images (`RequestContext.images`).
 *
 * @module
 */
import { resolveDataPath } from "../config/paths.ts";
import type { Config } from "../config/schema.ts";
import type { ImageStore } from "../images/mod.ts";
import type { ImageSink } from "../providers/types.ts";
import type { Ctx } from "./types.ts";

/** The image store of the running configuration (`images.dir` is relative to config.yaml). */
export function imageStore(c: Ctx): ImageStore {
  const { store, images: state } = c.get("deps");
  const images = store.current.images;
  const dir = resolveDataPath(store.file, images.dir);
  return state.stores.get(
    dir,
    Math.floor(images["max-size"] * 1048576),
    images["max-age"] * 86_400_000,
  );
}

/** The public base of stored images: `server.domain`, else `http://127.0.0.1:<port>`. */
export function domainOf(c: Ctx, config: Config): string {
  if (config.server.domain) return config.server.domain;
  const port = new URL(c.req.url).port || String(config.server.port);
  return `http://127.0.0.1:${port}`;
}

/** The store as providers see it: save bytes, get the URL clients fetch them from. */
export function imageSink(c: Ctx, config: Config): ImageSink {
  const store = imageStore(c);
  const domain = domainOf(c, config);
  return {
    maxBytes: store.maxBytes,
    async save(bytes, source) {
      const saved = await store.save(bytes, source);
      return `${domain}/file/${saved.rel}`;
    },
  };
}
