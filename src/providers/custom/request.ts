/**
 * The request an OpenAI-compatible upstream receives: the client's request with its unknown
 * fields (upstreams take extensions the gateway does not know), less the gateway's internal
 * fields, with the reasoning settings of any client API as OpenAI's `reasoning_effort`.
 *
 * @module
 */
import type { ChatRequest } from "../../openai/schema.ts";
import { reasoningOf } from "../params.ts";

/** Token budgets at which a budget reads as an effort level (Anthropic-style clients). */
const EFFORT_BUDGETS: readonly [number, "low" | "medium" | "high"][] = [
  [2048, "low"],
  [12288, "medium"],
  [Infinity, "high"],
];

/** Options of `toCustomRequest`. */
export interface CustomRequestOptions {
  upstreamModel: string;
  stream: boolean;
  /** Ask for usage in the stream (`stream_options.include_usage`). */
  streamUsage: boolean;
}

/** The body for `<base-url>/chat/completions`. */
export function toCustomRequest(
  req: ChatRequest,
  o: CustomRequestOptions,
): Record<string, unknown> {
  const { reasoning: _r, reasoning_effort: _e, stream_options: _s, ...rest } = req;
  const body: Record<string, unknown> = { ...rest, model: o.upstreamModel, stream: o.stream };
  const r = reasoningOf(req);
  if (r && r.enabled !== false) {
    const effort = r.effort ??
      (r.budget_tokens !== undefined
        ? EFFORT_BUDGETS.find(([max]) => r.budget_tokens! <= max)![1]
        : undefined);
    if (effort && effort !== "none") body.reasoning_effort = effort;
  }
  if (req.messages.some((m) => "reasoning_signature" in m)) {
    body.messages = req.messages.map((m) => {
      if (!("reasoning_signature" in m)) return m;
      const { reasoning_signature: _sig, ...plain } = m;
      return plain;
    });
  }
  if (o.stream && o.streamUsage) body.stream_options = { include_usage: true };
  return body;
}
