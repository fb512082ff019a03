/**
 * Answer bookkeeping shared by every provider and the pipeline:
 *
 * - `Meter` (and `meter`, its stream form) completes the usage of each upstream call: the
 *   upstream's counts where it gave them, else the request's prompt estimate and the answer's
 *   tokens counted here. The one place completion tokens are counted: the pipeline meters every
 *   call, the emulator sums the usage of its calls, writers report what they are given.
 * - `guardAnswer` fails an answer that ended without a word (web upstreams that go quiet) and
 *   reports the prompt tokens of the text the provider really sent.
 *
 * @module
 */
import type { ChatEvent, UsageEvent } from "../core/events.ts";
import { upstreamFailed } from "../openai/errors.ts";
import { TokenCounter } from "../util/tokens.ts";

/**
 * Counts one upstream call's answer: the upstream's usage where it gave one (the last, when it
 * sent several), else `estimatePrompt()` and the tokens of the text, reasoning and tool calls
 * that came. `usage()` can be read at any time, also after a reader stopped early.
 */
export class Meter {
  #counter = new TokenCounter();
  #upstream?: UsageEvent;

  constructor(private readonly estimatePrompt: () => number) {}

  /** Takes note of one event. */
  see(ev: ChatEvent): void {
    switch (ev.type) {
      case "text":
      case "reasoning":
        this.#counter.push(ev.text);
        break;
      case "tool_call":
        if (ev.name) this.#counter.push(ev.name);
        if (ev.arguments) this.#counter.push(ev.arguments);
        break;
      case "usage":
        this.#upstream = ev;
        break;
    }
  }

  /** The usage of what was seen so far. */
  usage(): UsageEvent {
    const u = this.#upstream;
    const out: UsageEvent = {
      type: "usage",
      prompt_tokens: u && u.prompt_tokens > 0 ? u.prompt_tokens : this.estimatePrompt(),
      completion_tokens: u && u.completion_tokens > 0 ? u.completion_tokens : this.#counter.total,
    };
    if (u?.cached_tokens !== undefined) out.cached_tokens = u.cached_tokens;
    if (u?.cache_creation_tokens !== undefined) {
      out.cache_creation_tokens = u.cache_creation_tokens;
    }
    if (u?.reasoning_tokens !== undefined) out.reasoning_tokens = u.reasoning_tokens;
    return out;
  }
}

/**
 * Passes `events` on with exactly one `usage` event (the `Meter`'s) at the end; the upstream's
 * own usage events are folded into it (some send usage after the finish, or more than once).
 */
export async function* meter(
  events: AsyncIterable<ChatEvent>,
  estimatePrompt: () => number,
): AsyncGenerator<ChatEvent> {
  const m = new Meter(estimatePrompt);
  for await (const ev of events) {
    m.see(ev);
    if (ev.type !== "usage") yield ev;
  }
  yield m.usage();
}

/** Options of `guardAnswer`. */
export interface GuardOptions {
  /** The provider id the error is reported under. */
  provider: string;
  /** Tokens of the prompt the provider sent (its flattened conversation). */
  promptTokens: number;
  /** What to say when the upstream ended without a word (default "the answer was empty"). */
  empty?: string;
}

/**
 * Passes a web upstream's answer on, failing with a 502 when it ended without text, reasoning or
 * a tool call, and adds the usage of the prompt it was sent (the meter counts the answer).
 */
export async function* guardAnswer(
  events: AsyncIterable<ChatEvent>,
  options: GuardOptions,
): AsyncGenerator<ChatEvent> {
  let produced = false;
  let finish: ChatEvent | undefined;
  for await (const ev of events) {
    if (ev.type === "finish") {
      finish = ev;
      continue;
    }
    if (ev.type === "text" || ev.type === "reasoning" || ev.type === "tool_call") produced = true;
    yield ev;
  }
  if (!produced) throw upstreamFailed(options.provider, options.empty ?? "the answer was empty");
  yield { type: "usage", prompt_tokens: options.promptTokens, completion_tokens: 0 };
  if (finish) yield finish;
}
