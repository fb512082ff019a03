/**
 * A Responses request as the internal request (an OpenAI chat request): the conversation's items
 * become chat messages, the rest becomes the chat fields every provider reads.
 *
 * - `instructions` is the first system message; `developer` and `system` messages stay in place,
 *   as `system` (the role every upstream takes).
 * - Consecutive `reasoning`, assistant `message` and `function_call` items are one assistant
 *   message: reasoning summary as `reasoning_content` with `encrypted_content` as its
 *   `reasoning_signature`, text as content, calls as `tool_calls` (ids are the `call_id`s).
 * - `function_call_output` items are `tool` messages; custom tool calls are calls of a function
 *   with one `input` argument (see `tools.ts`).
 * - `input_file` parts whose data is text become text; other files go on as chat `file` parts.
 *
 * @module
 */
import { invalidRequest } from "../openai/errors.ts";
import type { ChatRequest, Message, MessageToolCall, UserPart } from "../openai/schema.ts";
import { responseItemId } from "../util/id.ts";
import type { ContentPart, InputItem, ResponsesRequest } from "./schema.ts";
import { type ToolMap, translateTools } from "./tools.ts";

/** The internal request and what the writer needs to answer in the client's terms. */
export interface TranslatedRequest {
  chat: ChatRequest;
  tools: ToolMap;
  /** Hosted tools left out (for the log). */
  dropped: string[];
}

/** What a conversation continued with `previous_response_id` brings. */
export interface EarlierTurns {
  /** Items of the earlier turns: their input and output, oldest first. */
  items: readonly InputItem[];
  /** Provider fields of earlier tool calls (Gemini's thought signatures), by call id. */
  extras?: Readonly<Record<string, Record<string, unknown>>>;
}

type Assistant = Extract<Message, { role: "assistant" }>;

const TEXT_TYPES = /^(text\/|application\/(json|xml|yaml|x-yaml|javascript|typescript|x-sh|csv))/i;

/** The items of `input` (the schema made a string one user message). */
export function inputItems(input: ResponsesRequest["input"]): InputItem[] {
  return input ?? [];
}

const ID_PREFIX: Readonly<Record<string, string>> = {
  message: "msg",
  function_call: "fc",
  function_call_output: "fco",
  custom_tool_call: "ctc",
  custom_tool_call_output: "ctco",
  reasoning: "rs",
};

/**
 * Items as they are stored and listed (`input_items`): each with an id, message content as
 * parts (`input_text`, or `output_text` for the assistant's).
 */
export function normalizeItems(items: readonly InputItem[]): InputItem[] {
  return items.map((item) => {
    const out = { ...item } as InputItem & { id?: string | null };
    if (!out.id) out.id = responseItemId(ID_PREFIX[item.type] ?? "item");
    if (out.type === "message") {
      if (typeof out.content === "string") {
        out.content = out.role === "assistant"
          ? [{ type: "output_text", text: out.content, annotations: [] }]
          : [{ type: "input_text", text: out.content }];
      }
      out.status ??= "completed";
    }
    return out;
  });
}

/** The text of a data URL whose type is text, else undefined. */
function dataText(data: string): string | undefined {
  const m = /^data:([^;,]*)(;[^,]*)?,/.exec(data);
  if (!m || !TEXT_TYPES.test(m[1])) return undefined;
  const body = data.slice(m[0].length);
  try {
    if (!/;base64/i.test(m[2] ?? "")) return decodeURIComponent(body);
    const bin = atob(body);
    const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
    return new TextDecoder().decode(bytes);
  } catch {
    return undefined;
  }
}

function fileRefused(field: string, what: string): never {
  throw invalidRequest(
    `${field}: ${what} need OpenAI's Files API or a fetch this server does not make; send the data inline (file_data or a data: URL)`,
    field,
  );
}

/** A content part as a chat user part. */
function userPart(p: ContentPart, field: string): UserPart {
  switch (p.type) {
    case "input_text":
    case "output_text":
      return { type: "text", text: p.text };
    case "refusal":
      return { type: "text", text: p.refusal };
    case "input_image":
      if (!p.image_url) fileRefused(`${field}.file_id`, "image file ids");
      return {
        type: "image_url",
        image_url: { url: p.image_url, ...(p.detail ? { detail: p.detail } : {}) },
      };
    case "input_file": {
      if (p.file_data) {
        const text = dataText(p.file_data);
        if (text !== undefined) {
          return { type: "text", text: `${p.filename ? `${p.filename}:\n` : ""}${text}` };
        }
        return {
          type: "file",
          file: { file_data: p.file_data, ...(p.filename ? { filename: p.filename } : {}) },
        };
      }
      if (p.file_url) fileRefused(`${field}.file_url`, "file URLs");
      fileRefused(`${field}.file_id`, "file ids");
    }
  }
}

/** The text of message content (parts joined; images and binary files named). */
function contentText(content: string | readonly ContentPart[]): string {
  if (typeof content === "string") return content;
  const out: string[] = [];
  for (const p of content) {
    if (p.type === "input_text" || p.type === "output_text") out.push(p.text);
    else if (p.type === "refusal") out.push(p.refusal);
    else if (p.type === "input_image") out.push("[image]");
    else {
      const text = p.file_data ? dataText(p.file_data) : undefined;
      out.push(text ?? `[file${p.filename ? ` ${p.filename}` : ""}]`);
    }
  }
  return out.join("\n");
}

