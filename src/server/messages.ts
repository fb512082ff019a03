/**
 * Anthropic's Messages API: `POST /v1/messages` and `POST /v1/messages/count_tokens` (also under
 * `/anthropic`). The request is translated into the internal one (`anthropic/request.ts`) and runs
 * through the same pipeline as chat (every provider, native tools or the emulator, flags, pools,
 * keep-alives, abort when the client leaves); the events are written the Messages API's way
 * (`anthropic/writer.ts`). Errors come out in Anthropic's shape (`errors.ts` picks it by route).
 *
 * @module
 */
import { messageId } from "../anthropic/ids.ts";
import { toChatRequest } from "../anthropic/request.ts";
import { countTokensRequest, messagesRequest } from "../anthropic/schema.ts";
import { writeMessages } from "../anthropic/writer.ts";
import { parseFlags } from "../flags/mod.ts";
import { promptTokens } from "../openai/response.ts";
import { accessLog, answerNote } from "./access_log.ts";
import { makeChatContext, readBody, resolveModel } from "./context.ts";
import { runChat, upstreamRequest } from "./pipeline.ts";
import type { Ctx } from "./types.ts";

function logNotes(c: Ctx, notes: readonly string[]): void {
  if (notes.length === 0) return;
  const log = c.get("deps").log.child(`[${c.get("requestId")}]`);
  for (const n of notes) log.info(`messages: ${n}`);
}

/** Answers a Messages API request, streamed or not. */
export async function handleMessages(c: Ctx): Promise<Response> {
  const started = performance.now();
  const deps = c.get("deps");
  const config = deps.store.current;
  const body = await readBody(c, messagesRequest);
  c.set("model", body.model);
  const translated = toChatRequest(body);
  const route = resolveModel(c, body.model);
  logNotes(c, translated.notes);
  const regex = deps.regex.session(config.server.limits["regex-ms"]);
  const { req, flags } = await parseFlags(translated.req, config, regex);
  const { ctx, abort, detach, finish } = makeChatContext(c, route, flags);
  if (flags.debug) ctx.log.info(`debug: processed request ${JSON.stringify(req)}`);

  c.set("logDeferred", true);
  return await writeMessages(runChat(req, ctx, deps), {
    id: messageId(),
    model: route.model,
    stream: body.stream === true,
    inputTokens: () => promptTokens(req),
    keepAliveMs: config.server["keep-alive"] * 1000,
    abort,
    requestId: c.get("requestId"),
    onCommit: detach,
    onEnd: (end) => {
      const u = end.usage;
      const note = answerNote({ ...end, tokens: u && [u.prompt_tokens, u.completion_tokens] });
      accessLog(c, end.status, started, note, end.error !== undefined);
      finish();
    },
  });
}

/**
 * Counts the prompt's tokens as the upstream would receive it: with the tool-call emulator's
 * prompt on routes that emulate tools.
 */
export async function handleCountTokens(c: Ctx): Promise<Response> {
  const deps = c.get("deps");
  const body = await readBody(c, countTokensRequest);
  c.set("model", body.model);
  // Only the fields count_tokens has are read: others (`stop_sequences`, `max_tokens`, ...) are
  // not validated here, so whatever a client puts in them is ignored, never read as theirs.
  const { model, messages, system, tools, tool_choice, thinking, output_config } = body;
  const { req: translated } = toChatRequest({
    model,
    messages,
    system,
    tools,
    tool_choice,
    thinking,
    output_config,
  });
  const route = resolveModel(c, body.model);
  const config = deps.store.current;
  const regex = deps.regex.session(config.server.limits["regex-ms"]);
  const { req, flags } = await parseFlags(translated, config, regex);
  const { ctx, finish } = makeChatContext(c, route, flags);
  try {
    return c.json({ input_tokens: promptTokens(upstreamRequest(req, ctx, deps)) });
  } finally {
    finish();
  }
}
