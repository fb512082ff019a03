/**
 * A Messages API request → the internal request (an OpenAI chat request with the fields the other
 * APIs need: `reasoning`, `reasoning_signature`). What a client sends that no upstream here can
 * honour is ignored, never refused (`cache_control`, `context_management`, `metadata`, betas):
 *
 * - `system` (string or text blocks) becomes the first system message; the
 *   `x-anthropic-billing-header:` block Claude Code puts first is metadata for Anthropic's own
 *   API, not prompt, and is left out.
 * - `tools`: client tools become function tools (`input_schema` → `parameters`). Tools marked
 *   `defer_loading` are offered only once tool search referenced them (a `tool_reference` block)
 *   or the conversation called them, as on Anthropic's API. Anthropic's typed tools
 *   (`web_search_*`, `code_execution_*`, ...) run on Anthropic's servers or need Anthropic's own
 *   schema: they are left out and named in `notes`; only a `tool_choice` forcing one is a 400.
 * - `tool_choice`: `auto`, `any` (→ `required`), `tool` (→ a named function), `none`;
 *   `disable_parallel_tool_use` → `parallel_tool_calls: false`.
 * - `thinking` (`enabled` with `budget_tokens`, `adaptive`, `between_tools`, `disabled`) and
 *   `output_config.effort` → `reasoning`; `output_config.format` (JSON schema) →
 *   `response_format`.
 * - `stop_sequences` → `stop`; `max_tokens`, `temperature`, `top_p`, `top_k` as they are.
 * - `thread` (Anthropic's server-side message threads): no thread is kept here. `create` is
 *   answered as any request; `continue` (which sends only the new messages) is Anthropic's 404
 *   `thread_not_found`, on which the SDK sends the whole conversation again.
 *
 * @module
 */
import type { ReasoningRequest } from "../core/events.ts";
import { invalidRequest } from "../openai/errors.ts";
import type { ChatRequest, Message, Tool, ToolChoice } from "../openai/schema.ts";
import { type ContentNotes, plainText, toMessages } from "./content.ts";
import { threadNotFound } from "./errors.ts";
import type { AnthropicTool, CountTokensRequest, MessagesRequest } from "./schema.ts";

/** A Messages request or a `count_tokens` one (which has no `max_tokens`). */
export type MessagesInput = CountTokensRequest & Partial<MessagesRequest>;

/** The internal request and what the translation left out (for a log line). */
export interface Translated {
  req: ChatRequest;
  /** One short sentence per thing left out; empty when nothing was. */
  notes: string[];
}

/** Text blocks of `system` that are Anthropic's metadata rather than prompt. */
const BILLING_HEADER = "x-anthropic-billing-header:";

/** Tool names as the internal request takes them. */
const TOOL_NAME = /^[A-Za-z0-9_.:-]{1,128}$/;

function systemMessage(system: MessagesInput["system"]): Message | undefined {
  if (system === undefined) return undefined;
  const text = typeof system === "string" ? system : plainText(
    system.filter((b) => !b.text.startsWith(BILLING_HEADER)),
    ["system"],
  );
  return text === "" ? undefined : { role: "system", content: text };
}

function isClientTool(t: AnthropicTool): boolean {
  return t.type == null || t.type === "custom";
}

function functionTool(t: AnthropicTool, i: number): Tool {
  if (!TOOL_NAME.test(t.name)) {
    throw invalidRequest(
      `Invalid value for 'tools[${i}].name': must be 1-128 letters, digits, _ . : or -`,
      `tools[${i}].name`,
    );
  }
  if (t.input_schema === undefined) {
    throw invalidRequest(
      `Missing required parameter: 'tools[${i}].input_schema'`,
      `tools[${i}].input_schema`,
    );
  }
  const fn: Tool["function"] = { name: t.name, parameters: t.input_schema };
  if (t.description) fn.description = t.description;
  return { type: "function", function: fn };
}

/** The function tools to offer, and the names of the typed tools left out. */
function toolsOf(
  body: MessagesInput,
  content: ContentNotes,
): { tools: Tool[]; left: string[] } {
  const forced = body.tool_choice?.type === "tool" ? body.tool_choice.name : undefined;
  const tools: Tool[] = [];
  const left: string[] = [];
  (body.tools ?? []).forEach((t, i) => {
    if (!isClientTool(t)) {
      left.push(`${t.name} (${t.type})`);
      if (forced === t.name) {
        throw invalidRequest(
          `Invalid value for 'tool_choice': the tool '${t.name}' (${t.type}) runs on Anthropic's servers, which no upstream of this gateway has`,
          "tool_choice",
        );
      }
      return;
    }
    const offered = !t.defer_loading || content.referenced.has(t.name) ||
      content.called.has(t.name) || forced === t.name;
    if (offered) tools.push(functionTool(t, i));
  });
  return { tools, left };
}

