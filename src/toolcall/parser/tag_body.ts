/**
 * Reads the calls out of one complete tag block, once its end is known: JSON values (one, several
 * in a row, a list), optionally after a bare tool name (`<tool_call>get_time\n{...}`), in or out
 * of a code fence; or the `<parameter=p>v</parameter>` elements of a `<function=x>` block. A pure
 * function of the block's text, so the streaming readers only have to find where a block ends.
 *
 * @module
 */
import { callsFromValue, type RawCall } from "../calls.ts";
import { isIdentPart, LooseJsonError, readLooseJson } from "../json.ts";
import { BACKTICK, COMMA, isWs, opensValue } from "./chars.ts";
import type { ParseEvent } from "./types.ts";

/** What a bare word must look like to be taken for a tool name. */
const NAME_LIKE = /^[A-Za-z_][\w.\-:]*$/;

/**
 * Reads the calls inside one tag block (`raw` includes the tags): JSON values, optionally after a
 * tool name, in or out of a fence; or `<parameter=p>v</parameter>` elements of a `<function=x>`.
 */
export function readTagBody(
  raw: string,
  nameAttr: string | undefined,
  functionTag: boolean,
): { calls: RawCall[] } | { error: string; truncated?: boolean } {
  const open = raw.indexOf(">") + 1;
  let body = raw.slice(open);
  body = body.replace(/<\/(tool_calls?|function_call|function)>\s*$/, "");
  if (functionTag && body.includes("<parameter=")) {
    if (!nameAttr) return { error: "the <function=...> tag has no tool name" };
    const args: Record<string, string> = {};
    const re = /<parameter=([^>\s]+)>([\s\S]*?)(?:<\/parameter>|(?=<parameter=)|$)/g;
    for (const m of body.matchAll(re)) args[m[1].replace(/^["']|["']$/g, "")] = m[2].trim();
    return { calls: [{ name: nameAttr, args }] };
  }
  const values: unknown[] = [];
  const words: string[] = [];
  let i = 0;
  while (i < body.length) {
    const c = body.charCodeAt(i);
    if (isWs(c) || c === COMMA) {
      i++;
    } else if (opensValue(c)) {
      try {
        const r = readLooseJson(body, i);
        values.push(r.value);
        i = r.end;
      } catch (err) {
        if (!(err instanceof LooseJsonError)) throw err;
        return {
          error: err.truncated
            ? "the tool call's JSON is not complete"
            : `the tool call's JSON cannot be read (${err.message})`,
          truncated: err.truncated,
        };
      }
    } else if (c === BACKTICK) {
      // A fence: skip it and its info word.
      while (i < body.length && body.charCodeAt(i) === BACKTICK) i++;
      while (i < body.length && isIdentPart(body.charCodeAt(i))) i++;
    } else {
      let j = i;
      while (j < body.length) {
        const d = body.charCodeAt(j);
        if (isWs(d) || opensValue(d)) break;
        j++;
      }
      if (values.length === 0) words.push(body.slice(i, j));
      i = j;
    }
  }
  const hint = nameAttr ?? (words.length === 1 && NAME_LIKE.test(words[0]) ? words[0] : undefined);
  if (values.length === 0) {
    if (hint) return { calls: [{ name: hint, args: {} }] };
    return { error: "the tool call block holds no JSON object" };
  }
  const calls: RawCall[] = [];
  for (const v of values) {
    const cs = callsFromValue(v, values.length === 1 ? hint : undefined);
    if (!cs) {
      return { error: 'the tool call must be a JSON object with "name" and "arguments"' };
    }
    calls.push(...cs);
  }
  return { calls };
}

/**
 * The event for a complete tag block: its calls, or why it is broken. A block the answer cut off
 * (`cutOff`) is "truncated" when it cannot be read, like one whose JSON is incomplete.
 */
export function tagBlockEvent(
  raw: string,
  nameAttr: string | undefined,
  functionTag: boolean,
  cutOff: boolean,
): ParseEvent {
  const r = readTagBody(raw, nameAttr, functionTag);
  if ("calls" in r) return { type: "calls", raw, calls: r.calls };
  const reason = r.truncated || cutOff ? "truncated" : "invalid";
  return { type: "broken", raw, reason, detail: r.error };
}
