/**
 * The coze backend: the `coze.images` bot paints and answers with the image's URL (see
 * `providers/coze/images.ts`); the gateway then downloads and stores it like any other image.
 * The cookie is the client's (a coze cookie as the API key), else one of `coze.cookies`.
 *
 * @module
 */
import { GatewayError } from "../openai/errors.ts";
import type { Provider, RequestContext } from "../providers/types.ts";
import type { BackendResult, Generation } from "./types.ts";

/** Generates one image with the coze image bot (`coze`: the coze provider of this server). */
export async function generateOnCoze(
  gen: Generation,
  ctx: RequestContext,
  coze: Provider | undefined,
  credential?: string,
): Promise<BackendResult> {
  if (!coze?.paint) {
    throw new GatewayError(500, "the coze provider is not available", "server_error");
  }
  const url = await coze.paint(gen.prompt, ctx, credential);
  return { image: { url }, prompt: gen.prompt };
}
