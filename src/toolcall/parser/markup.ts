/**
 * The markup the parser recognises (tag openers and closers, the code fence) and the two ways of
 * matching it at a position of a chunk: whole, or cut off by the chunk's end (`PARTIAL`: the
 * reader holds the rest of the chunk back until the next one decides).
 *
 * @module
 */

/** Tags that open a call block. `<tool_call ` has attributes; `<function=` has the tool name. */
export const TAG_OPENERS: readonly string[] = [
  "<tool_call>",
  "<tool_calls>",
  "<tool_call ",
  "<function=",
];
/** Tags of a tool's result: after a call, the model is writing the tool's part. */
export const RESULT_TAGS: readonly string[] = ["<tool_result", "<tool_response"];
/** Everything plain text looks for (`<tasks>` is added in tasks mode). */
export const OPENERS: readonly string[] = [
  ...TAG_OPENERS,
  "<think>",
  "<thinking>",
  ...RESULT_TAGS,
];
/** Closing tags of a `<tool_call>` block. */
export const TOOL_CALL_CLOSERS: readonly string[] = [
  "</tool_call>",
  "</tool_calls>",
  "</function_call>",
];
/** Tags that may follow a fence's opening line as a call block. */
export const FENCED_TAGS: readonly string[] = ["<tool_call>", "<tool_calls>"];
/** A code fence. */
export const FENCE = "```";

/** The text ends inside the markup: hold it back until the next chunk. */
export const PARTIAL = 1;

/** Whether a code fence starts at `i`: true, false, or `PARTIAL` when `s` ends inside one. */
export function fenceAt(s: string, i: number): boolean | typeof PARTIAL {
  if (s.length - i < FENCE.length) return FENCE.startsWith(s.slice(i)) ? PARTIAL : false;
  return s.startsWith(FENCE, i);
}

/** The entry of `list` at `i`, `PARTIAL` when the text ends inside one, or undefined. */
export function matchAt(
  s: string,
  i: number,
  list: readonly string[],
): string | typeof PARTIAL | undefined {
  let partial = false;
  const rest = s.length - i;
  for (const o of list) {
    if (rest >= o.length) {
      if (s.startsWith(o, i)) return o;
    } else if (!partial && o.startsWith(s.slice(i))) {
      partial = true;
    }
  }
  return partial ? PARTIAL : undefined;
}
