/**
 * arena.ai's answer stream (reference section 4): line records `<prefix>:<json>` of the AI SDK
 * data stream, `a` for model A (the only one in a direct battle; `b` records are not ours):
 *
 * | record | payload                                  | becomes                                |
 * | ------ | ---------------------------------------- | -------------------------------------- |
 * | `a0`   | a JSON string: text                      | text (`"hasArenaError"`: the model failed, 502) |
 * | `ag`   | a JSON string: reasoning                 | reasoning                              |
 * | `a2`   | `[{"type":"heartbeat"}]`, or image items | nothing, or a Markdown image           |
 * | `a3`   | an error                                 | 502 with its message                   |
 * | `ad`   | `{finishReason, usage}`                  | usage and the finish; the end          |
 *
 * A stream that ends without `ad` is an error, never a finished answer.
 *
 * @module
 */
import { upstreamFailed } from "../../openai/errors.ts";
import type { ChatEvent, FinishReason } from "../types.ts";

/** AI SDK finish reasons as OpenAI's. */
function finishOf(reason: unknown): FinishReason {
  if (reason === "length") return "length";
  if (reason === "content-filter") return "content_filter";
  return "stop";
}

function parse(prefix: string, payload: string): unknown {
  try {
    return JSON.parse(payload);
  } catch {
    throw upstreamFailed("arena", `a '${prefix}' record that is not JSON: ${payload.slice(0, 80)}`);
  }
}

/** The message of an `a3` error payload. */
function errorText(v: unknown): string {
  if (typeof v === "string") return v;
  if (v && typeof v === "object") {
    const o = v as Record<string, unknown>;
    for (const k of ["message", "error", "detail"]) if (typeof o[k] === "string") return o[k];
  }
  return JSON.stringify(v).slice(0, 300);
}

/** A positive integer, or 0. */
function count(v: unknown): number {
  return typeof v === "number" && Number.isFinite(v) && v > 0 ? Math.round(v) : 0;
}

/** Turns the stream's lines into events, up to the `ad` record. */
export async function* fromArenaStream(lines: AsyncIterable<string>): AsyncGenerator<ChatEvent> {
  for await (const raw of lines) {
    const line = raw.trimEnd();
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const prefix = line.slice(0, colon);
    const payload = line.slice(colon + 1);
    switch (prefix) {
      case "a0": {
        const text = parse(prefix, payload);
        if (text === "hasArenaError") {
          throw upstreamFailed("arena", "the model failed to answer (hasArenaError)");
        }
        if (typeof text === "string" && text !== "") yield { type: "text", text };
        break;
      }
      case "ag": {
        const text = parse(prefix, payload);
        if (typeof text === "string" && text !== "") yield { type: "reasoning", text };
        break;
      }
      case "a2": {
        const items = parse(prefix, payload);
        for (const item of Array.isArray(items) ? items : []) {
          const url = (item as { image?: unknown } | null)?.image;
          if (typeof url === "string" && url !== "") {
            yield { type: "text", text: `![image](${url})` };
          }
        }
        break;
      }
      case "a3":
        throw upstreamFailed("arena", `the model failed: ${errorText(parse(prefix, payload))}`);
      case "ad": {
        const end = parse(prefix, payload) as Record<string, unknown> | null;
        if (end?.finishReason === "error") {
          throw upstreamFailed("arena", "the answer ended with finishReason 'error'");
        }
        const usage = (end?.usage ?? {}) as Record<string, unknown>;
        const prompt = count(usage.promptTokens ?? usage.inputTokens);
        const completion = count(usage.completionTokens ?? usage.outputTokens);
        if (prompt > 0 || completion > 0) {
          yield { type: "usage", prompt_tokens: prompt, completion_tokens: completion };
        }
        yield { type: "finish", reason: finishOf(end?.finishReason) };
        return;
      }
      default:
        // Model B's records and the stream's own bookkeeping are not part of this answer.
        break;
    }
  }
  throw upstreamFailed("arena", "the answer stream ended before its finish record ('ad')");
}
