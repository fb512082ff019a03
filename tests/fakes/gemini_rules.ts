/**
 * What the Gemini API refuses, from the reference (upstreams-2026.md section 7) and the API's own
 * messages quoted there and in the issues it cites: unknown fields, bad roles, empty parts,
 * schemas outside the OpenAPI subset, function-call turns in the wrong place, a Gemini 3
 * function call of the current turn without its thought signature, both thinking fields, a
 * thinking field the model's generation does not take or outside its range, non-zero penalties
 * on models without them, `topK` over the model's limit, more candidates than allowed.
 *
 * @module
 */
import type { FakeModel } from "./gemini_models.ts";

/** The parts of a request body the fake reads. */
export interface GeminiBody {
  contents: { role?: string; parts: Record<string, unknown>[] }[];
  systemInstruction?: { role?: string; parts: { text?: string }[] };
  generationConfig?: Record<string, unknown>;
  tools?: { functionDeclarations?: Record<string, unknown>[] }[];
  toolConfig?: { functionCallingConfig?: { mode?: string; allowedFunctionNames?: string[] } };
  safetySettings?: { category: string; threshold: string }[];
  [k: string]: unknown;
}

const TOP_FIELDS = new Set([
  "contents",
  "systemInstruction",
  "tools",
  "toolConfig",
  "safetySettings",
  "generationConfig",
  "cachedContent",
  "model",
]);
const GENERATION_FIELDS = new Set([
  "stopSequences",
  "responseMimeType",
  "responseSchema",
  "responseJsonSchema",
  "candidateCount",
  "maxOutputTokens",
  "temperature",
  "topP",
  "topK",
  "seed",
  "presencePenalty",
  "frequencyPenalty",
  "responseLogprobs",
  "logprobs",
  "thinkingConfig",
  "responseModalities",
  "mediaResolution",
]);
const SCHEMA_FIELDS = new Set([
  "type",
  "format",
  "title",
  "description",
  "nullable",
  "enum",
  "maxItems",
  "minItems",
  "properties",
  "required",
  "minProperties",
  "maxProperties",
  "minLength",
  "maxLength",
  "pattern",
  "example",
  "anyOf",
  "propertyOrdering",
  "default",
  "items",
  "minimum",
  "maximum",
]);
const TYPES = new Set(["STRING", "NUMBER", "INTEGER", "BOOLEAN", "ARRAY", "OBJECT", "NULL"]);
const CATEGORIES = new Set([
  "HARM_CATEGORY_HARASSMENT",
  "HARM_CATEGORY_HATE_SPEECH",
  "HARM_CATEGORY_SEXUALLY_EXPLICIT",
  "HARM_CATEGORY_DANGEROUS_CONTENT",
  "HARM_CATEGORY_CIVIC_INTEGRITY",
]);
const THRESHOLDS = new Set([
  "HARM_BLOCK_THRESHOLD_UNSPECIFIED",
  "BLOCK_LOW_AND_ABOVE",
  "BLOCK_MEDIUM_AND_ABOVE",
  "BLOCK_ONLY_HIGH",
  "BLOCK_NONE",
  "OFF",
]);
const PART_DATA = [
  "text",
  "inlineData",
  "functionCall",
  "functionResponse",
  "fileData",
  "executableCode",
  "codeExecutionResult",
];
const NAME_RE = /^[A-Za-z_][A-Za-z0-9_.:-]{0,63}$/;

/** A body the API refuses (400 INVALID_ARGUMENT). */
export class Invalid extends Error {}

function unknownName(name: string, at: string): never {
  throw new Invalid(
    `Invalid JSON payload received. Unknown name "${name}" at '${at}': Cannot find field.`,
  );
}

