/**
 * Prompt-emulated tool calling for upstreams without native tools.
 *
 * @module
 */
import type { ChatRequest } from "../openai/schema.ts";
import type { ChatContext, ChatEvent } from "../providers/types.ts";

/** True when the emulator should run for this request. */
export function needsEmulation(req: ChatRequest, ctx: ChatContext): boolean {
  return ctx.flags.tool.enabled && (req.tools?.length ?? 0) > 0;
}

/** Runs `call` with tools emulated through the prompt. */
export function emulateToolCalls(
  req: ChatRequest,
  _ctx: ChatContext,
  call: (req: ChatRequest) => AsyncIterable<ChatEvent>,
): AsyncIterable<ChatEvent> {
  // Replaced by the emulator (issue 3); until then tools are dropped.
  const { tools: _t, tool_choice: _c, ...rest } = req;
  return call(rest as ChatRequest);
}
