/**
 * OpenAI chat requests as Cohere v1 bodies. Chat mode (`/v1/chat`): leading system text is the
 * `preamble`, earlier turns `chat_history` (`role` USER/CHATBOT/SYSTEM/TOOL with `message`,
 * `tool_calls`, `tool_results`), the last user text `message`; tool results that answer the last
 * assistant turn go in `tool_results` with an empty message, as Cohere's multi-step tool use
 * wants. Notebook mode (`/v1/generate`): the conversation flattened into one prompt.
 *
 * @module
 */
import type { Config } from "../../config/schema.ts";
import type { RequestFlags } from "../../flags/types.ts";
import { invalidRequest } from "../../openai/errors.ts";
import { contentText } from "../../openai/response.ts";
import type { ChatRequest, Message } from "../../openai/schema.ts";
import { type PromptStyle, renderTurns, toTurns, withCharSequences } from "../combine.ts";
import { COHERE_NAMES, ToolNames } from "../gemini/names.ts";
import { takesSafetyMode } from "./models.ts";
import { toCohereTool } from "./tools.ts";
import { maxTokens, sampling, type SamplingSpec, stopList, toolArguments } from "../params.ts";

type Json = Record<string, unknown>;

/** A v1 tool result. */
interface ToolResult {
  call: { name: string; parameters: Json };
  outputs: Json[];
}

/** The chat body and the tool names of one request. */
export interface BuiltChat {
  body: Json;
  names: ToolNames;
}

/** A tool's output as the list of objects v1 wants. */
export function toolOutputs(text: string): Json[] {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return [{ result: text }];
  }
  if (
    Array.isArray(v) && v.length > 0 &&
    v.every((o) => o && typeof o === "object" && !Array.isArray(o))
  ) {
    return v as Json[];
  }
  if (v && typeof v === "object" && !Array.isArray(v)) return [v as Json];
  return [{ result: v }];
}

/** What Cohere takes of the sampling parameters. */
const COHERE_SAMPLING: SamplingSpec = {
  temperature: { min: 0, max: 5 },
  // Cohere takes p in [0.01, 0.99]; top_p 1 ("no cut") is its 0.99.
  top_p: { min: 0.01, max: 0.99 },
  top_k: { min: 0, max: 500 },
};

/** Stop sequences Cohere takes at most. */
const COHERE_STOPS = 5;

function common(req: ChatRequest, body: Json): void {
  const s = sampling(req, COHERE_SAMPLING);
  if (s.temperature !== undefined) body.temperature = s.temperature;
  if (s.top_p !== undefined) body.p = s.top_p;
  if (s.top_k !== undefined) body.k = s.top_k;
  const max = maxTokens(req);
  if (max !== undefined) body.max_tokens = max;
  const stops = stopList(req, COHERE_STOPS);
  if (stops.length > 0) body.stop_sequences = stops;
  if (s.seed !== undefined) body.seed = s.seed;
  if (s.frequency_penalty !== undefined) body.frequency_penalty = s.frequency_penalty;
  if (s.presence_penalty !== undefined) body.presence_penalty = s.presence_penalty;
}

