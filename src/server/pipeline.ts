/**
 * The chat pipeline between a client API's handler and its writer. For each choice:
 *
 *   route.provider.chat -> cut-off at the provider's turn markers / char_sequences
 *     -> meter (usage completed) or the tool-call emulator (routes with `toolMode: emulated`,
 *        when tools are in play; it meters each of its upstream calls)
 *     -> `<matcher>` rewrites -> stop sequences (`stop`)
 *
 * plus `<echo />` (the processed upstream prompt instead of an answer) and the fan-out of `n` for
 * providers that produce one choice per call (and always when tool calls are emulated).
 *
 * @module
 */
import type { ChatEvent } from "../core/events.ts";
import { applyMatchers, cutOff } from "../flags/mod.ts";
import { promptTokens } from "../openai/response.ts";
import type { ChatRequest } from "../openai/schema.ts";
import { Meter, meter } from "../providers/answer.ts";
import { checkToolChoice, stopList } from "../providers/params.ts";
import type { ChatContext } from "../providers/types.ts";
import {
  emulateToolCalls,
  needsEmulation,
  prepareEmulation,
  type TaskPlans,
  type UpstreamCall,
} from "../toolcall/mod.ts";

/** Characters per text event of an `<echo />` answer. */
const ECHO_PIECE = 1000;

/** What the pipeline keeps across requests. */
export interface PipelineDeps {
  /** Tasks-mode plans of the tool-call emulator. */
  plans: TaskPlans;
}

/** The events answering `req` on `ctx.route`, emulator and filters applied, usage complete. */
export function runChat(
  req: ChatRequest,
  ctx: ChatContext,
  deps: PipelineDeps,
): AsyncIterable<ChatEvent> {
  checkToolChoice(req);
  if (ctx.flags.echo) return meter(echo(req, ctx, deps), () => promptTokens(req));
  const n = req.n ?? 1;
  if (n > 1 && (!ctx.route.nativeChoices || emulates(req, ctx))) {
    const single = { ...req, n: undefined };
    return mergeChoices(Array.from({ length: n }, () => oneChoice(single, ctx, deps)));
  }
  return oneChoice(req, ctx, deps);
}

function emulates(req: ChatRequest, ctx: ChatContext): boolean {
  return ctx.route.toolMode === "emulated" && needsEmulation(req, ctx);
}

/** The request without the tool fields, for an upstream that cannot take them. */
function withoutTools(req: ChatRequest): ChatRequest {
  const { tools: _t, tool_choice: _c, parallel_tool_calls: _p, ...rest } = req;
  return rest as ChatRequest;
}

/** The request as the provider receives it (after the emulator's rewrite, if any). */
export function upstreamRequest(
  req: ChatRequest,
  ctx: ChatContext,
  deps: PipelineDeps,
): ChatRequest {
  if (emulates(req, ctx)) return prepareEmulation(req, emulation(ctx, deps)).upstream;
  if (ctx.route.toolMode === "emulated") return withoutTools(req);
  return req;
}

/** What the emulator reads of a request: its context, the plans, the schema work bound. */
function emulation(ctx: ChatContext, deps: PipelineDeps) {
  return { ...ctx, plans: deps.plans, schemaNodes: ctx.config.server.limits["schema-nodes"] };
}

/** Where a flattened answer ends: the model starting the next turn. */
function turnMarkers(ctx: ChatContext): { needles: string[]; leading: string[] } {
  const seq = ctx.flags.charSequences;
  const declared = ctx.route.turnMarkers;
  const needles: string[] = [...declared?.needles ?? []];
  const leading: string[] = [...declared?.leading ?? []];
  if (seq) {
    needles.push(seq.user, seq.assistant);
    leading.push(seq.assistant);
  }
  return { needles: [...new Set(needles)], leading };
}

function oneChoice(
  req: ChatRequest,
  ctx: ChatContext,
  deps: PipelineDeps,
): AsyncIterable<ChatEvent> {
  const markers = turnMarkers(ctx);
  const provider = ctx.route.provider;
  const upstream = (r: ChatRequest) =>
    cutOff(provider.chat(r, ctx), markers.needles, { leading: markers.leading, stopEarly: true });
  let events: AsyncIterable<ChatEvent>;
  if (emulates(req, ctx)) {
    const call = (r: ChatRequest): UpstreamCall => {
      const m = new Meter(() => promptTokens(r));
      return { events: observe(upstream(r), m), usage: () => m.usage() };
    };
    events = emulateToolCalls(req, emulation(ctx, deps), call);
  } else {
    const r = ctx.route.toolMode === "emulated" ? withoutTools(req) : req;
    events = meter(upstream(r), () => promptTokens(r));
  }
  events = applyMatchers(events, ctx.flags.matchers, ctx.flags.regex);
  // Stop sequences apply to the text the client gets (an upstream may ignore `stop`, and the
  // emulator does not send it so that a call's JSON is never cut).
  return cutOff(events, stopList(req), { stopEarly: true, report: true });
}

/** Passes `events` on, showing each to `m` (the emulator reads the usage from `m`). */
async function* observe(events: AsyncIterable<ChatEvent>, m: Meter): AsyncGenerator<ChatEvent> {
  for await (const ev of events) {
    m.see(ev);
    if (ev.type !== "usage") yield ev;
  }
}

/** `<echo />`: the prompt the upstream would receive, as the answer. */
async function* echo(
  req: ChatRequest,
  ctx: ChatContext,
  deps: PipelineDeps,
): AsyncGenerator<ChatEvent> {
  const upstream = upstreamRequest({ ...req, n: undefined }, ctx, deps);
  const provider = ctx.route.provider;
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
