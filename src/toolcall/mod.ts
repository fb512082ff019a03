/**
 * Prompt-emulated tool calling for upstreams without native tools: a stream transform around any
 * provider's `chat`. The request is rewritten once (tools and rules in the prompt, tool traffic as
 * text, see `prompt.ts`), the answer streams through the parser (`parser/`): text goes to the
 * client as it comes, `<tool_call>` blocks become checked tool calls with stable indexes and
 * unique `call_` ids. A call that cannot be used (unknown tool, arguments that do not fit the
 * schema, cut off) gets one corrective request that continues the answer; if that fails too, the
 * text of the broken call is given as content. The format is documented in docs/toolcall.md.
 *
 * @module
 */
import type { ChatEvent, FinishReason, ToolCallEvent, UsageEvent } from "../core/events.ts";
import type { RequestFlags } from "../flags/types.ts";
import { invalidRequest } from "../openai/errors.ts";
import type { ChatRequest, Message } from "../openai/schema.ts";
import { toolCallId } from "../util/id.ts";
import type { Logger } from "../util/log.ts";
import { type CheckedCall, type RawCall, Toolset } from "./calls.ts";
import { SchemaBudget } from "./schema_budget.ts";
import { type ParseEvent, ToolCallParser } from "./parser/mod.ts";
import { callBlock, type Choice, type EmulationPlan, renderRequest } from "./prompt.ts";
import { directArguments, readPlan, type TaskPlans } from "./tasks.ts";

export type { EmulationPlan } from "./prompt.ts";
export { TaskPlans } from "./tasks.ts";

/** What the emulator needs of a request. */
export interface EmulationContext {
  flags: RequestFlags;
  log: Logger;
  signal: AbortSignal;
  /** Tasks-mode plans, kept by the server across requests. */
  plans: TaskPlans;
  /** Schema nodes the argument checks of this request may visit (`server.limits.schema-nodes`). */
  schemaNodes?: number;
}

/**
 * One upstream call of the emulator: the answer's events and, at any time (also after the
 * emulator stopped reading early), the usage of what came (the pipeline's meter).
 */
export interface UpstreamCall {
  events: AsyncIterable<ChatEvent>;
  usage(): UsageEvent;
}

/** How much of the answer's text a corrective request repeats (its end). */
const RETRY_CONTEXT = 4000;

function hasToolHistory(messages: readonly Message[]): boolean {
  return messages.some((m) =>
    m.role === "tool" || m.role === "function" ||
    (m.role === "assistant" && ((m.tool_calls?.length ?? 0) > 0 || m.function_call))
  );
}

/**
 * True when the emulator should run for this request: emulation is on (`toolcall.enabled` or
 * `<tool enabled />`) and the request has tools, or tool traffic in its history to render.
 */
export function needsEmulation(req: ChatRequest, ctx: { flags: RequestFlags }): boolean {
  return ctx.flags.tool.enabled && ((req.tools?.length ?? 0) > 0 || hasToolHistory(req.messages));
}

/** The emulation of one request, decided before anything is sent. */
export interface Prepared {
  plan: EmulationPlan;
  toolset: Toolset;
  /** The request the upstream receives. */
  upstream: ChatRequest;
  /** Tasks mode: the next call is known and needs no model (a tool without arguments). */
  direct?: CheckedCall;
}

function choiceOf(req: ChatRequest, toolset: Toolset): Choice {
  const c = req.tool_choice;
  if (toolset.tools.length === 0 || c === "none") return { kind: "none" };
  if (c === "required") return { kind: "required" };
  if (typeof c === "object") {
    const name = toolset.resolve(c.function.name);
    if (!name) {
      throw invalidRequest(
        `Invalid value for 'tool_choice': no function named '${c.function.name}' was specified in 'tools'.`,
        "tool_choice",
      );
    }
    return { kind: "named", name };
  }
  return { kind: "auto" };
}

