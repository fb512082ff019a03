/**
 * The error shape of each client API. Every error response of the server, also those made before
 * a handler runs (password gate, body limit, unknown route, bad JSON), is rendered in the shape
 * of the API its route belongs to: Anthropic's under `/anthropic/` and `/v1/messages`, OpenAI's
 * everywhere else. A new API adds one entry to `SHAPES`.
 *
 * @module
 */
import { anthropicErrorResponse } from "../anthropic/errors.ts";
import type { GatewayError } from "../openai/errors.ts";
import { errorResponse } from "../openai/writer.ts";
import type { Ctx } from "./types.ts";

/** How the errors of one API are written. */
interface ErrorShape {
  /** True for the paths of this API. */
  owns(path: string): boolean;
  render(err: GatewayError, requestId: string, headers?: HeadersInit): Response;
}

const SHAPES: readonly ErrorShape[] = [
  {
    owns: (p) =>
      p.startsWith("/anthropic/") || p === "/v1/messages" || p.startsWith("/v1/messages/"),
    render: (err, id, headers) => anthropicErrorResponse(err, id, headers),
  },
];

const OPENAI: ErrorShape = {
  owns: () => true,
  render: (err, _id, headers) => errorResponse(err, headers),
};

/** The error response for `err` in the shape of the API of the request's route. */
export function errorFor(c: Ctx, err: GatewayError, headers?: HeadersInit): Response {
  const path = c.req.path;
  const shape = SHAPES.find((s) => s.owns(path)) ?? OPENAI;
  return shape.render(err, c.get("requestId"), headers);
}
