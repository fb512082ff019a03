/**
 * The chat pipeline between the route and the writer: the tool-call emulator and the stream
 * filters wrapped around a provider, and the fan-out of `n` for providers that produce one
 * choice per call.
 *
 * @module
 */
import type { ChatRequest } from "../openai/schema.ts";
import type { ChatContext, ChatEvent, ChatProvider } from "../providers/types.ts";
import { emulateToolCalls, needsEmulation } from "../toolcall/mod.ts";

/** The events answering `req` with `provider`, emulator and filters applied. */
export function runChat(
  provider: ChatProvider,
  req: ChatRequest,
  ctx: ChatContext,
): AsyncIterable<ChatEvent> {
  const n = req.n ?? 1;
  if (n > 1 && !provider.nativeChoices) {
    const single = { ...req, n: undefined };
    return mergeChoices(Array.from({ length: n }, () => oneChoice(provider, single, ctx)));
  }
  return oneChoice(provider, req, ctx);
}

function oneChoice(
  provider: ChatProvider,
  req: ChatRequest,
  ctx: ChatContext,
): AsyncIterable<ChatEvent> {
  const call = (r: ChatRequest) => provider.chat(r, ctx);
  if (provider.toolMode(ctx.model, ctx.config) === "emulated" && needsEmulation(req, ctx)) {
    return emulateToolCalls(req, ctx, call);
  }
  if (provider.toolMode(ctx.model, ctx.config) === "emulated") {
    // Tools the emulator is switched off for are not sent to an upstream that cannot take them.
    const { tools: _t, tool_choice: _c, parallel_tool_calls: _p, ...rest } = req;
    return call(rest as ChatRequest);
  }
  return call(req);
}

/**
 * Runs several single-choice streams at once and labels their events with the choice index.
 * Usage is summed; events pass on in the order they arrive.
 */
export async function* mergeChoices(
  streams: AsyncIterable<ChatEvent>[],
): AsyncGenerator<ChatEvent> {
  const its = streams.map((s) => s[Symbol.asyncIterator]());
  const pending = new Map<number, Promise<{ i: number; r: IteratorResult<ChatEvent> }>>();
  const pull = (i: number) => pending.set(i, its[i].next().then((r) => ({ i, r })));
  its.forEach((_, i) => pull(i));
  let prompt = 0;
  let completion = 0;
  let sawUsage = false;
  try {
    while (pending.size > 0) {
      const { i, r } = await Promise.race(pending.values());
      if (r.done) {
        pending.delete(i);
        continue;
      }
      pull(i);
      const ev = r.value;
      if (ev.type === "usage") {
        sawUsage = true;
        // Every choice was its own upstream call; the prompt was sent n times.
        prompt += ev.prompt_tokens;
        completion += ev.completion_tokens;
        continue;
      }
      yield { ...ev, choice: i };
    }
    if (sawUsage) yield { type: "usage", prompt_tokens: prompt, completion_tokens: completion };
  } finally {
    // Not awaited: a sibling may be mid-read; the request's abort signal stops its upstream.
    for (const it of its) it.return?.().catch(() => {});
  }
}