/** Decides the emulation of `req`: the plan, and the request to send upstream. */
export function prepareEmulation(req: ChatRequest, ctx: EmulationContext): Prepared {
  const tools = (req.tools ?? []).filter((t) => t.type === "function");
  const budget = ctx.schemaNodes === undefined ? undefined : new SchemaBudget(ctx.schemaNodes);
  const toolset = new Toolset(tools, budget);
  let choice = choiceOf(req, toolset);
  let parallel = req.parallel_tool_calls !== false;
  const last = req.messages[req.messages.length - 1];
  const afterResult = last?.role === "tool" || last?.role === "function";
  const flags = ctx.flags.tool;

  let defaultTool: string | undefined;
  if (flags.id && flags.id !== "-1" && choice.kind === "auto" && !afterResult) {
    defaultTool = toolset.resolve(flags.id);
  }

  let tasks: EmulationPlan["tasks"];
  let direct: CheckedCall | undefined;
  if (flags.tasks && choice.kind === "auto") {
    parallel = false;
    const stored = afterResult ? ctx.plans.planFor(req.messages) : undefined;
    if (stored && stored.done < stored.plan.length) {
      const next = stored.plan[stored.done];
      tasks = { stage: "next", plan: stored.plan, done: stored.done };
      choice = { kind: "named", name: next.tool };
      const args = directArguments(toolset.byName.get(next.tool)!, next.task);
      if (args) direct = { name: next.tool, arguments: JSON.stringify(args) };
    } else if (!afterResult) {
      tasks = { stage: "plan" };
    }
  }

  const plan: EmulationPlan = { tools, choice, parallel, defaultTool, tasks };
  return { plan, toolset, upstream: renderRequest(req, plan), direct };
}

interface Problem {
  raw: string;
  error: string;
  truncated: boolean;
}

/** The state of one emulated answer across its upstream calls. */
class Emulation {
  nextIndex = 0;
  calls: { id: string; call: CheckedCall }[] = [];
  problems: Problem[] = [];
  /** Problems of the first answer, for the fallback text. */
  firstProblems: Problem[] = [];
  /** Text sent so far (its end, at least `RETRY_CONTEXT` characters, for a corrective request). */
  text = "";
  sentText = false;
  /** White space held back: dropped when a call follows, sent when text follows. */
  ws = "";
  /** A call (good or not) was seen: later text is not part of the answer. */
  afterCall = false;
  stop = false;
  finish?: FinishReason;
  prompt = 0;
  completion = 0;
  plan?: ReturnType<typeof readPlan>;
  native = new Map<number, number>();

  constructor(readonly prep: Prepared) {}

  get choice(): Choice {
    return this.prep.plan.choice;
  }

  /** The events for one parser event. */
  *handle(pe: ParseEvent, retry: boolean): Generator<ChatEvent> {
    switch (pe.type) {
      case "text": {
        if (retry || this.afterCall) return;
        // Only this event's text is trimmed and copied: held white space and the kept end of
        // the answer grow by appending, so the work per event does not grow with them.
        const body = pe.text.trimEnd();
        if (body === "") {
          if (this.sentText) this.ws += pe.text;
          return;
        }
        const t = this.sentText ? this.ws + body : body.trimStart();
        this.ws = pe.text.slice(body.length);
        this.sentText = true;
        this.text += t;
        if (this.text.length > 2 * RETRY_CONTEXT) this.text = this.text.slice(-RETRY_CONTEXT);
        yield { type: "text", text: t };
        return;
      }
      case "calls":
        this.afterCall = true;
        this.ws = "";
        for (const raw of pe.calls) yield* this.#call(raw, pe.raw);
        return;
      case "broken":
        this.afterCall = true;
        this.ws = "";
        this.problems.push({ raw: pe.raw, error: pe.detail, truncated: pe.reason === "truncated" });
        return;
      case "tasks":
        this.plan = readPlan(pe.value, (n) => this.prep.toolset.resolve(n));
        return;
      case "end":
        this.stop = true;
        return;
    }
  }