function checkSchema(s: unknown, at: string): void {
  if (!s || typeof s !== "object" || Array.isArray(s)) {
    throw new Invalid(`* ${at}: schema must be an object`);
  }
  const schema = s as Record<string, unknown>;
  for (const k of Object.keys(schema)) if (!SCHEMA_FIELDS.has(k)) unknownName(k, at);
  if (schema.type !== undefined) {
    if (typeof schema.type !== "string" || !TYPES.has(schema.type.toUpperCase())) {
      throw new Invalid(
        `Invalid value at '${at}.type' (type.googleapis.com/google.ai.generativelanguage.v1beta.Type), ${
          JSON.stringify(schema.type)
        }`,
      );
    }
  }
  const type = String(schema.type ?? "").toUpperCase();
  if (schema.format !== undefined) {
    const ok = type === "STRING"
      ? ["enum", "date-time"].includes(String(schema.format))
      : type === "INTEGER"
      ? ["int32", "int64"].includes(String(schema.format))
      : type === "NUMBER"
      ? ["float", "double"].includes(String(schema.format))
      : false;
    if (!ok) {
      throw new Invalid(
        `* ${at}.format: only 'enum' and 'date-time' are supported for STRING type`,
      );
    }
  }
  if (schema.enum !== undefined) {
    if (!Array.isArray(schema.enum) || schema.enum.some((v) => typeof v !== "string")) {
      throw new Invalid(`Invalid value at '${at}.enum': enum values must be strings`);
    }
  }
  if (schema.properties !== undefined) {
    const props = schema.properties as Record<string, unknown>;
    if (type === "OBJECT" && Object.keys(props).length === 0) {
      throw new Invalid(`* ${at}.properties: should be non-empty for OBJECT type`);
    }
    for (const [k, v] of Object.entries(props)) checkSchema(v, `${at}.properties[${k}].value`);
  }
  if (Array.isArray(schema.required)) {
    const props = (schema.properties ?? {}) as Record<string, unknown>;
    for (const r of schema.required) {
      if (!(String(r) in props)) {
        throw new Invalid(`* ${at}.required[${r}]: property is not defined`);
      }
    }
  }
  if (schema.items !== undefined) checkSchema(schema.items, `${at}.items`);
  if (Array.isArray(schema.anyOf)) {
    schema.anyOf.forEach((v, i) => checkSchema(v, `${at}.any_of[${i}]`));
  }
}

function isTextTurn(c: GeminiBody["contents"][number]): boolean {
  return c.parts.some((p) => typeof p.text === "string");
}

