/**
 * Building what providers receive with a request: the abort signal tied to the client's
 * connection, the upstream client factory, the logger and the flags.
 *
 * @module
 */
import { configToolFlags } from "../flags/mod.ts";
import { emptyFlags, type RequestFlags } from "../flags/types.ts";
import { upstreamFactory } from "../net/http.ts";
import { fromZodError, GatewayError, invalidRequest, unknownModel } from "../openai/errors.ts";
import type { ChatContext, RequestContext, Route } from "../providers/types.ts";
import { holdSecrets } from "../util/mask.ts";
import { imageSink } from "./image_sink.ts";
import { readBodyText } from "./body.ts";
import type { Ctx } from "./types.ts";
import type { z } from "npm:zod@^4.6.7";

/**
 * Reads and validates a JSON body with `schema`; every failure is a 400 naming the field. The body
 * must be declared `application/json` (unless `server.strict-content-type` is off): a browser
 * sends a cross-site POST without asking the server first only with a form or text type (or none),
 * so refusing those keeps other sites' pages from using the gateway through a visitor's browser.
 */
export async function readBody<S extends z.ZodType>(c: Ctx, schema: S): Promise<z.output<S>> {
  if (c.get("deps").store.current.server["strict-content-type"]) {
    const type = c.req.header("content-type");
    if (!isJson(type)) {
      throw new GatewayError(
        415,
        `Unsupported Content-Type ${
          type ? `'${type.slice(0, 100)}'` : "(none)"
        }: send the body as 'Content-Type: application/json'`,
        "invalid_request_error",
        "unsupported_media_type",
      );
    }
  }
  const text = await readBodyText(c.req.raw, c.get("deps").store.current);
  if (text.trim() === "") throw invalidRequest("The request body is empty; expected JSON");
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    throw invalidRequest(`The request body is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw invalidRequest("The request body must be a JSON object");
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw fromZodError(parsed.error);
  return parsed.data;
}

/** True for `application/json` and `application/<x>+json`, with any parameters. */
function isJson(type: string | undefined): boolean {
  const media = (type ?? "").split(";")[0].trim().toLowerCase();
  return media === "application/json" || /^application\/[a-z0-9.+-]+\+json$/.test(media);
}

/** The abort reasons of a request (single instances: they are never thrown). */
const CLIENT_LEFT = new DOMException("client disconnected", "AbortError");
const REQUEST_ENDED = new DOMException("request ended", "AbortError");

/** A request's context and the handles that end it. */
export interface RequestScope<C extends RequestContext = RequestContext> {
  ctx: C;
  /** Aborts every upstream call of the request. */
  abort: AbortController;
  /**
   * To call before returning a streamed response: from then on the stream's `cancel` reports a
   * client that left, because in Deno's legacy mode (runs without `--unstable-no-legacy-abort`,
   * e.g. from a URL) `request.signal` also fires on every response.
   */
  detach: () => void;
  /** The request is over: anything still running upstream for it stops now. */
  finish: () => void;
}

/** The context of a request, tied to the client's connection. */
export function makeContext(c: Ctx): RequestScope {
  const deps = c.get("deps");
  const config = deps.store.current;
  const abort = new AbortController();
  const clientSignal = c.req.raw.signal;
  const onAbort = () => abort.abort(CLIENT_LEFT);
  if (clientSignal.aborted) onAbort();
  else clientSignal.addEventListener("abort", onAbort, { once: true });
  const detach = () => clientSignal.removeEventListener("abort", onAbort);
  const token = c.get("token");
  // The client's credential is masked in every log line and error text while the request runs.
  const release = holdSecrets([token]);
  const ctx: RequestContext = {
    signal: abort.signal,
    config,
    log: deps.log.child(`[${c.get("requestId")}]`),
    requestId: c.get("requestId"),
    token,
    upstream: upstreamFactory(config, abort.signal, deps.clients),
    images: imageSink(c, config),
  };
  const finish = () => {
    detach();
    release();
    if (!abort.signal.aborted) abort.abort(REQUEST_ENDED);
  };
  return { ctx, abort, detach, finish };
}

/** The context of a chat (or embeddings) request on `route`. */
export function makeChatContext(
  c: Ctx,
  route: Route,
  flags?: RequestFlags,
): RequestScope<ChatContext> {
  const scope = makeContext(c);
  const config = scope.ctx.config;
  const ctx: ChatContext = {
    ...scope.ctx,
    route,
    flags: flags ?? emptyFlags(configToolFlags(config)),
  };
  return { ...scope, ctx };
}

/** The route of `model` with the configuration in force, or a 404 in the client API's shape. */
export function resolveModel(c: Ctx, model: string): Route {
  const deps = c.get("deps");
  const route = deps.registry.resolve(model, deps.store.current);
  if (!route) throw unknownModel(model);
  return route;
}