/** Builds the `/v1/chat` body of `req`. */
export function buildChat(req: ChatRequest, config: Config, model: string): BuiltChat {
  const names = new ToolNames(COHERE_NAMES);
  const messages = req.messages;
  const calls = new Map<string, { name: string; parameters: Json }>();
  for (const m of messages) {
    if (m.role !== "assistant") continue;
    for (const tc of m.tool_calls ?? []) {
      if (tc.id) {
        calls.set(tc.id, {
          name: names.upstream(tc.function.name),
          parameters: toolArguments(
            tc.function.arguments,
            "messages[].tool_calls[].function.arguments",
          ),
        });
      }
    }
  }
  const resultOf = (m: Extract<Message, { role: "tool" }>, i: number): ToolResult => {
    const call = calls.get(m.tool_call_id);
    if (!call) {
      throw invalidRequest(
        `messages[${i}].tool_call_id '${m.tool_call_id}' matches no tool call of an earlier assistant message`,
        `messages[${i}].tool_call_id`,
      );
    }
    return { call, outputs: toolOutputs(contentText(m.content)) };
  };

  // Leading system messages are the preamble.
  let start = 0;
  const preamble: string[] = [];
  while (
    start < messages.length &&
    (messages[start].role === "system" || messages[start].role === "developer")
  ) {
    const t = contentText(messages[start].content).trim();
    if (t) preamble.push(t);
    start++;
  }
  // The current turn: trailing tool results, or the last user message.
  let end = messages.length;
  let message = "continue";
  let toolResults: ToolResult[] | undefined;
  while (end > start && messages[end - 1].role === "tool") end--;
  if (end < messages.length) {
    toolResults = messages.slice(end).map((m, j) =>
      resultOf(m as Extract<Message, { role: "tool" }>, end + j)
    );
    message = "";
  } else if (end > start && messages[end - 1].role === "user") {
    message = contentText(messages[end - 1].content);
    end--;
  }

  const history: Json[] = [];
  for (let i = start; i < end; i++) {
    const m = messages[i];
    switch (m.role) {
      case "system":
      case "developer": {
        const t = contentText(m.content).trim();
        if (t) history.push({ role: "SYSTEM", message: t });
        break;
      }
      case "user": {
        const t = contentText(m.content);
        if (t.trim()) history.push({ role: "USER", message: t });
        break;
      }
      case "assistant": {
        const entry: Json = { role: "CHATBOT", message: contentText(m.content) };
        const tcs = (m.tool_calls ?? []).map((tc) => ({
          name: names.upstream(tc.function.name),
          parameters: toolArguments(
            tc.function.arguments,
            "messages[].tool_calls[].function.arguments",
          ),
        }));
        if (tcs.length > 0) entry.tool_calls = tcs;
        if (tcs.length > 0 || String(entry.message).trim()) history.push(entry);
        break;
      }
      case "tool": {
        const result = resultOf(m, i);
        const last = history[history.length - 1];
        if (last?.role === "TOOL") (last.tool_results as ToolResult[]).push(result);
        else history.push({ role: "TOOL", tool_results: [result] });
        break;
      }
      case "function":
        history.push({ role: "USER", message: `[result of tool ${m.name}]\n${m.content ?? ""}` });
        break;
    }
  }
  if (message === "continue" && !toolResults && history.length === 0 && preamble.length > 0) {
    // Only system text: ask it as the message.
    message = preamble.join("\n\n");
    preamble.length = 0;
  }

  const body: Json = { model, message, stream: true, prompt_truncation: "OFF" };
  if (history.length > 0) body.chat_history = history;
  if (preamble.length > 0) body.preamble = preamble.join("\n\n");
  common(req, body);
  const tools = req.tools ?? [];
  if (tools.length > 0 && req.tool_choice !== "none") {
    body.tools = tools.map((t) => toCohereTool(t, names));
  }
  if (toolResults) body.tool_results = toolResults;
  const rf = req.response_format;
  if (rf?.type === "json_object") body.response_format = { type: "json_object" };
  if (rf?.type === "json_schema") {
    const schema = (rf as { json_schema: { schema?: Json } }).json_schema.schema;
    body.response_format = schema ? { type: "json_object", schema } : { type: "json_object" };
  }
  const safety = config.cohere.safety;
  if (safety && takesSafetyMode(model)) body.safety_mode = safety;
  return { body, names };
}

/** The prompt style of notebook mode: one `<|role|>: text` line per turn. */
export const NOTEBOOK_STYLE: PromptStyle = {
  prefix: { system: "<|system|>: ", user: "<|user|>: ", assistant: "<|assistant|>: " },
  suffix: "",
  separator: "\n",
  tail: "\n<|assistant|>: ",
};

/** The flattened prompt of notebook mode. */
export function notebookPrompt(req: ChatRequest, flags: RequestFlags): string {
  const style = withCharSequences(NOTEBOOK_STYLE, flags.charSequences);
  return renderTurns(toTurns(req.messages), style);
}

/** Builds the `/v1/generate` body (notebook mode). */
export function buildGenerate(req: ChatRequest, flags: RequestFlags, model: string): Json {
  const style = withCharSequences(NOTEBOOK_STYLE, flags.charSequences);
  const body: Json = {
    model,
    prompt: notebookPrompt(req, flags),
    stream: true,
    raw_prompting: false,
    // The model must not write the next turn; end sequences are cut from the text.
    end_sequences: [
      style.prefix.user.trim(),
      style.prefix.system.trim(),
      style.prefix.assistant.trim(),
    ]
      .filter((s) => s !== ""),
  };
  common(req, body);
  return body;
}