  *#call(raw: RawCall, blockRaw: string): Generator<ChatEvent> {
    if (this.stop) return;
    const r = this.prep.toolset.check(raw);
    let error = "error" in r ? r.error : undefined;
    const choice = this.choice;
    if (!error && choice.kind === "named" && "call" in r && r.call.name !== choice.name) {
      // The named tool was called already: extra calls of others are simply not taken.
      if (this.calls.length > 0) return;
      error = `the tool "${choice.name}" must be called now, not "${r.call.name}"`;
    }
    if (error || !("call" in r)) {
      this.problems.push({ raw: blockRaw, error: error ?? "unusable call", truncated: false });
      return;
    }
    yield* this.emitCall(r.call);
  }

  *emitCall(call: CheckedCall): Generator<ChatEvent> {
    const id = toolCallId();
    const index = this.nextIndex++;
    this.calls.push({ id, call });
    // The first delta names the call; the arguments follow, as OpenAI streams them.
    yield { type: "tool_call", index, id, name: call.name, arguments: "" };
    yield { type: "tool_call", index, arguments: call.arguments };
    if (!this.prep.plan.parallel) this.stop = true;
  }

  /** A native tool call the upstream made anyway: passed on with an index of ours. */
  nativeCall(ev: ToolCallEvent): ChatEvent {
    let index = this.native.get(ev.index);
    if (index === undefined) {
      index = this.nextIndex++;
      this.native.set(ev.index, index);
    }
    return { ...ev, index, choice: undefined };
  }

  /** What is still wanted after an answer: the correction to ask for, or nothing. */
  correction(): string | undefined {
    const choice = this.choice;
    if (choice.kind === "none") return undefined;
    const parallel = this.prep.plan.parallel;
    if (this.problems.length > 0 && (parallel || this.calls.length === 0)) {
      const truncated = this.problems.every((p) => p.truncated);
      const lines = this.problems.map((p) => `- ${p.error}`);
      return [
        truncated
          ? "Your tool call was cut off before it was complete."
          : "Your tool call could not be used:",
        ...(truncated ? [] : lines),
        this.calls.length > 0 ? "The other tool calls were accepted; do not repeat them." : "",
        truncated
          ? "Write the whole <tool_call> block again, complete, with short arguments. Reply with the <tool_call> block only."
          : "Write the corrected <tool_call> block now. Reply with the <tool_call> block only.",
      ].filter((l) => l !== "").join("\n");
    }
    if (this.calls.length > 0 || this.prep.plan.defaultTool) return undefined;
    if (choice.kind === "named") {
      return `You must call the tool "${choice.name}" now. Reply with the <tool_call> block only.`;
    }
    if (choice.kind === "required") {
      return "You must call a tool now. Reply with the <tool_call> block(s) only.";
    }
    return undefined;
  }

  /** The assistant's answer so far, as the model wrote it, for a corrective request. */
  answerSoFar(): string {
    const parts = [this.text.slice(-RETRY_CONTEXT)];
    for (const c of this.calls) parts.push(callBlock(c.call.name, c.call.arguments));
    for (const p of this.problems) parts.push(p.raw);
    return parts.filter((p) => p.trim() !== "").join("\n\n");
  }
}

/**
 * Runs `call` (the provider, one upstream call per invocation) with tools emulated through the
 * prompt. One upstream call, plus one corrective call only when a call came out unusable or a
 * required call is missing.
 */