/** Throws `Invalid` with the API's message when the body would be refused. */
export function validate(body: GeminiBody, model: string, info: FakeModel): void {
  checkGeneration(body.generationConfig ?? {}, model, info);
  for (const k of Object.keys(body)) if (!TOP_FIELDS.has(k)) unknownName(k, "");
  if (!Array.isArray(body.contents) || body.contents.length === 0) {
    throw new Invalid("* GenerateContentRequest.contents: contents is not specified");
  }
  for (const k of Object.keys(body.generationConfig ?? {})) {
    if (!GENERATION_FIELDS.has(k)) unknownName(k, "generation_config");
  }
  const gc = body.generationConfig ?? {};
  if (gc.responseSchema !== undefined) {
    if (gc.responseMimeType !== "application/json") {
      throw new Invalid(
        "* GenerateContentRequest.generation_config.response_mime_type: response_mime_type must be application/json when response_schema is set",
      );
    }
    checkSchema(gc.responseSchema, "generation_config.response_schema");
  }
  if (Array.isArray(gc.stopSequences) && gc.stopSequences.length > 5) {
    throw new Invalid(
      "* GenerateContentRequest.generation_config.stop_sequences: at most 5 stop sequences",
    );
  }
  if (typeof gc.temperature === "number" && (gc.temperature < 0 || gc.temperature > 2)) {
    throw new Invalid(
      "* GenerateContentRequest.generation_config.temperature: must be in [0, 2]",
    );
  }
  for (const s of body.safetySettings ?? []) {
    if (!CATEGORIES.has(s.category)) {
      throw new Invalid(
        `Invalid value at 'safety_settings[0].category' (type.googleapis.com/google.ai.generativelanguage.v1beta.HarmCategory), "${s.category}"`,
      );
    }
    if (!THRESHOLDS.has(s.threshold)) {
      throw new Invalid(
        `Invalid value at 'safety_settings[0].threshold' (type.googleapis.com/google.ai.generativelanguage.v1beta.SafetySetting.HarmBlockThreshold), "${s.threshold}"`,
      );
    }
  }
  const declared = new Set<string>();
  (body.tools ?? []).forEach((t, ti) => {
    (t.functionDeclarations ?? []).forEach((fd, fi) => {
      const at = `tools[${ti}].function_declarations[${fi}]`;
      for (const k of Object.keys(fd)) {
        if (
          !["name", "description", "parameters", "parametersJsonSchema", "response", "behavior"]
            .includes(k)
        ) {
          unknownName(k, at);
        }
      }
      const name = String(fd.name ?? "");
      if (!NAME_RE.test(name)) {
        throw new Invalid(
          `* GenerateContentRequest.${at}.name: Invalid function name. Must start with a letter or an underscore. Must be a-z, A-Z, 0-9, or contain underscores, dots, colons and dashes, with a maximum length of 64.`,
        );
      }
      declared.add(name);
      if (fd.parameters !== undefined) checkSchema(fd.parameters, `${at}.parameters`);
    });
  });
  const fcc = body.toolConfig?.functionCallingConfig;
  if (fcc) {
    if (fcc.mode && !["AUTO", "ANY", "NONE", "VALIDATED"].includes(fcc.mode)) {
      throw new Invalid(
        `Invalid value at 'tool_config.function_calling_config.mode' (type.googleapis.com/google.ai.generativelanguage.v1beta.FunctionCallingConfig.Mode), "${fcc.mode}"`,
      );
    }
    if (fcc.allowedFunctionNames?.length) {
      if (fcc.mode !== "ANY" && fcc.mode !== "VALIDATED") {
        throw new Invalid(
          "* GenerateContentRequest.tool_config.function_calling_config.allowed_function_names: allowed_function_names is only allowed when mode is ANY",
        );
      }
      for (const n of fcc.allowedFunctionNames) {
        if (!declared.has(n)) {
          throw new Invalid(
            `* GenerateContentRequest.tool_config.function_calling_config.allowed_function_names: function ${n} is not declared`,
          );
        }
      }
    }
  }
  let prevCalls = 0;
  body.contents.forEach((c, ci) => {
    if (c.role !== undefined && c.role !== "user" && c.role !== "model") {
      throw new Invalid("Please use a valid role: user, model.");
    }
    if (!Array.isArray(c.parts) || c.parts.length === 0) {
      throw new Invalid(
        `* GenerateContentRequest.contents[${ci}].parts: contents.parts must not be empty.`,
      );
    }
    c.parts.forEach((p, pi) => {
      const data = PART_DATA.filter((k) => k in p);
      if (data.length !== 1) {
        throw new Invalid(
          `* GenerateContentRequest.contents[${ci}].parts[${pi}].data: required oneof field 'data' must have one initialized field`,
        );
      }
      if (typeof p.text === "string" && p.text === "") {
        throw new Invalid(
          "Unable to submit request because it has an empty text parameter. Add a value to the parameter and try again.",
        );
      }
      const fr = p.functionResponse as { name?: string; response?: unknown } | undefined;
      if (fr && (!fr.response || typeof fr.response !== "object" || Array.isArray(fr.response))) {
        throw new Invalid(
          `Invalid value at 'contents[${ci}].parts[${pi}].function_response.response' (type.googleapis.com/google.protobuf.Struct)`,
        );
      }
      const inline = p.inlineData as { mimeType?: string; data?: string } | undefined;
      if (
        inline && (!inline.mimeType || !inline.data || !/^[A-Za-z0-9+/=_-]+$/.test(inline.data))
      ) {
        throw new Invalid(
          `* GenerateContentRequest.contents[${ci}].parts[${pi}].inline_data: Base64 decoding failed`,
        );
      }
    });
    const calls = c.parts.filter((p) => "functionCall" in p).length;
    const responses = c.parts.filter((p) => "functionResponse" in p).length;
    if (calls > 0) {
      const prev = body.contents[ci - 1];
      if (!prev || prev.role !== "user") {
        throw new Invalid(
          "Please ensure that function call turn comes immediately after a user turn or after a function response turn.",
        );
      }
    }
    if (responses > 0 && responses !== prevCalls) {
      throw new Invalid(
        "Please ensure that the number of function response parts is equal to the number of function call parts of the function call turn.",
      );
    }
    prevCalls = calls;
  });
  if (/^gemini-[3-9]/.test(model)) {
    // Only the current turn (since the last user text) is validated, as Google documents.
    let start = 0;
    body.contents.forEach((c, i) => {
      if (c.role !== "model" && isTextTurn(c)) start = i;
    });
    for (let i = start; i < body.contents.length; i++) {
      const c = body.contents[i];
      if (c.role !== "model") continue;
      const first = c.parts.findIndex((p) => "functionCall" in p);
      if (first >= 0 && typeof c.parts[first].thoughtSignature !== "string") {
        const name = (c.parts[first].functionCall as { name: string }).name;
        throw new Invalid(
          `Function call is missing a thought_signature in functionCall parts. This is required for tools to work correctly, and missing thought_signature may lead to degraded model performance. Additional data, function call \`default_api:${name}\` , position ${
            i + 1
          }. Please refer to https://ai.google.dev/gemini-api/docs/thought-signatures for more details.`,
        );
      }
    }
  }
}

