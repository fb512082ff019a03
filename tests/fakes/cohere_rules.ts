/**
 * What Cohere's v2 API refuses, written from the reference (upstreams-2026.md section 6) and
 * Cohere's OpenAPI file (`cohere-openapi.yaml`, `/v2/chat` and `/v2/embed` request schemas):
 * unknown fields (v1's `message`, `chat_history`, `preamble`, `connectors` among them),
 * parameters outside their ranges, `safety_mode` OFF on R7B and newer or next to tools,
 * `tool_choice` before R7B, `response_format` next to tools, tool results that answer no call.
 * Each refusal throws `Refused` with the API's status and a message in Cohere's words.
 *
 * @module
 */

/** A request the API refuses. */
export class Refused extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

type Json = Record<string, unknown>;

/** Chat models the fake serves, and whether they take safety OFF, tool_choice, thinking. */
export const CHAT_MODELS: Record<
  string,
  { off?: boolean; choice?: boolean; think?: boolean; vision?: boolean }
> = {
  "command-a-plus-05-2026": { choice: true, think: true, vision: true },
  "command-a-03-2025": { choice: true },
  "command-a-reasoning-08-2025": { choice: true, think: true },
  "command-a-vision-07-2025": { choice: true, vision: true },
  "command-a-translate-08-2025": { choice: true },
  "command-r7b-12-2024": { choice: true },
  "command-r-08-2024": { off: true },
  "command-r-plus-08-2024": { off: true },
  "c4ai-aya-expanse-32b": {},
  "c4ai-aya-vision-32b": { vision: true },
};

/** Ids Cohere deprecated (2025-09-15) or retired (2026-04-04). */
export const RETIRED_MODELS = [
  "command",
  "command-r",
  "command-r-plus",
  "command-light",
  "command-nightly",
  "command-light-nightly",
  "command-r-03-2024",
  "command-r-plus-04-2024",
  "embed-english-v2.0",
];

/** Embedding models. */
export const EMBED_MODELS = [
  "embed-v4.0",
  "embed-english-v3.0",
  "embed-multilingual-v3.0",
  "embed-english-light-v3.0",
  "embed-multilingual-light-v3.0",
];

const CHAT_FIELDS = new Set([
  "stream",
  "model",
  "messages",
  "tools",
  "strict_tools",
  "documents",
  "citation_options",
  "response_format",
  "safety_mode",
  "max_tokens",
  "stop_sequences",
  "temperature",
  "seed",
  "frequency_penalty",
  "presence_penalty",
  "k",
  "p",
  "logprobs",
  "tool_choice",
  "thinking",
  "priority",
]);
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function check(cond: unknown, message: string, status = 400): asserts cond {
  if (!cond) throw new Refused(status, `invalid request: ${message}`);
}

function inRange(v: unknown, min: number, max: number): boolean {
  return typeof v === "number" && v >= min && v <= max;
}

function isObj(v: unknown): v is Json {
  return !!v && typeof v === "object" && !Array.isArray(v);
}

function checkMessages(messages: unknown, model: string): void {
  check(Array.isArray(messages) && messages.length > 0, "messages must be a non-empty list");
  const calls = new Set<string>();
  for (const [i, m] of (messages as Json[]).entries()) {
    const at = `messages[${i}]`;
    check(isObj(m), `${at} must be an object`);
    switch (m.role) {
      case "system":
        check(typeof m.content === "string" || Array.isArray(m.content), `${at}.content required`);
        break;
      case "user": {
        const c = m.content;
        check(typeof c === "string" || Array.isArray(c), `${at}.content required`);
        for (const b of Array.isArray(c) ? c as Json[] : []) {
          check(b.type === "text" || b.type === "image_url", `${at}.content type ${b.type}`);
          if (b.type === "image_url") {
            check(CHAT_MODELS[model]?.vision, `model ${model} does not support image inputs`);
          }
        }
        break;
      }
      case "assistant": {
        check(
          m.content === undefined || typeof m.content === "string" || Array.isArray(m.content),
          `${at}.content must be a string or a list`,
        );
        for (const tc of (m.tool_calls ?? []) as Json[]) {
          const fn = tc.function as Json | undefined;
          check(
            typeof tc.id === "string" && tc.type === "function",
            `${at}.tool_calls need id and type`,
          );
          check(
            isObj(fn) && typeof fn.name === "string" && typeof fn.arguments === "string",
            `${at}.tool_calls[].function needs name and arguments`,
          );
          try {
            JSON.parse(fn.arguments as string);
          } catch {
            check(false, `${at}.tool_calls[].function.arguments must be valid JSON`);
          }
          calls.add(tc.id as string);
        }
        check(
          m.content !== undefined || Array.isArray(m.tool_calls),
          `${at} needs content or tool_calls`,
        );
        break;
      }
      case "tool": {
        check(
          typeof m.tool_call_id === "string" && calls.has(m.tool_call_id),
          `${at}.tool_call_id does not match any tool call`,
        );
        const c = m.content;
        if (typeof c === "string") {
          check(c !== "", `${at}.content must not be empty`);
        } else {
          check(Array.isArray(c), `${at}.content must be a string or a list`);
          for (const b of c as Json[]) {
            check(
              b.type === "text" ||
                (b.type === "document" && isObj(b.document) && isObj((b.document as Json).data)),
              `${at}.content blocks must be text or document with data`,
            );
          }
        }
        break;
      }
      default:
        check(false, `${at}.role must be one of system, user, assistant, tool`);
    }
  }
}

