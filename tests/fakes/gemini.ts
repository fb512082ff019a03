/**
 * A fake of Google's Gemini API (generativelanguage v1beta) that answers like the real one:
 *
 * - `POST /v1beta/models/{model}:streamGenerateContent?alt=sse` (SSE, one compact
 *   `GenerateContentResponse` per `data:` line, events separated by CRLF CRLF as Google sends
 *   them; without `alt=sse` a JSON array, as the real API streams by default),
 *   `POST /v1beta/models/{model}:generateContent` (one pretty-printed JSON),
 *   `POST /v1beta/models/{model}:batchEmbedContents`, `GET /v1beta/models`.
 * - The key in `x-goog-api-key` (or the `key` query parameter). None: 403 PERMISSION_DENIED; a
 *   wrong one: 400 INVALID_ARGUMENT with the `API_KEY_INVALID` ErrorInfo, as Google answers.
 * - The request is checked as the API checks it: known fields only ("Invalid JSON payload
 *   received. Unknown name ..."), roles `user`/`model`, non-empty parts with one data field each,
 *   function declarations (names, OpenAPI-subset schemas, non-empty OBJECT properties), function
 *   response counts, safety settings, tool config, and for Gemini 3 models the thought signature
 *   of the first function call of each step of the current turn.
 * - Errors are Google's `{"error":{"code","message","status","details"}}`; 429 carries a
 *   `RetryInfo` detail (`retryDelay`) and no Retry-After header.
 *
 * What the model answers is scripted per test with `respond`.
 *
 * @module
 */
import { json, type Recorded, serveFake, sleep } from "./serve.ts";
import { loadTokenizer } from "../../src/util/tokens.ts";

// Counting tokens needs the tokenizer loaded (the server loads it on its first request).
await loadTokenizer();

/** A part of a scripted answer. */
export type FakePart =
  | { text: string; thought?: boolean; thoughtSignature?: string }
  | {
    functionCall: { name: string; args?: Record<string, unknown>; id?: string };
    thoughtSignature?: string;
  };

/** What the fake model answers to one request. */
export interface GeminiScript {
  /** The answer's text (split into pieces when streamed). */
  text?: string;
  /** Thought summary text (sent only when `includeThoughts` is on). */
  thought?: string;
  /** Function calls after the text. */
  functionCalls?: {
    name: string;
    args?: Record<string, unknown>;
    id?: string;
    thoughtSignature?: string;
  }[];
  /** Raw parts instead of text/thought/functionCalls. */
  parts?: FakePart[];
  finishReason?: string;
  /** Answer with an error status instead. */
  error?: { code: number; message: string; status: string; reason?: string; retryDelay?: string };
  /** Send this error object inside the stream after `after` chunks. */
  streamError?: { after: number; code: number; message: string; status: string };
  /** The prompt was blocked (no candidates). */
  blockReason?: string;
  /** Characters per streamed text piece (default 5). */
  pieceSize?: number;
  delayMs?: number;
  /** Never answer (until the client leaves). */
  hang?: boolean;
  usage?: Record<string, number>;
}

/** Options of the fake. */
export interface FakeGeminiOptions {
  /** Valid API keys. */
  keys?: string[];
  /** Model ids that exist (without `models/`). */
  models?: string[];
}

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

/** A running fake Gemini API. */
export interface FakeGemini {
  origin: string;
  requests: Recorded[];
  /** Parsed bodies of generate requests (stream or not). */
  bodies(): GeminiBody[];
  respond: (body: GeminiBody, rec: Recorded) => GeminiScript;
  close(): Promise<void>;
}

const DEFAULT_MODELS = [
  "gemini-1.5-flash-latest",
  "gemini-1.5-pro-latest",
  "gemini-2.0-flash",
  "gemini-2.5-flash",
  "gemini-2.5-pro",
  "gemini-3-pro-preview",
  "text-embedding-004",
  "gemini-embedding-001",
];

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

/** Google's error body. */
export function googleError(
  code: number,
  message: string,
  status: string,
  details: unknown[] = [],
): Response {
  const error: Record<string, unknown> = { code, message, status };
  if (details.length > 0) error.details = details;
  return json({ error }, code);
}

