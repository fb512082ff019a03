/**
 * The chat pipeline between the route and the writer. For each choice:
 *
 *   provider.chat -> cut-off at role markers / char_sequences (providers that flatten)
 *     -> tool-call emulator (providers with `toolMode: emulated`, when tools are in play)
 *     -> `<matcher>` rewrites -> stop sequences (`stop`)
 *
 * plus `<echo />` (the processed upstream prompt instead of an answer) and the fan-out of `n` for
 * providers that produce one choice per call (and always when tool calls are emulated).
 *
 * @module
 */
import { applyMatchers, cutOff } from "../flags/mod.ts";
import type { ChatRequest } from "../openai/schema.ts";
import { ROLE_MARKERS } from "../providers/combine.ts";
import type { ChatContext, ChatEvent, ChatProvider } from "../providers/types.ts";
import { emulateToolCalls, needsEmulation, prepareEmulation } from "../toolcall/mod.ts";

/** Characters per text event of an `<echo />` answer. */
const ECHO_PIECE = 1000;

/** The events answering `req` with `provider`, emulator and filters applied. */
export function runChat(
  provider: ChatProvider,
  req: ChatRequest,
  ctx: ChatContext,
): AsyncIterable<ChatEvent> {
  if (ctx.flags.echo) return echo(provider, req, ctx);
  const n = req.n ?? 1;
  if (n > 1 && (!provider.nativeChoices || emulates(provider, req, ctx))) {
    const single = { ...req, n: undefined };
    return mergeChoices(Array.from({ length: n }, () => oneChoice(provider, single, ctx)));
  }
  return oneChoice(provider, req, ctx);
}

function emulates(provider: ChatProvider, req: ChatRequest, ctx: ChatContext): boolean {
  return provider.toolMode(ctx.model, ctx.config) === "emulated" && needsEmulation(req, ctx);
}

/** The request without the tool fields, for an upstream that cannot take them. */
function withoutTools(req: ChatRequest): ChatRequest {
  const { tools: _t, tool_choice: _c, parallel_tool_calls: _p, ...rest } = req;
  return rest as ChatRequest;
}

/** The request as the provider receives it (after the emulator's rewrite, if any). */
export function upstreamRequest(
  provider: ChatProvider,
  req: ChatRequest,
  ctx: ChatContext,
): ChatRequest {
  if (emulates(provider, req, ctx)) return prepareEmulation(req, ctx).upstream;
  if (provider.toolMode(ctx.model, ctx.config) === "emulated") return withoutTools(req);
  return req;
}

/** Where a flattened answer ends: the model starting the next turn. */
function turnMarkers(provider: ChatProvider, ctx: ChatContext): {
  needles: string[];
  leading: string[];
} {
  const seq = ctx.flags.charSequences;
  const needles: string[] = [];
  const leading: string[] = [];
  if (provider.flattens) {
    needles.push(...ROLE_MARKERS, "\n\nHuman:");
    leading.push("<|assistant|>");
  }
  if (seq) {
    needles.push(seq.user, seq.assistant);
    leading.push(seq.assistant);
  }
  return { needles: [...new Set(needles)], leading };
}

function stopSequences(req: ChatRequest): string[] {
  const s = req.stop;
  if (s == null) return [];
  return (Array.isArray(s) ? s : [s]).filter((x) => x !== "");
}

function oneChoice(
  provider: ChatProvider,
  req: ChatRequest,
  ctx: ChatContext,
): AsyncIterable<ChatEvent> {
  const markers = turnMarkers(provider, ctx);
  const call = (r: ChatRequest) =>
    cutOff(provider.chat(r, ctx), markers.needles, { leading: markers.leading, stopEarly: true });
  let events: AsyncIterable<ChatEvent>;
  if (emulates(provider, req, ctx)) events = emulateToolCalls(req, ctx, call);
  else if (provider.toolMode(ctx.model, ctx.config) === "emulated") {
    events = call(withoutTools(req));
  } else events = call(req);
  events = applyMatchers(events, ctx.flags.matchers);
  // Stop sequences apply to the text the client gets (an upstream may ignore `stop`, and the
  // emulator does not send it so that a call's JSON is never cut).
  return cutOff(events, stopSequences(req), { stopEarly: true });
}

/** `<echo />`: the prompt the upstream would receive, as the answer. */
async function* echo(
  provider: ChatProvider,
  req: ChatRequest,
  ctx: ChatContext,
): AsyncGenerator<ChatEvent> {
  const upstream = upstreamRequest(provider, { ...req, n: undefined }, ctx);
  const text = provider.renderPrompt
    ? await provider.renderPrompt(upstream, ctx)
    : JSON.stringify(upstream.messages, null, 2);
  const chars = [...text];
  for (let i = 0; i < chars.length; i += ECHO_PIECE) {
    yield { type: "text", text: chars.slice(i, i + ECHO_PIECE).join("") };
  }
  yield { type: "finish", reason: "stop" };
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
