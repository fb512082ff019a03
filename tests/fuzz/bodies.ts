/**
 * Request bodies of the client APIs for fuzzing: plausible ones (the shapes the SDKs send, with
 * values inside and outside the documented ranges) and mutated ones (a random part replaced by
 * a value of another type, or removed). Models are the fuzz config's (`fake/...`) or ids no
 * provider resolves, so that no request leaves 127.0.0.1.
 *
 * @module
 */
import { answerText, fc } from "./fuzz.ts";
import { mutateJson, oddValue } from "./streams.ts";

/** Model ids: the fake upstream's, one it does not have, and ids nobody serves. */
export const model = fc.oneof(
  { weight: 6, arbitrary: fc.constant("fake/gpt-4o-mini") },
  {
    weight: 2,
    arbitrary: fc.constantFrom("fake/missing", "fake/", "zz-nobody", "", "fake/gpt-4o-mini "),
  },
  { weight: 1, arbitrary: fc.stringMatching(/^zz-[a-z0-9./-]{0,12}$/) },
);

const text = fc.oneof({ weight: 4, arbitrary: answerText }, {
  weight: 1,
  arbitrary: fc.constantFrom("", "<tool />", "<pad />", "\u0000", "\uD800", "%E0%A4%A"),
});

const dataUrl = fc.constantFrom(
  "data:image/png;base64,iVBORw0KGgo=",
  "data:image/png;base64,%%%",
  "data:,hello",
  "data:image/png,%E0%A4%A",
  "data:",
);

/** Tool names: mostly valid, sometimes odd or empty. */
const toolName = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom("get_weather", "search", "a.b") },
  { weight: 1, arbitrary: fc.constantFrom("1bad", "", "x".repeat(70), "with space") },
);

const schema = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.constant({
      type: "object",
      properties: { city: { type: "string" } },
      required: ["city"],
    }),
  },
  { weight: 2, arbitrary: fc.constantFrom({ type: "object" }, {}) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
);

const chatTool = fc.record({
  type: fc.constant("function"),
  function: fc.record({ name: toolName, description: text, parameters: schema }, {
    requiredKeys: ["name"],
  }),
});

const toolCall = fc.record({
  id: fc.constantFrom("call_1", "call_2", ""),
  type: fc.constant("function"),
  function: fc.record({
    name: toolName,
    arguments: fc.constantFrom('{"city":"Paris"}', "{}", "not json", ""),
  }),
});

const chatPart = fc.oneof(
  fc.record({ type: fc.constant("text"), text }),
  fc.record({ type: fc.constant("image_url"), image_url: fc.record({ url: dataUrl }) }),
);

const chatMessage = fc.oneof(
  fc.record({
    role: fc.constantFrom("system", "developer", "user"),
    content: fc.oneof(text, fc.array(chatPart, { minLength: 1, maxLength: 3 })),
  }),
  fc.record({
    role: fc.constant("assistant"),
    content: fc.option(text, { nil: null }),
    tool_calls: fc.array(toolCall, { maxLength: 2 }),
  }, { requiredKeys: ["role"] }),
  fc.record({
    role: fc.constant("tool"),
    tool_call_id: fc.constantFrom("call_1", "call_2", "nope"),
    content: text,
  }),
);

/** A sampling value: mostly in every API's range, sometimes outside. */
const unit = fc.oneof(
  { weight: 6, arbitrary: fc.double({ min: 0, max: 1, noNaN: true }) },
  { weight: 1, arbitrary: fc.constantFrom(-1, 1.5, 2, 3, 1e9) },
);

/** A token count: mostly plausible, sometimes not. */
const tokens = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 1, max: 4096 }) },
  { weight: 1, arbitrary: fc.constantFrom(-1, 0, 1.5, 1e9) },
);

/** A Chat Completions body. */
export const chatBody = fc.record({
  model,
  messages: fc.array(chatMessage, { minLength: 1, maxLength: 4 }),
  stream: fc.boolean(),
  stream_options: fc.constant({ include_usage: true }),
  temperature: unit,
  top_p: unit,
  max_tokens: tokens,
  n: fc.integer({ min: 0, max: 3 }),
  stop: fc.oneof(
    fc.string({ maxLength: 4 }),
    fc.array(fc.string({ maxLength: 4 }), { maxLength: 5 }),
  ),
  tools: fc.array(chatTool, { maxLength: 2 }),
  tool_choice: fc.oneof(
    fc.constantFrom("auto", "none", "required"),
    fc.record({ type: fc.constant("function"), function: fc.record({ name: toolName }) }),
  ),
  response_format: fc.oneof(
    fc.constant({ type: "json_object" }),
    fc.record({
      type: fc.constant("json_schema"),
      json_schema: fc.record({ name: toolName, schema }),
    }),
  ),
  reasoning_effort: fc.constantFrom("low", "high", "bogus"),
}, { requiredKeys: ["model", "messages"] });

