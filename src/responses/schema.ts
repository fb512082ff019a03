/**
 * zod schemas of the OpenAI Responses API requests this server accepts (`POST /v1/responses`).
 * Objects are loose: fields the gateway cannot honour (`client_metadata`, `service_tier`,
 * `prompt_cache_retention`, ...) are accepted and ignored, as OpenAI's own clients send them.
 *
 * @module
 */
import { z } from "npm:zod@^4.6.7";
import { isObject } from "../util/json.ts";

const inputText = z.looseObject({ type: z.literal("input_text"), text: z.string() });
const inputImage = z.looseObject({
  type: z.literal("input_image"),
  image_url: z.string().min(1).nullable().optional(),
  file_id: z.string().nullable().optional(),
  detail: z.string().optional(),
});
const inputFile = z.looseObject({
  type: z.literal("input_file"),
  file_data: z.string().optional(),
  file_url: z.string().optional(),
  file_id: z.string().nullable().optional(),
  filename: z.string().optional(),
});
const outputText = z.looseObject({
  type: z.literal("output_text"),
  text: z.string(),
  annotations: z.array(z.unknown()).optional(),
});
const refusal = z.looseObject({ type: z.literal("refusal"), refusal: z.string() });

/** A content part of a message item (any role: clients mix `input_text` and `output_text`). */
export const contentPart = z.discriminatedUnion("type", [
  inputText,
  inputImage,
  inputFile,
  outputText,
  refusal,
]);

const messageItem = z.looseObject({
  type: z.literal("message"),
  id: z.string().optional(),
  role: z.enum(["user", "assistant", "system", "developer"]),
  content: z.union([z.string(), z.array(contentPart)]),
  status: z.string().nullable().optional(),
});

const toolOutput = z.union([z.string(), z.array(contentPart)]);

const functionCallItem = z.looseObject({
  type: z.literal("function_call"),
  id: z.string().optional(),
  call_id: z.string().min(1, "must not be empty"),
  name: z.string().min(1, "must not be empty"),
  arguments: z.string(),
  namespace: z.string().optional(),
  status: z.string().nullable().optional(),
});
const functionOutputItem = z.looseObject({
  type: z.literal("function_call_output"),
  id: z.string().nullable().optional(),
  call_id: z.string().min(1, "must not be empty"),
  output: toolOutput,
  status: z.string().nullable().optional(),
});
const customCallItem = z.looseObject({
  type: z.literal("custom_tool_call"),
  id: z.string().optional(),
  call_id: z.string().min(1, "must not be empty"),
  name: z.string().min(1, "must not be empty"),
  input: z.string(),
});
const customOutputItem = z.looseObject({
  type: z.literal("custom_tool_call_output"),
  id: z.string().nullable().optional(),
  call_id: z.string().min(1, "must not be empty"),
  output: toolOutput,
});
const reasoningItem = z.looseObject({
  type: z.literal("reasoning"),
  id: z.string().optional(),
  summary: z.array(z.looseObject({ type: z.string(), text: z.string() })).default([]),
  content: z.array(z.looseObject({ type: z.string(), text: z.string() })).nullable().optional(),
  encrypted_content: z.string().nullable().optional(),
});
const itemReference = z.looseObject({
  type: z.literal("item_reference"),
  id: z.string().min(1, "must not be empty"),
});

/** One item of `input`: an item without `type` but with `role` is a message (EasyInputMessage). */
export const inputItem = z.preprocess(
  (v) => isObject(v) && v.type === undefined && "role" in v ? { ...v, type: "message" } : v,
  z.discriminatedUnion("type", [
    messageItem,
    functionCallItem,
    functionOutputItem,
    customCallItem,
    customOutputItem,
    reasoningItem,
    itemReference,
  ]),
);

/** Function names as OpenAI takes them. */
const toolName = z.string().regex(
  /^[A-Za-z0-9_.:-]{1,128}$/,
  "must be 1-128 letters, digits, _ . : or -",
);

