/**
 * The in-message markers: parsed out of `system` and `user` text when `server.flags` is on.
 *
 * @module
 */
import type { Config } from "../config/schema.ts";
import type { ChatRequest } from "../openai/schema.ts";
import { emptyFlags, type RequestFlags } from "./types.ts";

export type { MatcherSpec, RequestFlags, ToolFlags } from "./types.ts";

/** Parses the markers of `req` and returns the request without them, plus the flags. */
export function parseFlags(
  req: ChatRequest,
  config: Config,
): { req: ChatRequest; flags: RequestFlags } {
  const flags = emptyFlags({
    enabled: config.toolcall.enabled,
    tasks: config.toolcall.tasks,
    id: config.toolcall.id,
  });
  return { req, flags };
}