function checkTools(tools: unknown): void {
  check(Array.isArray(tools), "tools must be a list");
  for (const [i, t] of (tools as Json[]).entries()) {
    for (const k of Object.keys(t)) {
      check(
        k === "type" || k === "function",
        `unknown field: parameter tools[${i}].${k} is not a valid field`,
      );
    }
    check(t.type === "function", `tools[${i}].type must be function`);
    const fn = t.function as Json;
    check(isObj(fn), `tools[${i}].function is required`);
    for (const k of Object.keys(fn)) {
      check(
        ["name", "description", "parameters"].includes(k),
        `unknown field: parameter tools[${i}].function.${k} is not a valid field`,
      );
    }
    check(
      typeof fn.name === "string" && NAME.test(fn.name),
      `tools[${i}].function.name must contain only a-z, A-Z, 0-9, _ and must not begin with a digit`,
    );
    check(isObj(fn.parameters), `tools[${i}].function.parameters is required`);
  }
}

/** Throws `Refused` when Cohere would refuse this `/v2/chat` body. */
export function validateChat(b: Json): void {
  for (const k of Object.keys(b)) {
    check(CHAT_FIELDS.has(k), `unknown field: parameter ${k} is not a valid field`);
  }
  const model = String(b.model ?? "");
  check(model !== "", "model is required");
  if (RETIRED_MODELS.includes(model)) {
    throw new Refused(
      404,
      `model '${model}' was deprecated on September 15, 2025; see https://docs.cohere.com/docs/deprecations`,
    );
  }
  if (!CHAT_MODELS[model]) {
    throw new Refused(
      404,
      `model '${model}' not found, make sure the correct model ID was used and that you have access to the model.`,
    );
  }
  const caps = CHAT_MODELS[model];
  checkMessages(b.messages, model);
  if (b.tools !== undefined) checkTools(b.tools);
  if (b.temperature !== undefined) {
    check(inRange(b.temperature, 0, 1), "temperature must be between 0 and 1");
  }
  if (b.p !== undefined) check(inRange(b.p, 0.01, 0.99), "p must be between 0.01 and 0.99");
  if (b.k !== undefined) {
    check(Number.isInteger(b.k) && inRange(b.k, 0, 500), "k must be between 0 and 500");
  }
  for (const f of ["frequency_penalty", "presence_penalty"]) {
    if (b[f] !== undefined) check(inRange(b[f], 0, 1), `${f} must be between 0 and 1`);
  }
  if (b.seed !== undefined) {
    check(Number.isInteger(b.seed) && Number(b.seed) >= 0, "seed must be a non-negative integer");
  }
  if (b.max_tokens !== undefined) {
    check(
      Number.isInteger(b.max_tokens) && Number(b.max_tokens) > 0,
      "max_tokens must be positive",
    );
  }
  if (b.stop_sequences !== undefined) {
    check(
      Array.isArray(b.stop_sequences) && b.stop_sequences.length <= 5,
      "stop_sequences can contain at most 5 sequences",
    );
  }
  const tooled = Array.isArray(b.tools) && b.tools.length > 0;
  if (b.safety_mode !== undefined) {
    check(
      ["CONTEXTUAL", "STRICT", "OFF"].includes(String(b.safety_mode)),
      "safety_mode must be one of CONTEXTUAL, STRICT, OFF",
    );
    check(model.startsWith("command-"), `safety_mode is not supported for model ${model}`);
    check(
      b.safety_mode !== "OFF" || caps.off,
      `safety_mode OFF is not supported for model ${model}, use CONTEXTUAL or STRICT`,
    );
    check(
      !tooled && b.documents === undefined,
      "safety_mode is not yet configurable in combination with tools and documents",
    );
  }
  if (b.tool_choice !== undefined) {
    check(caps.choice, `tool_choice is not supported for model ${model}`);
    check(
      b.tool_choice === "REQUIRED" || b.tool_choice === "NONE",
      "tool_choice must be REQUIRED or NONE",
    );
    check(b.tool_choice !== "REQUIRED" || tooled, "tool_choice REQUIRED needs tools");
  }
  if (b.response_format !== undefined) {
    const rf = b.response_format as Json;
    check(
      rf.type === "text" || rf.type === "json_object",
      "response_format.type must be text or json_object",
    );
    check(!tooled, "response_format is not supported with tools");
  }
  if (b.thinking !== undefined) {
    const t = b.thinking as Json;
    check(caps.think, `thinking is not supported for model ${model}`);
    check(
      t.type === "enabled" || t.type === "disabled",
      "thinking.type must be enabled or disabled",
    );
    check(
      t.token_budget === undefined ||
        (Number.isInteger(t.token_budget) && Number(t.token_budget) >= 1),
      "thinking.token_budget must be a positive integer",
    );
  }
}

/** Throws `Refused` when Cohere would refuse this `/v2/embed` body. */
export function validateEmbed(b: Json): void {
  const model = String(b.model ?? "");
  if (RETIRED_MODELS.includes(model)) throw new Refused(404, `model '${model}' was retired`);
  if (!EMBED_MODELS.includes(model)) throw new Refused(404, `model '${model}' not found`);
  check(
    ["search_document", "search_query", "classification", "clustering", "image"].includes(
      String(b.input_type),
    ),
    "input_type is required for embed models v3 and higher",
  );
  check(
    Array.isArray(b.texts) && b.texts.length >= 1 && b.texts.length <= 96,
    "texts must contain between 1 and 96 items",
  );
  const types = (b.embedding_types ?? ["float"]) as string[];
  check(
    types.every((t) => ["float", "int8", "uint8", "binary", "ubinary", "base64"].includes(t)),
    "embedding_types has an unknown type",
  );
  if (b.output_dimension !== undefined) {
    check(
      model.startsWith("embed-v4"),
      "output_dimension is only available for embed-v4 and newer",
    );
    check(
      [256, 512, 1024, 1536].includes(Number(b.output_dimension)),
      "output_dimension must be one of 256, 512, 1024, 1536",
    );
  }
}
