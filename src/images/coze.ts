/**
 * The coze backend: the `coze.images` bot paints and answers with the image's URL (see
 * `providers/coze/images.ts`); the gateway then downloads and stores it like any other image.
 * The cookie is the client's (a coze cookie as the API key), else one of `coze.cookies`.
 *
 * @module
 */
import { generateCozeImage } from "../providers/coze/images.ts";
import type { ChatContext } from "../providers/types.ts";
import type { BackendResult, Generation } from "./types.ts";

/** Generates one image with the coze image bot. */
export async function generateOnCoze(
  gen: Generation,
  ctx: ChatContext,
  credential?: string,
): Promise<BackendResult> {
  const url = await generateCozeImage(gen.prompt, ctx, credential);
  return { image: { url }, prompt: gen.prompt };
}
