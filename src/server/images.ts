/**
 * `POST /v1/images/generations` (and aliases) and `GET /file/...` for stored images.
 *
 * @module
 */
import { GatewayError } from "../openai/errors.ts";
import { imageRequest } from "../openai/schema.ts";
import type { Ctx } from "./app.ts";
import { readBody } from "./context.ts";

/** Answers an image generation request. */
export async function handleImages(c: Ctx): Promise<Response> {
  const req = await readBody(c, imageRequest);
  c.set("model", req.model);
  throw new GatewayError(
    404,
    `No image backend serves '${req.model}' yet`,
    "invalid_request_error",
    "model_not_found",
    "model",
  );
}

/** Serves a stored image. */
export function handleFile(c: Ctx): Response {
  throw new GatewayError(404, `No such file: ${c.req.path}`, "invalid_request_error", "not_found");
}
