/**
 * What the in-message markers of one request ask for. The parser (`mod.ts`) fills it; providers
 * and the server read it.
 *
 * @module
 */
import type { RegexSession } from "./regex_pool.ts";

/** A stream filter from `<matcher>` (or config): rewrites or holds back output. */
export interface MatcherSpec {
  /** Text that triggers the matcher. */
  find: string;
  /** Characters to hold after the match start before applying `pattern`. */
  len?: number;
  /** Hold output until this text appears, then apply `pattern` to the held block. */
  end?: string;
  /** Regular expression applied to the held text. */
  pattern?: string;
  /** Replacement for `pattern` (`$1` back-references). */
  replacement?: string;
}

/** Tool-call emulation settings of one request (`<tool ... />` or `toolcall.*`). */
export interface ToolFlags {
  enabled: boolean;
  /** A tool name that becomes the default choice. */
  id?: string;
  /** Multi-task decomposition mode. */
  tasks: boolean;
}

/** The markers found in one request. */
export interface RequestFlags {
  /** `<debug />`: log the processed request. */
  debug: boolean;
  /** `<echo />`: answer with the processed upstream prompt instead of calling the upstream. */
  echo: boolean;
  /** `<notebook />`: providers' long-document mode (cohere's one-message prompt). */
  notebook: boolean;
  /** `<pad />`: padding (claude). */
  pad: boolean;
  /** `<char_sequences user assistant />`: role prefixes of flattened prompts, also cut-offs. */
  charSequences?: { user: string; assistant: string };
  /** `<tool ... />`, or the config defaults when absent. */
  tool: ToolFlags;
  /** `<matcher>` stream filters. */
  matchers: MatcherSpec[];
  /** The request's regex budget, which `<matcher>` patterns draw from. */
  regex?: RegexSession;
}

/** Flags of a request that carries no markers. */
export function emptyFlags(tool: ToolFlags = { enabled: true, tasks: false }): RequestFlags {
  return { debug: false, echo: false, notebook: false, pad: false, tool, matchers: [] };
}