const anthropicBlock = fc.oneof(
  fc.record({ type: fc.constant("text"), text }),
  fc.record({
    type: fc.constant("image"),
    source: fc.oneof(
      fc.record({
        type: fc.constant("base64"),
        media_type: fc.constantFrom("image/png", ""),
        data: fc.constantFrom("iVBORw0KGgo=", "", "%%"),
      }),
      fc.record({ type: fc.constant("url"), url: dataUrl }),
    ),
  }),
  fc.record({
    type: fc.constant("tool_use"),
    id: fc.constantFrom("toolu_1", ""),
    name: toolName,
    input: fc.jsonValue({ maxDepth: 2 }),
  }),
  fc.record({
    type: fc.constant("tool_result"),
    tool_use_id: fc.constantFrom("toolu_1", "toolu_x"),
    content: fc.oneof(text, fc.array(fc.record({ type: fc.constant("text"), text }))),
    is_error: fc.boolean(),
  }),
  fc.record({ type: fc.constant("thinking"), thinking: text, signature: fc.string() }),
  fc.record({ type: fc.constant("redacted_thinking"), data: fc.string() }),
  fc.record({
    type: fc.constant("document"),
    source: fc.record({
      type: fc.constant("text"),
      media_type: fc.constant("text/plain"),
      data: text,
    }),
  }),
  fc.record({ type: fc.constantFrom("server_tool_use", "future_block"), id: fc.string() }),
);

/** An Anthropic Messages body. */
export const messagesBody = fc.record({
  model,
  max_tokens: tokens,
  messages: fc.array(
    fc.record({
      role: fc.constantFrom("user", "assistant", "system"),
      content: fc.oneof(text, fc.array(anthropicBlock, { minLength: 1, maxLength: 3 })),
    }),
    { minLength: 1, maxLength: 4 },
  ),
  system: fc.oneof(
    text,
    fc.array(fc.record({ type: fc.constant("text"), text }), { maxLength: 2 }),
  ),
  stream: fc.boolean(),
  tools: fc.array(
    fc.oneof(
      fc.record({ name: toolName, description: text, input_schema: schema }),
      fc.record({ type: fc.constantFrom("web_search_20250305", "bash_20250124"), name: toolName }),
    ),
    { maxLength: 2 },
  ),
  tool_choice: fc.oneof(
    fc.record({ type: fc.constantFrom("auto", "any", "none") }),
    fc.record({ type: fc.constant("tool"), name: toolName }),
  ),
  thinking: fc.oneof(
    fc.record({
      type: fc.constant("enabled"),
      budget_tokens: fc.integer({ min: -1, max: 50_000 }),
    }),
    fc.record({ type: fc.constantFrom("disabled", "adaptive", "weird") }),
  ),
  stop_sequences: fc.array(fc.string({ maxLength: 4 }), { maxLength: 3 }),
  temperature: unit,
  top_k: fc.integer({ min: -1, max: 500 }),
  output_config: fc.record({ effort: fc.constantFrom("low", "max", "odd") }),
}, { requiredKeys: ["model", "max_tokens", "messages"] });

const responsesPart = fc.oneof(
  fc.record({ type: fc.constant("input_text"), text }),
  fc.record({ type: fc.constant("output_text"), text }),
  fc.record({ type: fc.constant("input_image"), image_url: dataUrl }),
  fc.record({
    type: fc.constant("input_file"),
    file_data: fc.constantFrom("data:text/plain;base64,aGk=", "%%"),
    filename: fc.constantFrom("a.txt", "b.pdf"),
  }),
);

const responsesItem = fc.oneof(
  fc.record({
    type: fc.constant("message"),
    role: fc.constantFrom("user", "assistant", "system", "developer"),
    content: fc.oneof(text, fc.array(responsesPart, { minLength: 1, maxLength: 3 })),
  }),
  fc.record({
    role: fc.constantFrom("user", "assistant"),
    content: text,
  }),
  fc.record({
    type: fc.constant("function_call"),
    call_id: fc.constantFrom("call_1", "call_2"),
    name: toolName,
    arguments: fc.constantFrom('{"city":"Paris"}', "{}", "nope"),
  }),
  fc.record({
    type: fc.constant("function_call_output"),
    call_id: fc.constantFrom("call_1", "call_9"),
    output: fc.oneof(text, fc.array(responsesPart, { maxLength: 2 })),
  }),
  fc.record({
    type: fc.constant("reasoning"),
    summary: fc.array(fc.record({ type: fc.constant("summary_text"), text }), { maxLength: 2 }),
    encrypted_content: fc.string(),
  }),
  fc.record({
    type: fc.constant("custom_tool_call"),
    call_id: fc.constant("call_3"),
    name: toolName,
    input: text,
  }),
);

