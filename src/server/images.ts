/**
 * `POST /v1/images/generations` (and aliases) and `GET /file/...` for stored images.
 *
 * @module
 */
import type { Config } from "../config/schema.ts";
import { emptyFlags } from "../flags/types.ts";
import { type Complete, generateImages, remoteComplete, tagsRequest } from "../images/mod.ts";
import { GatewayError, unknownModel } from "../openai/errors.ts";
import { chatRequest, imageRequest } from "../openai/schema.ts";
import type { ChatContext } from "../providers/types.ts";
import { makeContext, readBody } from "./context.ts";
import { domainOf, imageStore } from "./image_sink.ts";
import { runChat } from "./pipeline.ts";
import type { AppDeps, Ctx } from "./types.ts";

/**
 * The prompt-to-tags LLM of `images.llm`: an OpenAI-compatible endpoint when `base-url` is set,
 * else a model of this server called in process (its credential `images.llm.token`, or pools).
 */
function tagsLlm(config: Config, deps: AppDeps): Complete | undefined {
  const llm = config.images.llm;
  const model = llm.model;
  if (!model) return undefined;
  if (llm["base-url"]) return remoteComplete(llm["base-url"], model, llm.token);
  return async (instruction, ctx) => {
    const route = deps.registry.resolve(model, ctx.config);
    if (!route) {
      const err = unknownModel(model);
      throw new GatewayError(
        500,
        `images.llm.model: ${err.message}`,
        "server_error",
        "images_llm_misconfigured",
      );
    }
    const llmCtx: ChatContext = {
      ...ctx,
      route,
      token: llm.token,
      flags: emptyFlags({ enabled: false, tasks: false }),
    };
    const req = chatRequest.parse(tagsRequest(model, instruction));
    let text = "";
    for await (const ev of runChat(req, llmCtx, deps)) {
      if (ev.type === "text") text += ev.text;
    }
    return text;
  };
}

/** Answers an image generation request. */
export async function handleImages(c: Ctx): Promise<Response> {
  const req = await readBody(c, imageRequest);
  c.set("model", req.model);
  const { ctx, finish } = makeContext(c);
  const deps = c.get("deps");
  try {
    const body = await generateImages(req, ctx, {
      store: imageStore(c),
      domain: domainOf(c, ctx.config),
      complete: tagsLlm(ctx.config, deps),
      resting: deps.images.resting,
      coze: deps.registry.get("coze"),
      pools: deps.images.pools,
      notices: deps.images.notices,
    });
    return c.json(body);
  } finally {
    finish();
  }
}

/** Serves a stored image. */
export async function handleFile(c: Ctx): Promise<Response> {
  let rel: string;
  try {
    rel = decodeURIComponent(c.req.path.replace(/^\/file\//, ""));
  } catch {
    rel = "";
  }
  const found = await imageStore(c).open(rel);
  if (!found) {
    throw new GatewayError(
      404,
      `No such file: ${c.req.path}`,
      "invalid_request_error",
      "not_found",
    );
  }
  return new Response(found.file.readable, {
    headers: {
      "content-type": found.contentType,
      "content-length": String(found.size),
      "cache-control": "public, max-age=86400",
      "x-content-type-options": "nosniff",
    },
  });
}