/** Builds chat messages from items, merging each assistant turn into one message. */
class MessageBuilder {
  readonly messages: Message[] = [];
  #assistant?: Assistant;

  constructor(
    readonly tools: ToolMap,
    readonly extras: Readonly<Record<string, Record<string, unknown>>>,
  ) {}

  #open(): Assistant {
    return this.#assistant ??= { role: "assistant", content: null };
  }

  flush(): void {
    const a = this.#assistant;
    this.#assistant = undefined;
    // A turn that said nothing (a lone reasoning item) gives the upstream nothing to read.
    if (a && (a.content || a.tool_calls?.length)) this.messages.push(a);
  }

  #call(callId: string, name: string, args: string, namespace?: string): void {
    const a = this.#open();
    const call: MessageToolCall = {
      id: callId,
      type: "function",
      function: { name: this.tools.upstreamName(name, namespace), arguments: args },
      ...this.extras[callId],
    };
    (a.tool_calls ??= []).push(call);
  }

  add(item: InputItem, field: string): void {
    switch (item.type) {
      case "message": {
        if (item.role === "assistant") {
          if (this.#assistant?.tool_calls?.length) this.flush();
          const a = this.#open();
          const text = contentText(item.content);
          a.content = a.content ? `${a.content}\n${text}` : text;
          return;
        }
        this.flush();
        if (item.role === "user") {
          const parts = typeof item.content === "string"
            ? [{ type: "text" as const, text: item.content }]
            : item.content.map((p, j) => userPart(p, `${field}.content[${j}]`));
          // Text alone goes as a string: the form every upstream takes.
          const content = parts.every((p) => p.type === "text")
            ? parts.map((p) => (p as { text: string }).text).join("\n")
            : parts;
          this.messages.push({ role: "user", content });
        } else {
          // `developer` is OpenAI's newer name for `system`; every upstream takes `system`.
          this.messages.push({ role: "system", content: contentText(item.content) });
        }
        return;
      }
      case "reasoning": {
        if (this.#assistant && (this.#assistant.content || this.#assistant.tool_calls)) {
          this.flush();
        }
        const a = this.#open();
        const parts = item.summary.length > 0 ? item.summary : item.content ?? [];
        const text = parts.map((p) => p.text).join("\n\n");
        if (text) {
          a.reasoning_content = a.reasoning_content ? `${a.reasoning_content}\n\n${text}` : text;
        }
        if (item.encrypted_content) a.reasoning_signature = item.encrypted_content;
        return;
      }
      case "function_call":
        return this.#call(item.call_id, item.name, item.arguments, item.namespace);
      case "custom_tool_call":
        return this.#call(item.call_id, item.name, JSON.stringify({ input: item.input }));
      case "function_call_output":
      case "custom_tool_call_output":
        this.flush();
        this.messages.push({
          role: "tool",
          tool_call_id: item.call_id,
          content: contentText(item.output),
        });
        return;
      case "item_reference":
        // The handler resolves references before translating; one left here names nothing.
        throw invalidRequest(`${field}: no item with id '${item.id}' was found`, field);
    }
  }
}

function responseFormat(body: ResponsesRequest): ChatRequest["response_format"] {
  const f = body.text?.format;
  if (!f || f.type === "text") return undefined;
  if (f.type === "json_object") return { type: "json_object" };
  const s = f as { name: string; schema: Record<string, unknown>; description?: string };
  return {
    type: "json_schema",
    json_schema: {
      name: s.name,
      schema: s.schema,
      ...(s.description ? { description: s.description } : {}),
      ...(typeof f.strict === "boolean" ? { strict: f.strict } : {}),
    },
  };
}

/**
 * The internal request for `body`, whose conversation is `earlier` (a stored response's turns)
 * followed by `input` (this request's items, references resolved).
 */
export function toChatRequest(
  body: ResponsesRequest,
  input: readonly InputItem[],
  earlier: EarlierTurns = { items: [] },
): TranslatedRequest {
  const tools = translateTools(body.tools, body.tool_choice);
  const b = new MessageBuilder(tools.map, earlier.extras ?? {});
  if (body.instructions) b.messages.push({ role: "system", content: body.instructions });
  for (const item of earlier.items) b.add(item, "previous_response_id");
  input.forEach((item, i) => b.add(item, `input[${i}]`));
  b.flush();
  if (!b.messages.some((m) => m.role !== "system" && m.role !== "developer")) {
    throw invalidRequest(
      "input must contain at least one message or tool output (or continue a conversation with previous_response_id)",
      "input",
    );
  }
  const chat: ChatRequest = {
    model: body.model,
    messages: b.messages,
    stream: body.stream === true,
  };
  if (tools.tools) {
    chat.tools = tools.tools;
    if (tools.tool_choice) chat.tool_choice = tools.tool_choice;
    if (typeof body.parallel_tool_calls === "boolean") {
      chat.parallel_tool_calls = body.parallel_tool_calls;
    }
  }
  if (body.max_output_tokens != null) chat.max_completion_tokens = body.max_output_tokens;
  if (body.temperature != null) chat.temperature = body.temperature;
  if (body.top_p != null) chat.top_p = body.top_p;
  const format = responseFormat(body);
  if (format) chat.response_format = format;
  // The chat field OpenAI-compatible upstreams take; `reasoningOf` reads it for the others.
  if (body.reasoning?.effort) chat.reasoning_effort = body.reasoning.effort;
  return { chat, tools: tools.map, dropped: tools.dropped };
}
