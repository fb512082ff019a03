/**
 * `POST /v1/chat/completions` and its aliases.
 *
 * @module
 */
import { parseFlags } from "../flags/mod.ts";
import { unknownModel } from "../openai/errors.ts";
import { promptTokens } from "../openai/response.ts";
import { chatRequest } from "../openai/schema.ts";
import { findProvider } from "../providers/registry.ts";
import { completionId } from "../util/id.ts";
import { accessLog, type Ctx } from "./app.ts";
import { makeContext, readBody } from "./context.ts";
import { runChat } from "./pipeline.ts";
import { writeChat } from "./writer.ts";

/** Answers a chat completion request, streamed or not. */
export async function handleChat(c: Ctx): Promise<Response> {
  const started = performance.now();
  const config = c.get("deps").store.current;
  const body = await readBody(c, chatRequest);
  c.set("model", body.model);
  const provider = findProvider(body.model, config);
  if (!provider) throw unknownModel(body.model);
  const { req, flags } = parseFlags(body, config);
  const { ctx, abort, detach, finish } = makeContext(c, body.model, flags);
  if (flags.debug) ctx.log.info(`debug: processed request ${JSON.stringify(req)}`);

  c.set("logDeferred", true);
  return await writeChat(runChat(provider, req, ctx), {
    meta: { id: completionId(), created: Math.floor(Date.now() / 1000), model: body.model },
    stream: body.stream === true,
    includeUsage: body.stream_options?.include_usage === true,
    keepAliveMs: config.server["keep-alive"] * 1000,
    abort,
    onCommit: detach,
    estimatePromptTokens: () => promptTokens(req),
    onEnd: (end) => {
      const note = end.aborted
        ? "client disconnected"
        : end.error
        ? `error: ${end.error.message}`
        : end.usage
        ? `tokens=${end.usage.prompt_tokens}+${end.usage.completion_tokens}`
        : "";
      accessLog(c, end.status, started, note);
      finish();
    },
  });
}