function checkGeneration(gc: Record<string, unknown>, model: string, info: FakeModel): void {
  const thinking = (gc.thinkingConfig ?? {}) as Record<string, unknown>;
  const budget = thinking.thinkingBudget;
  const level = thinking.thinkingLevel;
  if (budget !== undefined && level !== undefined) {
    throw new Invalid("You can only set only one of thinking budget and thinking level.");
  }
  if (level !== undefined) {
    if (!info.levels) throw new Invalid("Thinking level is not supported for this model.");
    if (info.levels !== "any" && !info.levels.includes(String(level))) {
      throw new Invalid(
        `Invalid thinking level ${JSON.stringify(level)} for ${model}; supported: ${
          info.levels.join(", ")
        }.`,
      );
    }
  }
  if (budget !== undefined) {
    const b = Number(budget);
    if (info.budget) {
      if (b === 0 && !info.budget.zero) {
        throw new Invalid("Budget 0 is invalid. This model only works in thinking mode.");
      }
      if (b !== -1 && b !== 0 && (b < info.budget.min || b > info.budget.max)) {
        throw new Invalid(
          `The thinking budget ${b} is invalid. Please choose a value between ${info.budget.min} and ${info.budget.max}.`,
        );
      }
    } else if (!info.levels) {
      throw new Invalid("Thinking is not supported for this model.");
    }
  }
  for (const k of ["presencePenalty", "frequencyPenalty"]) {
    if (gc[k] !== undefined && gc[k] !== 0 && !info.penalties) {
      throw new Invalid(`Penalty is not enabled for models/${model}`);
    }
  }
  if (gc.topK !== undefined) {
    const k = Number(gc.topK);
    if (!Number.isInteger(k) || k < 1 || k > info.topK) {
      throw new Invalid(
        `Unable to submit request because it has a topK value of ${k} but the supported range is from 1 (inclusive) to ${
          info.topK + 1
        } (exclusive). Update the value and try again.`,
      );
    }
  }
  const n = Number(gc.candidateCount ?? 1);
  if (n > 1 && info.candidates <= 1) {
    throw new Invalid("Multiple candidates is not enabled for this model");
  }
  if (n > info.candidates) {
    throw new Invalid(
      `Unable to submit request because it has a candidateCount value of ${n} but the supported range is from 1 (inclusive) to ${
        info.candidates + 1
      } (exclusive).`,
    );
  }
}
