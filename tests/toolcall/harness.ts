/**
 * Helpers for the emulator's unit tests: a provider context without a server, and a scripted
 * upstream that answers each call with the next text, in chunks of a chosen size.
 *
 * @module
 */
import { emptyFlags, type RequestFlags, type ToolFlags } from "../../src/flags/types.ts";
import type { ChatEvent } from "../../src/core/events.ts";
import { promptTokens } from "../../src/openai/response.ts";
import type { ChatRequest, Tool } from "../../src/openai/schema.ts";
import { Meter } from "../../src/providers/answer.ts";
import { type EmulationContext, TaskPlans, type UpstreamCall } from "../../src/toolcall/mod.ts";
import { createLogger } from "../../src/util/log.ts";
import { loadTokenizer } from "../../src/util/tokens.ts";

// Counting tokens needs the tokenizer loaded (the server loads it on its first request).
await loadTokenizer();

/** A context for calling the emulator directly (a fresh plan store unless one is given). */
export function testContext(
  tool: Partial<ToolFlags> = {},
  extra: Partial<RequestFlags> = {},
  plans: TaskPlans = new TaskPlans(),
): EmulationContext & { lines: string[] } {
  const lines: string[] = [];
  const flags = { ...emptyFlags({ enabled: true, tasks: false, ...tool }), ...extra };
  return {
    signal: new AbortController().signal,
    log: createLogger("debug", (_l, line) => lines.push(line)),
    flags,
    plans,
    lines,
  };
}

/** An upstream call as the pipeline makes it: the events, metered. */
export function metered(
  fn: (req: ChatRequest) => AsyncIterable<ChatEvent>,
): (req: ChatRequest) => UpstreamCall {
  return (req) => {
    const m = new Meter(() => promptTokens(req));
    const events = (async function* () {
      for await (const ev of fn(req)) {
        m.see(ev);
        if (ev.type !== "usage") yield ev;
      }
    })();
    return { events, usage: () => m.usage() };
  };
}

/** How an answer is cut into text events. */
export type Chunking = number | "random" | number[];

/** Splits `text` into pieces (sizes in characters). */
export function chunks(text: string, how: Chunking, seed = 1): string[] {
  const out: string[] = [];
  if (Array.isArray(how)) {
    let at = 0;
    for (const cut of [...how, text.length]) {
      out.push(text.slice(at, cut));
      at = cut;
    }
    return out.filter((p) => p !== "");
  }
  let s = seed;
  for (let i = 0; i < text.length;) {
    let n: number;
    if (how === "random") {
      s = (s * 1103515245 + 12345) % 2147483648;
      n = 1 + (s % 17);
    } else {
      n = how;
    }
    out.push(text.slice(i, i + n));
    i += n;
  }
  return out;
}

/** A scripted upstream: each call answers with the next text (or "" when none is left). */
export function scripted(answers: string[], how: Chunking = 4, options: {
  usage?: { prompt_tokens: number; completion_tokens: number };
  finish?: "stop" | "length";
} = {}) {
  const requests: ChatRequest[] = [];
  /** Pieces actually read by the emulator, per call. */
  const read: number[] = [];
  const call = metered((req: ChatRequest): AsyncIterable<ChatEvent> => {
    requests.push(req);
    const text = answers[requests.length - 1] ?? "";
    const n = read.push(0) - 1;
    return (async function* () {
      for (const p of chunks(text, how)) {
        read[n]++;
        yield { type: "text", text: p } as ChatEvent;
      }
      if (options.usage) yield { type: "usage", ...options.usage } as ChatEvent;
      yield { type: "finish", reason: options.finish ?? "stop" } as ChatEvent;
    })();
  });
  return { call, requests, read };
}

/** The text, calls and finish reason of an event stream. */
export async function collect(events: AsyncIterable<ChatEvent>) {
  let text = "";
  const textEvents: string[] = [];
  const calls: { index: number; id: string; name: string; arguments: string }[] = [];
  let finish: string | undefined;
  let usage: { prompt_tokens: number; completion_tokens: number } | undefined;
  for await (const ev of events) {
    switch (ev.type) {
      case "text":
        text += ev.text;
        textEvents.push(ev.text);
        break;
      case "tool_call": {
        const c = calls.find((x) => x.index === ev.index);
        if (c) c.arguments += ev.arguments;
        else {calls.push({
            index: ev.index,
            id: ev.id ?? "",
            name: ev.name ?? "",
            arguments: ev.arguments,
          });}
        break;
      }
      case "finish":
        finish = ev.reason;
        break;
      case "usage":
        usage = { prompt_tokens: ev.prompt_tokens, completion_tokens: ev.completion_tokens };
        break;
    }
  }
  return { text, textEvents, calls, finish, usage };
}

/** A function tool. */
export function fn(name: string, parameters?: Record<string, unknown>, description?: string): Tool {
  return { type: "function", function: { name, parameters, description } } as Tool;
}

/** A minimal chat request with `tools`. */
export function request(
  user: string,
  tools: Tool[],
  extra: Partial<ChatRequest> = {},
): ChatRequest {
  return {
    model: "test/model",
    messages: [{ role: "user", content: user }],
    tools,
    ...extra,
  } as ChatRequest;
}
