/**
 * `POST /v1/chat/completions` and its aliases.
 *
 * @module
 */
import { parseFlags } from "../flags/mod.ts";
import { chatRequest } from "../openai/schema.ts";
import { writeChat } from "../openai/writer.ts";
import { completionId } from "../util/id.ts";
import { accessLog, answerNote } from "./access_log.ts";
import { makeChatContext, readBody, resolveModel } from "./context.ts";
import { runChat } from "./pipeline.ts";
import type { Ctx } from "./types.ts";

/** Answers a chat completion request, streamed or not. */
export async function handleChat(c: Ctx): Promise<Response> {
  const started = performance.now();
  const deps = c.get("deps");
  const config = deps.store.current;
  const body = await readBody(c, chatRequest);
  c.set("model", body.model);
  const route = resolveModel(c, body.model);
  const regex = deps.regex.session(config.server.limits["regex-ms"]);
  const { req, flags } = await parseFlags(body, config, regex);
  const { ctx, abort, detach, finish } = makeChatContext(c, route, flags);
  if (flags.debug) ctx.log.info(`debug: processed request ${JSON.stringify(req)}`);

  c.set("logDeferred", true);
  return await writeChat(runChat(req, ctx, deps), {
    meta: { id: completionId(), created: Math.floor(Date.now() / 1000), model: route.model },
    stream: body.stream === true,
    includeUsage: body.stream_options?.include_usage === true,
    keepAliveMs: config.server["keep-alive"] * 1000,
    abort,
    onCommit: detach,
    onEnd: (end) => {
      const u = end.usage;
      const note = answerNote({ ...end, tokens: u && [u.prompt_tokens, u.completion_tokens] });
      accessLog(c, end.status, started, note, end.error !== undefined);
      finish();
    },
  });
}