class Invalid extends Error {}

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
function validate(body: GeminiBody, model: string): void {
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
  if (model.startsWith("gemini-3")) {
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

function lastUserText(body: GeminiBody): string {
  for (let i = body.contents.length - 1; i >= 0; i--) {
    const c = body.contents[i];
    if (c.role === "model") continue;
    const t = c.parts.filter((p) => typeof p.text === "string").map((p) => p.text).join(" ");
    if (t) return t;
  }
  return "";
}

function pieces(text: string, size: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

function tokensOf(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

/** Starts the fake on 127.0.0.1 with a random port. */
export async function startFakeGemini(options: FakeGeminiOptions = {}): Promise<FakeGemini> {
  const models = options.models ?? DEFAULT_MODELS;
  const keys = options.keys ?? ["AIzaSyFakeKey0000000000000000000000001"];
  let seq = 0;
  const state: { respond: FakeGemini["respond"] } = {
    respond: (body) => ({ text: `Hello! You said: ${lastUserText(body)}` }),
  };

  const fake = await serveFake(async (req, rec) => {
    const key = req.headers.get("x-goog-api-key") ?? rec.query.get("key");
    if (!key) {
      return googleError(
        403,
        "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
        "PERMISSION_DENIED",
      );
    }
    if (!keys.includes(key)) {
      return googleError(
        400,
        "API key not valid. Please pass a valid API key.",
        "INVALID_ARGUMENT",
        [
          {
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            reason: "API_KEY_INVALID",
            domain: "googleapis.com",
            metadata: { service: "generativelanguage.googleapis.com" },
          },
        ],
      );
    }
    if (req.method === "GET" && rec.path === "/v1beta/models") {
      return json({
        models: models.map((m) => ({
          name: `models/${m}`,
          displayName: m,
          supportedGenerationMethods: m.includes("embedding")
            ? ["embedContent", "batchEmbedContents"]
            : ["generateContent", "countTokens"],
        })),
      });
    }
    const m = rec.path.match(/^\/v1beta\/models\/([^/:]+):([A-Za-z]+)$/);
    if (req.method !== "POST" || !m) {
      return googleError(404, `Requested entity was not found.`, "NOT_FOUND");
    }
    const [, model, method] = m;
    if (!models.includes(model)) {
      return googleError(
        404,
        `models/${model} is not found for API version v1beta, or is not supported for ${method}. Call ListModels to see the list of available models and their supported methods.`,
        "NOT_FOUND",
      );
    }
    if (
      (req.headers.get("content-type") ?? "").split(";")[0].trim().toLowerCase() !==
        "application/json"
    ) {
      // Google's front end reads a body of any other type as form fields (query parameters), so
      // the whole JSON text becomes one unknown parameter name.
      const name = rec.body.split("&")[0].split("=")[0];
      const message =
        `Invalid JSON payload received. Unknown name "${name}": Cannot bind query parameter. Field '${name}' could not be found in request message.`;
      return googleError(400, message, "INVALID_ARGUMENT", [
        {
          "@type": "type.googleapis.com/google.rpc.BadRequest",
          fieldViolations: [{ description: message }],
        },
      ]);
    }
    if (rec.json === undefined || typeof rec.json !== "object") {
      return googleError(
        400,
        `Invalid JSON payload received. Unexpected token.\n${rec.body.slice(0, 20)}\n^`,
        "INVALID_ARGUMENT",
      );
    }
    if (method === "batchEmbedContents") return embed(model, rec.json as Record<string, unknown>);
    if (method !== "generateContent" && method !== "streamGenerateContent") {
      return googleError(404, `Method not found.`, "NOT_FOUND");
    }
    const body = rec.json as GeminiBody;
    try {
      validate(body, model);
    } catch (err) {
      if (err instanceof Invalid) return googleError(400, err.message, "INVALID_ARGUMENT");
      throw err;
    }
    const script = state.respond(body, rec);
    if (script.hang) {
      await rec.aborted;
      return new Response(null, { status: 499 });
    }
    if (script.error) {
      const e = script.error;
      const details: unknown[] = [];
      if (e.reason) {
        details.push({
          "@type": "type.googleapis.com/google.rpc.ErrorInfo",
          reason: e.reason,
          domain: "googleapis.com",
        });
      }
      if (e.retryDelay) {
        details.push({
          "@type": "type.googleapis.com/google.rpc.RetryInfo",
          retryDelay: e.retryDelay,
        });
      }
      return googleError(e.code, e.message, e.status, details);
    }

    const chunks = buildChunks(body, model, script, ++seq);
    if (method === "generateContent") return json(merge(chunks), 200);
    const sse = rec.query.get("alt") === "sse";
    const encoder = new TextEncoder();
    const stream = new ReadableStream<Uint8Array>({
      async start(controller) {
        try {
          if (!sse) controller.enqueue(encoder.encode("["));
          for (let i = 0; i < chunks.length; i++) {
            if (script.delayMs) await sleep(script.delayMs);
            if (script.streamError && i === script.streamError.after) {
              const { code, message, status } = script.streamError;
              const err = JSON.stringify({ error: { code, message, status } });
              controller.enqueue(encoder.encode(sse ? `data: ${err}\r\n\r\n` : `${err}]`));
              controller.close();
              return;
            }
            const text = JSON.stringify(chunks[i]);
            controller.enqueue(
              encoder.encode(sse ? `data: ${text}\r\n\r\n` : `${i > 0 ? ",\r\n" : ""}${text}`),
            );
          }
          if (!sse) controller.enqueue(encoder.encode("]"));
          controller.close();
        } catch {
          // The client went away.
        }
      },
    });
    return new Response(stream, {
      headers: {
        "content-type": sse ? "text/event-stream" : "application/json; charset=UTF-8",
        "x-content-type-options": "nosniff",
      },
    });
  });

  return {
    origin: fake.origin,
    requests: fake.requests,
    bodies: () =>
      fake.requests
        .filter((r) => /:(stream)?[gG]enerateContent$/.test(r.path))
        .map((r) => r.json as GeminiBody),
    get respond() {
      return state.respond;
    },
    set respond(fn) {
      state.respond = fn;
    },
    close: fake.close,
  };
}

type Chunk = Record<string, unknown>;

/** The stream chunks of an answer: thought pieces, text pieces, function calls, then finish. */
function buildChunks(body: GeminiBody, model: string, s: GeminiScript, seq: number): Chunk[] {
  const responseId = `fakeResp${seq}`;
  const promptTokens = tokensOf(JSON.stringify(body.contents));
  if (s.blockReason) {
    return [{
      promptFeedback: { blockReason: s.blockReason },
      usageMetadata: { promptTokenCount: promptTokens, totalTokenCount: promptTokens },
      modelVersion: model,
      responseId,
    }];
  }
  const includeThoughts =
    (body.generationConfig?.thinkingConfig as { includeThoughts?: boolean } | undefined)
      ?.includeThoughts === true;
  const size = s.pieceSize ?? 5;
  const n = Number(body.generationConfig?.candidateCount ?? 1);
  const perCandidate: FakePart[][] = [];
  for (let c = 0; c < n; c++) {
    const parts: FakePart[] = [];
    if (s.parts) {
      parts.push(...s.parts);
    } else {
      if (s.thought && includeThoughts) {
        for (const p of pieces(s.thought, size)) parts.push({ text: p, thought: true });
      }
      const text = n > 1 && s.text ? `${s.text} #${c}` : s.text ?? "";
      for (const p of pieces(text, size)) parts.push({ text: p });
      for (const fc of s.functionCalls ?? []) {
        const part: FakePart = {
          functionCall: { name: fc.name, args: fc.args ?? {}, ...(fc.id ? { id: fc.id } : {}) },
        };
        if (fc.thoughtSignature) part.thoughtSignature = fc.thoughtSignature;
        parts.push(part);
      }
    }
    perCandidate.push(parts);
  }
  const thoughts = tokensOf(s.thought ?? "");
  const completion = tokensOf(perCandidate.flat().map((p) => JSON.stringify(p)).join(""));
  const usage = {
    promptTokenCount: promptTokens,
    candidatesTokenCount: completion,
    totalTokenCount: promptTokens + completion + (includeThoughts && s.thought ? thoughts : 0),
    ...(includeThoughts && s.thought ? { thoughtsTokenCount: thoughts } : {}),
    promptTokensDetails: [{ modality: "TEXT", tokenCount: promptTokens }],
    ...s.usage,
  };
  const chunks: Chunk[] = [];
  const longest = Math.max(1, ...perCandidate.map((p) => p.length));
  for (let i = 0; i < longest; i++) {
    const candidates = perCandidate.flatMap((parts, index) =>
      i < parts.length ? [{ content: { parts: [parts[i]], role: "model" }, index }] : []
    );
    const last = i === longest - 1;
    const chunk: Chunk = {
      candidates: last
        ? perCandidate.map((parts, index) => ({
          content: { parts: i < parts.length ? [parts[i]] : [], role: "model" },
          finishReason: s.finishReason ?? "STOP",
          index,
        }))
        : candidates,
      usageMetadata: last
        ? usage
        : { promptTokenCount: promptTokens, totalTokenCount: promptTokens },
      modelVersion: model,
      responseId,
    };
    chunks.push(chunk);
  }
  return chunks;
}

/** One `generateContent` answer from the stream chunks (parts concatenated, texts joined). */
function merge(chunks: Chunk[]): Chunk {
  const last = chunks[chunks.length - 1];
  if (!last.candidates) return last;
  type Cand = { content: { parts: FakePart[]; role: string }; index: number };
  const byIndex = new Map<number, FakePart[]>();
  for (const c of chunks) {
    for (const cand of (c.candidates as Cand[])) {
      const parts = byIndex.get(cand.index) ?? [];
      for (const p of cand.content.parts) {
        const prev = parts[parts.length - 1];
        if (
          prev && "text" in prev && "text" in p && !!prev.thought === !!p.thought &&
          !p.thoughtSignature
        ) {
          parts[parts.length - 1] = { ...prev, text: prev.text + p.text };
        } else {
          parts.push({ ...p });
        }
      }
      byIndex.set(cand.index, parts);
    }
  }
  return {
    candidates: (last.candidates as (Cand & { finishReason: string })[]).map((c) => ({
      content: { parts: byIndex.get(c.index) ?? [], role: "model" },
      finishReason: c.finishReason,
      index: c.index,
    })),
    usageMetadata: last.usageMetadata,
    modelVersion: last.modelVersion,
    responseId: last.responseId,
  };
}

function embed(model: string, body: Record<string, unknown>): Response {
  const requests = body.requests as
    | { model?: string; content?: { parts?: { text?: string }[] }; outputDimensionality?: number }[]
    | undefined;
  if (!Array.isArray(requests) || requests.length === 0) {
    return googleError(
      400,
      "* BatchEmbedContentsRequest.requests: requests is not specified",
      "INVALID_ARGUMENT",
    );
  }
  if (requests.length > 100) {
    return googleError(
      400,
      "* BatchEmbedContentsRequest.requests: at most 100 requests can be in one batch",
      "INVALID_ARGUMENT",
    );
  }
  const out = [];
  for (const [i, r] of requests.entries()) {
    if (r.model !== `models/${model}`) {
      return googleError(
        400,
        `* BatchEmbedContentsRequest.requests[${i}].model: model must be the same as the model in the URL (models/${model}), got ${r.model}`,
        "INVALID_ARGUMENT",
      );
    }
    const text = (r.content?.parts ?? []).map((p) => p.text ?? "").join("");
    if (!text) {
      return googleError(
        400,
        `* BatchEmbedContentsRequest.requests[${i}].content.parts: contents.parts must not be empty.`,
        "INVALID_ARGUMENT",
      );
    }
    const dims = r.outputDimensionality ?? 768;
    out.push({
      values: Array.from({ length: dims }, (_, d) => {
        let h = 2166136261 ^ d;
        for (let j = 0; j < text.length; j++) h = Math.imul(h ^ text.charCodeAt(j), 16777619);
        return ((h >>> 0) % 2000) / 1000 - 1;
      }),
    });
  }
  return json({ embeddings: out });
}