/** An OpenAI Responses body (no `previous_response_id`: stored state is not fuzzed here). */
export const responsesBody = fc.record({
  model,
  input: fc.oneof(text, fc.array(responsesItem, { minLength: 1, maxLength: 4 })),
  instructions: text,
  stream: fc.boolean(),
  store: fc.boolean(),
  tools: fc.array(
    fc.oneof(
      fc.record({ type: fc.constant("function"), name: toolName, parameters: schema }),
      fc.record({ type: fc.constant("custom"), name: toolName }),
      fc.record({ type: fc.constantFrom("web_search", "file_search", "mcp") }),
    ),
    { maxLength: 2 },
  ),
  tool_choice: fc.oneof(
    fc.constantFrom("auto", "none", "required"),
    fc.record({ type: fc.constant("function"), name: toolName }),
    fc.record({ type: fc.constant("web_search") }),
  ),
  max_output_tokens: tokens,
  temperature: unit,
  reasoning: fc.record({ effort: fc.constantFrom("low", "high", "minimal") }),
  text: fc.record({
    format: fc.oneof(
      fc.record({ type: fc.constantFrom("text", "json_object") }),
      fc.record({ type: fc.constant("json_schema"), name: toolName, schema }),
    ),
  }),
}, { requiredKeys: ["model", "input"] });

/** An embeddings body. */
export const embeddingsBody = fc.record({
  model: fc.oneof(model, fc.constant("fake/text-embedding-3-small")),
  input: fc.oneof(
    text,
    fc.array(text, { maxLength: 4 }),
    fc.array(fc.integer({ min: -1, max: 100_000 }), { maxLength: 4 }),
  ),
  encoding_format: fc.constantFrom("float", "base64", "hex"),
  dimensions: fc.integer({ min: -1, max: 4096 }),
}, { requiredKeys: ["model", "input"] });

/** An images body. */
export const imagesBody = fc.record({
  model: fc.constantFrom("dall-e-3", "zz-nobody", "", "fake/gpt-4o-mini"),
  prompt: text,
  n: fc.integer({ min: -1, max: 12 }),
  size: fc.constantFrom("1024x1024", "1x1", "big", ""),
  response_format: fc.constantFrom("url", "b64_json", "png"),
}, { requiredKeys: ["prompt"] });

/**
 * `arb`'s bodies, as they are (half the time) or with one to three parts replaced by a value of
 * another type or removed.
 */
export function mutated<T>(arb: fc.Arbitrary<T>): fc.Arbitrary<unknown> {
  const edited = fc.tuple(
    arb,
    fc.array(fc.tuple(fc.nat(), oddValue), { minLength: 1, maxLength: 3 }),
  ).map(([body, edits]) => {
    let out: unknown = body;
    for (const [pick, value] of edits) out = mutateJson(out, pick, value);
    return out;
  });
  return fc.oneof(arb as fc.Arbitrary<unknown>, edited);
}

const userText = answerText.filter((t) => t.trim() !== "");

/** Chat bodies the API takes, streamed or not. */
export const validChat = fc.record({
  model: fc.constant("fake/gpt-4o-mini"),
  messages: fc.array(fc.record({ role: fc.constantFrom("user", "system"), content: userText }), {
    minLength: 1,
    maxLength: 3,
  }).map((m) => [...m, { role: "user", content: "hi" }]),
  stream: fc.boolean(),
  max_tokens: fc.integer({ min: 1, max: 500 }),
  temperature: fc.double({ min: 0, max: 1, noNaN: true }),
}, { requiredKeys: ["model", "messages"] });

/** Messages bodies the API takes. */
export const validMessages = fc.record({
  model: fc.constant("fake/gpt-4o-mini"),
  max_tokens: fc.integer({ min: 1, max: 1000 }),
  messages: fc.constant([{ role: "user", content: "hi" }]),
  system: userText,
  stream: fc.boolean(),
  stop_sequences: fc.array(fc.stringMatching(/^[a-z]{1,3}$/), { maxLength: 2 }),
}, { requiredKeys: ["model", "max_tokens", "messages"] });

/** Responses bodies the API takes. */
export const validResponses = fc.record({
  model: fc.constant("fake/gpt-4o-mini"),
  input: fc.oneof(userText, fc.constant([{ role: "user", content: "hi" }])),
  instructions: userText,
  stream: fc.boolean(),
  store: fc.boolean(),
}, { requiredKeys: ["model", "input"] });

/** Embeddings bodies the API takes. */
export const validEmbeddings = fc.record({
  model: fc.constant("fake/text-embedding-3-small"),
  input: fc.oneof(userText, fc.array(userText, { minLength: 1, maxLength: 3 })),
  encoding_format: fc.constantFrom("float", "base64"),
}, { requiredKeys: ["model", "input"] });