export async function* emulateToolCalls(
  req: ChatRequest,
  ctx: EmulationContext,
  call: (req: ChatRequest) => UpstreamCall,
): AsyncGenerator<ChatEvent> {
  const prep = prepareEmulation(req, ctx);
  const em = new Emulation(prep);

  if (prep.direct) {
    // Tasks mode knows the next call and the tool needs nothing from the model.
    yield* em.emitCall(prep.direct);
    afterCalls(em, prep, ctx.plans);
    yield { type: "finish", reason: "tool_calls" };
    return;
  }

  yield* pass(em, prep, prep.upstream, call, false);
  const correction = ctx.signal.aborted ? undefined : em.correction();
  if (correction) {
    ctx.log.debug(`tool call emulation: corrective request (${correction.split("\n")[0]})`);
    const retry: ChatRequest = {
      ...prep.upstream,
      messages: [
        ...prep.upstream.messages,
        { role: "assistant", content: em.answerSoFar() },
        { role: "user", content: correction },
      ],
    };
    em.firstProblems = em.problems;
    em.problems = [];
    em.stop = false;
    yield* pass(em, prep, retry, call, true);
  } else {
    em.firstProblems = em.problems;
  }

  if (em.calls.length === 0 && prep.plan.defaultTool) {
    yield* em.emitCall({ name: prep.plan.defaultTool, arguments: "{}" });
  } else if (em.calls.length === 0 && em.firstProblems.length > 0) {
    // Nothing usable came of the broken call: what the model wrote is the answer.
    ctx.log.warn(`tool call emulation: unusable call (${em.firstProblems[0].error})`);
    const raw = em.firstProblems.map((p) => p.raw).join("\n\n");
    yield { type: "text", text: em.sentText ? `\n\n${raw}` : raw };
  } else if (em.problems.length > 0 || em.firstProblems.length > 0) {
    ctx.log.warn(
      `tool call emulation: dropped an unusable call (${
        (em.problems[0] ?? em.firstProblems[0]).error
      })`,
    );
  }
  afterCalls(em, prep, ctx.plans);
  yield { type: "usage", prompt_tokens: em.prompt, completion_tokens: em.completion };
  yield {
    type: "finish",
    reason: em.calls.length > 0 || em.native.size > 0 ? "tool_calls" : em.finish ?? "stop",
  };
}

/** Tasks mode bookkeeping once the calls of this turn are known. */
function afterCalls(em: Emulation, prep: Prepared, plans: TaskPlans): void {
  const t = prep.plan.tasks;
  const first = em.calls[0];
  if (!t || !first) return;
  if (t.stage === "plan" && em.plan && em.plan.length > 1) plans.remember(first.id, em.plan, 1);
  if (t.stage === "next" && t.done + 1 < t.plan.length) {
    plans.remember(first.id, t.plan, t.done + 1);
  }
}

/** One upstream call, its answer parsed into events. */
async function* pass(
  em: Emulation,
  prep: Prepared,
  upstream: ChatRequest,
  call: (req: ChatRequest) => UpstreamCall,
  retry: boolean,
): AsyncGenerator<ChatEvent> {
  const parse = prep.plan.choice.kind !== "none";
  const parser = new ToolCallParser({
    isTool: (n) => prep.toolset.has(n),
    tasks: prep.plan.tasks?.stage === "plan",
  });
  const answer = call(upstream);
  read: for await (const ev of answer.events) {
    switch (ev.type) {
      case "text":
        if (!parse) {
          if (!retry) yield { type: "text", text: ev.text };
          break;
        }
        for (const pe of parser.push(ev.text)) {
          yield* em.handle(pe, retry);
          // Enough was read (one call allowed, or the model wrote a tool result): stop the upstream.
          if (em.stop) break read;
        }
        break;
      case "reasoning":
        yield { type: "reasoning", text: ev.text };
        break;
      case "tool_call":
        yield em.nativeCall(ev);
        break;
      case "finish":
        if (!retry) em.finish = ev.reason;
        break;
    }
  }
  if (parse && !em.stop) { for (const pe of parser.end()) yield* em.handle(pe, retry); }
  const usage = answer.usage();
  em.prompt += usage.prompt_tokens;
  em.completion += usage.completion_tokens;
}
