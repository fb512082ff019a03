/**
 * zod schemas of the OpenAI requests this server accepts. Objects are loose: fields this server
 * does not know are kept and passed on to upstreams that accept them (the `custom` provider).
 *
 * @module
 */
import { z } from "npm:zod@^4.6.7";

const textPart = z.looseObject({ type: z.literal("text"), text: z.string() });
const imagePart = z.looseObject({
  type: z.literal("image_url"),
  image_url: z.union([
    z.looseObject({ url: z.string().min(1), detail: z.string().optional() }),
    // Some clients send the URL as a bare string.
    z.string().min(1).transform((url) => ({ url })),
  ]),
});
const audioPart = z.looseObject({
  type: z.literal("input_audio"),
  input_audio: z.looseObject({ data: z.string(), format: z.string() }),
});
const filePart = z.looseObject({ type: z.literal("file"), file: z.looseObject({}) });
const refusalPart = z.looseObject({ type: z.literal("refusal"), refusal: z.string() });

/** A content part of a user message. */
export const userPart = z.discriminatedUnion("type", [textPart, imagePart, audioPart, filePart]);

const textContent = z.union([z.string(), z.array(textPart)]);

const toolCall = z.looseObject({
  id: z.string().optional(),
  type: z.literal("function").optional(),
  index: z.number().int().nonnegative().optional(),
  function: z.looseObject({
    name: z.string().min(1),
    arguments: z.union([z.string(), z.record(z.string(), z.unknown())]).transform((a) =>
      typeof a === "string" ? a : JSON.stringify(a)
    ).default("{}"),
  }),
});

const systemMessage = z.looseObject({
  role: z.literal("system"),
  content: textContent,
  name: z.string().optional(),
});
const developerMessage = z.looseObject({
  role: z.literal("developer"),
  content: textContent,
  name: z.string().optional(),
});
const userMessage = z.looseObject({
  role: z.literal("user"),
  content: z.union([z.string(), z.array(userPart)]),
  name: z.string().optional(),
});
const assistantMessage = z.looseObject({
  role: z.literal("assistant"),
  content: z.union([z.string(), z.array(z.union([textPart, refusalPart])), z.null()]).optional(),
  name: z.string().optional(),
  refusal: z.string().nullable().optional(),
  tool_calls: z.array(toolCall).optional(),
  function_call: z.looseObject({ name: z.string(), arguments: z.string() }).nullable()
    .optional(),
  reasoning_content: z.string().nullable().optional(),
  /**
   * The opaque signature of the reasoning (Anthropic's thinking signature, Gemini's thought
   * signature): set by the Messages and Responses translations when a client hands it back.
   */
  reasoning_signature: z.string().optional(),
});
const toolMessage = z.looseObject({
  role: z.literal("tool"),
  content: textContent,
  tool_call_id: z.string(),
});
const functionMessage = z.looseObject({
  role: z.literal("function"),
  content: z.string().nullable(),
  name: z.string(),
});

/** One message of a chat request, any role. */
export const message = z.discriminatedUnion("role", [
  systemMessage,
  developerMessage,
  userMessage,
  assistantMessage,
  toolMessage,
  functionMessage,
]);

/** A function tool offered to the model. */
export const tool = z.looseObject({
  type: z.literal("function"),
  function: z.looseObject({
    name: z.string().regex(/^[A-Za-z0-9_.:-]{1,128}$/, "must be 1-128 letters, digits, _ . : or -"),
    description: z.string().optional(),
    parameters: z.record(z.string(), z.unknown()).optional(),
    strict: z.boolean().nullable().optional(),
  }),
});

const toolChoice = z.union([
  z.enum(["none", "auto", "required"]),
  z.looseObject({
    type: z.literal("function"),
    function: z.looseObject({ name: z.string().min(1) }),
  }),
]);

