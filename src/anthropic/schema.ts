/**
 * zod schemas of Anthropic's Messages API requests (`POST /v1/messages`, `count_tokens`).
 *
 * The top level is checked here; content blocks only for their `type` (a block type this gateway
 * does not know is ignored, never refused: clients send newer ones all the time). The blocks it
 * knows are checked where they are translated (`request.ts`, with `parseAt`), so that a malformed
 * one is a 400 naming its field. Objects are loose: fields nobody here can honour
 * (`cache_control`, `context_management`, `container`, ...) pass validation and are ignored.
 *
 * @module
 */
import { z } from "npm:zod@^4.6.7";
import { fromZodError } from "../openai/errors.ts";

/** A content block: only its type is checked here. */
const block = z.looseObject({ type: z.string().min(1) });

/** Content of a message: a string or blocks. */
const content = z.union([z.string(), z.array(block)]);

/** One message. `system` is not Anthropic's, but Claude Code puts one inside `messages`. */
const message = z.looseObject({
  role: z.enum(["user", "assistant", "system"]),
  content,
});

/** A text block of `system`. */
const systemBlock = z.looseObject({ type: z.literal("text"), text: z.string() });

/**
 * A tool: a client tool (`type` absent or `custom`, with `input_schema`) or one of Anthropic's
 * typed tools (`web_search_20250305`, `bash_20250124`, ...). The fields of each kind are checked
 * in `request.ts`.
 */
const tool = z.looseObject({
  name: z.string().min(1, "must not be empty"),
  type: z.string().nullable().optional(),
  description: z.string().optional(),
  input_schema: z.record(z.string(), z.unknown()).optional(),
  defer_loading: z.boolean().optional(),
});

const toolChoice = z.discriminatedUnion("type", [
  z.looseObject({
    type: z.literal("auto"),
    disable_parallel_tool_use: z.boolean().optional(),
  }),
  z.looseObject({
    type: z.literal("any"),
    disable_parallel_tool_use: z.boolean().optional(),
  }),
  z.looseObject({
    type: z.literal("tool"),
    name: z.string().min(1),
    disable_parallel_tool_use: z.boolean().optional(),
  }),
  z.looseObject({ type: z.literal("none") }),
]);

/**
 * Extended thinking: `enabled` with a budget, `adaptive` (the model decides), `disabled`. A type
 * this gateway does not know is ignored.
 */
const thinking = z.looseObject({
  type: z.string(),
  budget_tokens: z.number().int().positive().optional(),
}).check((ctx) => {
  if (ctx.value.type === "enabled" && ctx.value.budget_tokens === undefined) {
    ctx.issues.push({
      code: "custom",
      message: "Field required when type is 'enabled'",
      input: ctx.value,
      path: ["budget_tokens"],
    });
  }
});

const outputConfig = z.looseObject({
  /** `low`, `medium`, `high`, `max`; a level this gateway does not know is ignored. */
  effort: z.string().nullable().optional(),
  format: z.looseObject({
    type: z.string(),
    schema: z.record(z.string(), z.unknown()).optional(),
  }).nullable().optional(),
});

/** The fields a request to count tokens has (`count_tokens` takes no `max_tokens`). */
const shared = {
  model: z.string().min(1, "must not be empty"),
  messages: z.array(message).min(1, "must contain at least one message"),
  system: z.union([z.string(), z.array(systemBlock)]).optional(),
  tools: z.array(tool).optional(),
  tool_choice: toolChoice.optional(),
  thinking: thinking.nullable().optional(),
  output_config: outputConfig.nullable().optional(),
};

/** The body of `POST /v1/messages/count_tokens`. */
export const countTokensRequest = z.looseObject(shared);

/** The body of `POST /v1/messages`. */
export const messagesRequest = z.looseObject({
  ...shared,
  /** Anthropic's server-side message threads (the SDK's tool runner uses them). */
  thread: z.looseObject({
    type: z.string(),
    previous_message_id: z.string().optional(),
  }).nullable().optional(),
  max_tokens: z.number().int().positive(),
  stream: z.boolean().nullable().optional(),
  stop_sequences: z.array(z.string()).optional(),
  temperature: z.number().min(0).max(1).optional(),
  top_p: z.number().min(0).max(1).optional(),
  top_k: z.number().int().nonnegative().optional(),
  metadata: z.looseObject({ user_id: z.string().nullable().optional() }).nullable().optional(),
});

/** A validated Messages request. */
export type MessagesRequest = z.output<typeof messagesRequest>;
/** A validated `count_tokens` request. */
export type CountTokensRequest = z.output<typeof countTokensRequest>;
/** One validated message. */
export type AnthropicMessage = z.output<typeof message>;
/** A content block, checked only for its `type`. */
export type Block = z.output<typeof block>;
/** One validated tool (kind not yet decided). */
export type AnthropicTool = z.output<typeof tool>;
/** A validated `tool_choice`. */
export type AnthropicToolChoice = z.output<typeof toolChoice>;

// --- Blocks, checked where they are translated. ---

const base64Source = z.looseObject({
  type: z.literal("base64"),
  media_type: z.string().min(1),
  data: z.string().min(1),
});
const urlSource = z.looseObject({ type: z.literal("url"), url: z.string().min(1) });
const fileSource = z.looseObject({ type: z.literal("file"), file_id: z.string().min(1) });

/** A `text` block. */
export const textBlock = z.looseObject({ type: z.literal("text"), text: z.string() });

/** An `image` block. */
export const imageBlock = z.looseObject({
  type: z.literal("image"),
  source: z.discriminatedUnion("type", [base64Source, urlSource, fileSource]),
});

/** A `document` block (PDF or plain text, inline, by URL or as blocks). */
export const documentBlock = z.looseObject({
  type: z.literal("document"),
  title: z.string().nullable().optional(),
  context: z.string().nullable().optional(),
  source: z.discriminatedUnion("type", [
    base64Source,
    urlSource,
    fileSource,
    z.looseObject({ type: z.literal("text"), data: z.string() }),
    z.looseObject({ type: z.literal("content"), content: z.union([z.string(), z.array(block)]) }),
  ]),
});

/** A `tool_use` block of an assistant message. */
export const toolUseBlock = z.looseObject({
  type: z.literal("tool_use"),
  id: z.string().min(1),
  name: z.string().min(1),
  input: z.record(z.string(), z.unknown()),
});

/** A `tool_result` block of a user message. */
export const toolResultBlock = z.looseObject({
  type: z.literal("tool_result"),
  tool_use_id: z.string().min(1),
  content: z.union([z.string(), z.array(block)]).optional(),
  is_error: z.boolean().optional(),
});

/** A `thinking` block of an assistant message. */
export const thinkingBlock = z.looseObject({
  type: z.literal("thinking"),
  thinking: z.string(),
  signature: z.string().optional(),
});

/** A `redacted_thinking` block of an assistant message. */
export const redactedThinkingBlock = z.looseObject({
  type: z.literal("redacted_thinking"),
  data: z.string(),
});

/**
 * `value` parsed with `schema`, or a 400 naming the offending field below `path` (the block's
 * place in the request).
 */
export function parseAt<S extends z.ZodType>(
  schema: S,
  value: unknown,
  path: readonly (string | number)[],
): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issues = r.error.issues.map((i) => ({ ...i, path: [...path, ...i.path] }));
  throw fromZodError(new z.ZodError(issues));
}