const functionTool = z.looseObject({
  type: z.literal("function"),
  name: toolName,
  description: z.string().nullable().optional(),
  parameters: z.record(z.string(), z.unknown()).nullable().optional(),
  strict: z.boolean().nullable().optional(),
});
const customTool = z.looseObject({
  type: z.literal("custom"),
  name: toolName,
  description: z.string().nullable().optional(),
  format: z.looseObject({ type: z.string() }).nullable().optional(),
});
const namespaceTool = z.looseObject({
  type: z.literal("namespace"),
  name: toolName,
  description: z.string().nullable().optional(),
  tools: z.array(z.discriminatedUnion("type", [functionTool, customTool])),
});
/** OpenAI's hosted tools (web_search, file_search, code_interpreter, mcp, ...). */
const builtinTool = z.looseObject({
  type: z.string().refine((t) => !["function", "custom", "namespace"].includes(t)),
});

/** One tool of `tools`. */
export const tool = z.union([functionTool, customTool, namespaceTool, builtinTool]);

const toolChoice = z.union([
  z.enum(["none", "auto", "required"]),
  z.looseObject({ type: z.literal("function"), name: z.string().min(1) }),
  z.looseObject({ type: z.literal("custom"), name: z.string().min(1) }),
  z.looseObject({
    type: z.literal("allowed_tools"),
    mode: z.enum(["auto", "required"]),
    tools: z.array(z.looseObject({ type: z.string(), name: z.string().optional() })),
  }),
  // A hosted tool (`{"type":"web_search"}`): refused by the translation, naming it.
  z.looseObject({
    type: z.string().refine((t) => !["function", "custom", "allowed_tools"].includes(t)),
  }),
]);

const textFormat = z.discriminatedUnion("type", [
  z.looseObject({ type: z.literal("text") }),
  z.looseObject({ type: z.literal("json_object") }),
  z.looseObject({
    type: z.literal("json_schema"),
    name: z.string().min(1),
    schema: z.record(z.string(), z.unknown()),
    description: z.string().optional(),
    strict: z.boolean().nullable().optional(),
  }),
]);

const effort = z.enum(["none", "minimal", "low", "medium", "high", "xhigh"]);

/** The body of `POST /v1/responses`. */
export const responsesRequest = z.looseObject({
  model: z.string().min(1, "must not be empty"),
  // A string is one user message; as a list, a bad item's error names its own path.
  input: z.preprocess(
    (v) =>
      typeof v === "string"
        ? [{ type: "message", role: "user", content: [{ type: "input_text", text: v }] }]
        : v,
    z.array(inputItem),
  ).optional(),
  instructions: z.string().nullable().optional(),
  tools: z.array(tool).nullable().optional(),
  tool_choice: toolChoice.nullable().optional(),
  parallel_tool_calls: z.boolean().nullable().optional(),
  max_output_tokens: z.number().int().positive().nullable().optional(),
  max_tool_calls: z.number().int().positive().nullable().optional(),
  temperature: z.number().min(0).max(2).nullable().optional(),
  top_p: z.number().min(0).max(1).nullable().optional(),
  top_logprobs: z.number().int().min(0).max(20).nullable().optional(),
  text: z.looseObject({
    format: textFormat.optional(),
    verbosity: z.string().nullable().optional(),
  })
    .nullable().optional(),
  reasoning: z.looseObject({
    effort: effort.nullable().optional(),
    summary: z.string().nullable().optional(),
  }).nullable().optional(),
  previous_response_id: z.string().min(1, "must not be empty").nullable().optional(),
  store: z.boolean().nullable().optional(),
  stream: z.boolean().nullable().optional(),
  metadata: z.record(z.string().max(64), z.string().max(512))
    .refine((m) => Object.keys(m).length <= 16, "must have at most 16 keys")
    .nullable().optional(),
  include: z.array(z.string()).nullable().optional(),
  prompt_cache_key: z.string().nullable().optional(),
  safety_identifier: z.string().nullable().optional(),
  user: z.string().nullable().optional(),
  service_tier: z.string().nullable().optional(),
  truncation: z.enum(["auto", "disabled"]).nullable().optional(),
  background: z.boolean().nullable().optional(),
});

/** A validated Responses request. */
export type ResponsesRequest = z.output<typeof responsesRequest>;
/** One validated input item. */
export type InputItem = z.output<typeof inputItem>;
/** A content part of a message item. */
export type ContentPart = z.output<typeof contentPart>;
/** One validated tool. */
export type ResponsesTool = z.output<typeof tool>;
/** A validated `tool_choice`. */
export type ResponsesToolChoice = z.output<typeof toolChoice>;
