/**
 * Reads the event stream of Coze's `POST /v3/chat` (`event:` and `data:` lines; coze-py
 * `ChatEventType`):
 *
 * - `conversation.message.delta`: a piece of a message; the assistant's `answer` gives text,
 *   its `reasoning_content` reasoning;
 * - `conversation.message.completed`: a whole message; an answer that came without deltas is
 *   passed on then (function calls, tool output, follow-ups and verbose messages are the bot's
 *   own business);
 * - `conversation.chat.completed`: the chat's `usage` (`input_count`, `output_count`);
 * - `conversation.chat.failed` (`last_error`) and `error` (`{code, msg}`): the refusal;
 * - `conversation.chat.requires_action`: the bot wants the caller to run a tool of its own (a
 *   local plugin), which this gateway cannot do: an error naming it;
 * - `done`: the end. A stream that ends without it is an error, never a finished answer.
 *
 * @module
 */
import type { SseEvent } from "../../net/sse.ts";
import { GatewayError, upstreamFailed } from "../../openai/errors.ts";
import type { ChatEvent } from "../types.ts";
import { cozeApiError, errorOfCozeBody } from "./errors.ts";

/** A message object of Coze's stream. */
interface CozeStreamMessage {
  id?: string;
  role?: string;
  type?: string;
  content?: unknown;
  content_type?: string;
  reasoning_content?: unknown;
}

/** A chat object of Coze's stream. */
interface CozeStreamChat {
  usage?: { input_count?: unknown; output_count?: unknown; token_count?: unknown };
  last_error?: { code?: unknown; msg?: unknown };
  required_action?: {
    submit_tool_outputs?: { tool_calls?: { function?: { name?: unknown } }[] };
  };
}

/** Options of `fromCozeStream`. */
export interface CozeStreamOptions {
  /** Coze's id of the request (`x-tt-logid`), for error messages. */
  logid?: string | null;
}

/** Turns Coze's chat events into `ChatEvent`s, ending with `finish` at `done`. */
export async function* fromCozeStream(
  events: AsyncIterable<SseEvent>,
  options: CozeStreamOptions = {},
): AsyncGenerator<ChatEvent> {
  const streamed = new Set<string>();
  for await (const ev of events) {
    switch (ev.event) {
      case "conversation.message.delta": {
        const m = parse<CozeStreamMessage>(ev);
        if (!isAnswer(m)) break;
        if (m.id) streamed.add(m.id);
        if (typeof m.reasoning_content === "string" && m.reasoning_content !== "") {
          yield { type: "reasoning", text: m.reasoning_content };
        }
        const text = textOf(m);
        if (text !== "") yield { type: "text", text };
        break;
      }
      case "conversation.message.completed": {
        const m = parse<CozeStreamMessage>(ev);
        if (!isAnswer(m) || (m.id && streamed.has(m.id))) break;
        if (typeof m.reasoning_content === "string" && m.reasoning_content !== "") {
          yield { type: "reasoning", text: m.reasoning_content };
        }
        const text = textOf(m);
        if (text !== "") yield { type: "text", text };
        break;
      }
      case "conversation.chat.completed": {
        const usage = parse<CozeStreamChat>(ev).usage;
        const input = countOf(usage?.input_count);
        const output = countOf(usage?.output_count);
        if (input > 0 || output > 0) {
          yield { type: "usage", prompt_tokens: input, completion_tokens: output };
        }
        break;
      }
      case "conversation.chat.failed": {
        const e = parse<CozeStreamChat>(ev).last_error;
        throw cozeApiError(e?.code, e?.msg ?? "the chat failed", options.logid);
      }
      case "conversation.chat.requires_action": {
        const calls = parse<CozeStreamChat>(ev).required_action?.submit_tool_outputs?.tool_calls;
        const names = (calls ?? []).map((c) => String(c?.function?.name ?? "?")).join(", ");
        throw new GatewayError(
          502,
          `coze: the bot asked the caller to run its tool(s) ${names || "(unnamed)"} ` +
            "(requires_action, a local plugin); this gateway cannot: use a bot without local " +
            "plugins, or give the client's tools in the request instead",
          "upstream_error",
          "requires_action",
        );
      }
      case "error": {
        const body = parseLoose(ev.data);
        throw errorOfCozeBody(body, options.logid) ??
          upstreamFailed("coze", `error event: ${ev.data.slice(0, 300)}`);
      }
      case "done":
        yield { type: "finish", reason: "stop" };
        return;
      default:
        // chat.created / in_progress, audio deltas, events added later.
        break;
    }
  }
  throw upstreamFailed("coze", "the chat stream ended without its done event");
}

/** A token count (a number or its digits); anything else counts as unknown (0). */
function countOf(v: unknown): number {
  const n = Number(v ?? 0);
  return Number.isFinite(n) && n >= 0 ? n : 0;
}

/** True for a message of the bot's answer (deltas may leave `type` out). */
function isAnswer(m: CozeStreamMessage): boolean {
  return m.role === "assistant" && (m.type === "answer" || m.type === undefined || m.type === "");
}

/**
 * A message's text: `text` content as it is; `object_string` content (a JSON list of parts) as
 * its text parts with images as Markdown images; cards and audio give nothing.
 */
function textOf(m: CozeStreamMessage): string {
  if (typeof m.content !== "string" || m.content === "") return "";
  if (m.content_type === undefined || m.content_type === "text") return m.content;
  if (m.content_type !== "object_string") return "";
  const parts = parseLoose(m.content);
  if (!Array.isArray(parts)) return "";
  return parts.map((p: { type?: unknown; text?: unknown; file_url?: unknown }) => {
    if (p?.type === "text" && typeof p.text === "string") return p.text;
    if (p?.type === "image" && typeof p.file_url === "string") return `![image](${p.file_url})`;
    return "";
  }).filter((s) => s !== "").join("\n");
}

function parse<T>(ev: SseEvent): T {
  const v = parseLoose(ev.data);
  if (!v || typeof v !== "object") {
    throw upstreamFailed("coze", `unreadable ${ev.event} event: ${ev.data.slice(0, 200)}`);
  }
  return v as T;
}

function parseLoose(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