const responseFormat = z.discriminatedUnion("type", [
  z.looseObject({ type: z.literal("text") }),
  z.looseObject({ type: z.literal("json_object") }),
  z.looseObject({
    type: z.literal("json_schema"),
    json_schema: z.looseObject({
      name: z.string(),
      description: z.string().optional(),
      schema: z.record(z.string(), z.unknown()).optional(),
      strict: z.boolean().nullable().optional(),
    }),
  }),
]);

const effort = z.enum(["none", "minimal", "low", "medium", "high", "xhigh"]);

/**
 * Reasoning settings: OpenRouter's shape, which several clients send to Chat Completions, and the
 * one the Messages and Responses translations fill (`budget_tokens` from Anthropic's thinking).
 */
const reasoning = z.looseObject({
  effort: effort.optional(),
  max_tokens: z.number().int().positive().optional(),
  budget_tokens: z.number().int().positive().optional(),
  enabled: z.boolean().optional(),
  exclude: z.boolean().optional(),
});

/** The body of `POST /v1/chat/completions`. */
export const chatRequest = z.looseObject({
  model: z.string().min(1, "must not be empty"),
  messages: z.array(message).min(1, "must contain at least one message"),
  stream: z.boolean().nullable().optional(),
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullable().optional(),
  tools: z.array(tool).optional(),
  tool_choice: toolChoice.optional(),
  parallel_tool_calls: z.boolean().optional(),
  response_format: responseFormat.optional(),
  stop: z.union([z.string(), z.array(z.string()).max(16)]).nullable().optional(),
  max_tokens: z.number().int().positive().nullable().optional(),
  max_completion_tokens: z.number().int().positive().nullable().optional(),
  temperature: z.number().min(0).max(2).nullable().optional(),
  top_p: z.number().min(0).max(1).nullable().optional(),
  top_k: z.number().int().nonnegative().nullable().optional(),
  n: z.number().int().min(1).max(8).nullable().optional(),
  seed: z.number().int().nullable().optional(),
  user: z.string().optional(),
  presence_penalty: z.number().min(-2).max(2).nullable().optional(),
  frequency_penalty: z.number().min(-2).max(2).nullable().optional(),
  reasoning_effort: effort.nullable().optional(),
  reasoning: reasoning.nullable().optional(),
});

/** The body of `POST /v1/embeddings`. */
export const embeddingRequest = z.looseObject({
  model: z.string().min(1, "must not be empty"),
  input: z.union([
    z.string(),
    z.array(z.string()).min(1),
    z.array(z.number().int()).min(1),
    z.array(z.array(z.number().int())).min(1),
  ]),
  encoding_format: z.enum(["float", "base64"]).optional(),
  dimensions: z.number().int().positive().optional(),
  user: z.string().optional(),
});

/** The body of `POST /v1/images/generations`. */
export const imageRequest = z.looseObject({
  model: z.string().default("dall-e-3"),
  prompt: z.string().min(1, "must not be empty").max(32000),
  n: z.number().int().min(1).max(10).nullable().optional(),
  size: z.string().nullable().optional(),
  style: z.string().nullable().optional(),
  quality: z.string().nullable().optional(),
  response_format: z.enum(["url", "b64_json"]).nullable().optional(),
  user: z.string().optional(),
});

/** A validated chat request. */
export type ChatRequest = z.output<typeof chatRequest>;
/** One validated message. */
export type Message = z.output<typeof message>;
/** One validated tool. */
export type Tool = z.output<typeof tool>;
/** A validated `tool_choice`. */
export type ToolChoice = z.output<typeof toolChoice>;
/** A user content part. */
export type UserPart = z.output<typeof userPart>;
/** A tool call inside an assistant message. */
export type MessageToolCall = z.output<typeof toolCall>;
/** A validated embeddings request. */
export type EmbeddingRequest = z.output<typeof embeddingRequest>;
/** A validated images request. */
export type ImageRequest = z.output<typeof imageRequest>;