function toolChoiceOf(
  body: MessagesInput,
  tools: readonly Tool[],
): { choice?: ToolChoice; parallel?: boolean } {
  const c = body.tool_choice;
  if (!c) return {};
  const parallel = "disable_parallel_tool_use" in c && c.disable_parallel_tool_use === true
    ? false
    : undefined;
  if (c.type === "tool" && !tools.some((t) => t.function.name === c.name)) {
    throw invalidRequest(
      `Invalid value for 'tool_choice.name': no tool named '${c.name}' is in 'tools'`,
      "tool_choice.name",
    );
  }
  // Chat Completions refuses a tool_choice without tools.
  if (tools.length === 0) return {};
  switch (c.type) {
    case "auto":
      return { choice: "auto", parallel };
    case "any":
      return { choice: "required", parallel };
    case "none":
      return { choice: "none" };
    case "tool":
      return { choice: { type: "function", function: { name: c.name } }, parallel };
  }
}

/** Anthropic's effort levels as the internal request names them. */
const EFFORTS: Readonly<Record<string, ReasoningRequest["effort"]>> = {
  low: "low",
  medium: "medium",
  high: "high",
  xhigh: "xhigh",
  max: "xhigh",
};

/** The reasoning settings of `thinking` and `output_config.effort`. */
function reasoningOf(body: MessagesInput): ReasoningRequest | undefined {
  const out: ReasoningRequest = {};
  const t = body.thinking;
  if (t?.type === "enabled") {
    out.enabled = true;
    out.budget_tokens = t.budget_tokens;
  } else if (t?.type === "adaptive" || t?.type === "between_tools") out.enabled = true;
  else if (t?.type === "disabled") out.enabled = false;
  const effort = EFFORTS[body.output_config?.effort ?? ""];
  if (effort) out.effort = effort;
  return Object.keys(out).length > 0 ? out : undefined;
}

function responseFormatOf(body: MessagesInput): ChatRequest["response_format"] {
  const f = body.output_config?.format;
  if (f?.type !== "json_schema" || !f.schema) return undefined;
  return { type: "json_schema", json_schema: { name: "output", schema: f.schema, strict: true } };
}

/** Translates a validated Messages (or `count_tokens`) request into the internal request. */
export function toChatRequest(body: MessagesInput): Translated {
  if (body.thread?.type === "continue") throw threadNotFound(body.thread.previous_message_id);
  const content: ContentNotes = { skipped: new Set(), referenced: new Set(), called: new Set() };
  const messages = toMessages(body.messages, content);
  const system = systemMessage(body.system);
  if (system) messages.unshift(system);
  if (messages.length === 0) {
    throw invalidRequest("Invalid value for 'messages': no message has any content", "messages");
  }
  const { tools, left } = toolsOf(body, content);
  const { choice, parallel } = toolChoiceOf(body, tools);

  const req: ChatRequest = { model: body.model, messages };
  if (body.stream) req.stream = true;
  if (tools.length > 0) req.tools = tools;
  if (choice !== undefined) req.tool_choice = choice;
  if (parallel !== undefined) req.parallel_tool_calls = parallel;
  if (body.max_tokens !== undefined) req.max_tokens = body.max_tokens;
  if (body.temperature !== undefined) req.temperature = body.temperature;
  if (body.top_p !== undefined) req.top_p = body.top_p;
  if (body.top_k !== undefined) req.top_k = body.top_k;
  const stops = (body.stop_sequences ?? []).filter((s) => s !== "");
  if (stops.length > 0) req.stop = stops;
  const reasoning = reasoningOf(body);
  if (reasoning) req.reasoning = { ...reasoning };
  const format = responseFormatOf(body);
  if (format) req.response_format = format;

  const notes: string[] = [];
  if (left.length > 0) {
    notes.push(`tools left out (no upstream here runs them): ${left.join(", ")}`);
  }
  if (content.skipped.size > 0) {
    notes.push(`content blocks left out: ${[...content.skipped].join(", ")}`);
  }
  return { req, notes };
}
