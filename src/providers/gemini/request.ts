/**
 * An OpenAI chat request as a Gemini `GenerateContentRequest` (`toGeminiRequest`): system
 * messages become `systemInstruction`; user and assistant messages `user`/`model` turns (same-role
 * neighbours merged, a user turn first); images `inlineData`; assistant tool calls `functionCall`
 * parts (with their thought signatures); tool results `functionResponse` parts named through
 * `tool_call_id`; parameters `generationConfig` (`generation.ts`); tools one
 * `functionDeclarations` list.
 *
 * @module
 */
import type { Config } from "../../config/schema.ts";
import { invalidRequest } from "../../openai/errors.ts";
import { callNames, contentText } from "../../openai/response.ts";
import type { ChatRequest, Message } from "../../openai/schema.ts";
import type { ChatContext } from "../types.ts";
import { fetchImage, parseDataUrl } from "./images.ts";
import type { Logger } from "../../util/log.ts";
import { toolArguments } from "../params.ts";
import { generationConfig } from "./generation.ts";
import { isGemini3 } from "./models.ts";
import { GEMINI_NAMES, ToolNames } from "./names.ts";
import { toGeminiParameters } from "./schema.ts";
import type { SignatureCache } from "./signatures.ts";

/** A part of a Gemini content. */
export interface GeminiPart {
  text?: string;
  thought?: boolean;
  thoughtSignature?: string;
  inlineData?: { mimeType: string; data: string };
  functionCall?: { name: string; args?: Record<string, unknown>; id?: string };
  functionResponse?: { name: string; response: Record<string, unknown>; id?: string };
  [k: string]: unknown;
}

/** A Gemini content (one turn). */
export interface GeminiContent {
  role: "user" | "model";
  parts: GeminiPart[];
}

/** The request body and what the answer's mapping needs. */
export interface GeminiRequest {
  body: Record<string, unknown>;
  names: ToolNames;
  /** False when the client asked for one tool call at most (`parallel_tool_calls: false`). */
  parallel: boolean;
  /** The `topK` the client asked for, clamped to the model's limit once it is known. */
  topK?: number;
}

/**
 * The placeholder signature for function calls Gemini did not produce (another vendor's turns,
 * a lost signature): what widely used clients send, citing Google's thought-signatures page.
 */
export const SKIP_SIGNATURE = "skip_thought_signature_validator";

const CATEGORIES = ["HARASSMENT", "HATE_SPEECH", "SEXUALLY_EXPLICIT", "DANGEROUS_CONTENT"];

/** `safetySettings` from `gemini.safes` (default: the four categories at BLOCK_NONE). */
export function safetySettings(config: Config): { category: string; threshold: string }[] {
  const safes = config.gemini.safes.length > 0
    ? config.gemini.safes
    : CATEGORIES.map((category) => ({ category, threshold: "BLOCK_NONE" }));
  return safes.map((s) => ({
    category: s.category.startsWith("HARM_CATEGORY_")
      ? s.category
      : `HARM_CATEGORY_${s.category.toUpperCase()}`,
    threshold: s.threshold.toUpperCase(),
  }));
}

/** The Gemini thought signature a client sent back on a tool call, if any. */
function clientSignature(tc: Record<string, unknown>): string | undefined {
  const extra = tc.extra_content as { google?: { thought_signature?: unknown } } | undefined;
  const sig = extra?.google?.thought_signature;
  return typeof sig === "string" && sig !== "" ? sig : undefined;
}

/** A tool result as the JSON object `functionResponse.response` must be. */
export function responseObject(text: string): Record<string, unknown> {
  try {
    const v = JSON.parse(text);
    if (v && typeof v === "object" && !Array.isArray(v)) return v;
    return { result: v };
  } catch {
    return { result: text };
  }
}

function push(contents: GeminiContent[], role: GeminiContent["role"], parts: GeminiPart[]) {
  if (parts.length === 0) return;
  const last = contents[contents.length - 1];
  if (last && last.role === role) last.parts.push(...parts);
  else contents.push({ role, parts });
}

/** Options `toGeminiRequest` needs beyond the request. */
export interface BuildOptions {
  config: Config;
  /** The model id the API takes. */
  model: string;
  signatures: SignatureCache;
  /** Fetches an http(s) image URL (through the provider's upstream client). */
  upstream?: ChatContext["upstream"];
  signal?: AbortSignal;
  log?: Logger;
}

/** Builds the `generateContent` body of `req`. */
export async function toGeminiRequest(req: ChatRequest, o: BuildOptions): Promise<GeminiRequest> {
  const names = new ToolNames(GEMINI_NAMES);
  const toolOfCall = callNames(req.messages);
  const system: string[] = [];
  const contents: GeminiContent[] = [];
  for (const [i, m] of req.messages.entries()) {
    switch (m.role) {
      case "system":
      case "developer": {
        const t = contentText(m.content).trim();
        if (t) system.push(t);
        break;
      }
      case "user":
        push(contents, "user", await userParts(m, i, o));
        break;
      case "assistant":
        push(contents, "model", assistantParts(m, i, names, o.signatures));
        break;
      case "tool": {
        const own = m.name;
        const name = toolOfCall.get(m.tool_call_id) ?? (typeof own === "string" ? own : undefined);
        if (!name) {
          throw invalidRequest(
            `messages[${i}].tool_call_id '${m.tool_call_id}' matches no tool call of an earlier assistant message`,
            `messages[${i}].tool_call_id`,
          );
        }
        push(contents, "user", [{
          functionResponse: {
            name: names.upstream(name),
            response: responseObject(contentText(m.content)),
          },
        }]);
        break;
      }
      case "function":
        push(contents, "user", [{
          functionResponse: {
            name: names.upstream(m.name),
            response: responseObject(m.content ?? ""),
          },
        }]);
        break;
    }
  }
  if (isGemini3(o.model)) {
    // Gemini 3 refuses a function-call step of the current turn without a signature; calls
    // whose signature is lost carry the placeholder.
    for (const c of contents) {
      if (c.role !== "model") continue;
      const first = c.parts.find((p) => p.functionCall);
      if (first && !first.thoughtSignature) first.thoughtSignature = SKIP_SIGNATURE;
    }
  }
  const body: Record<string, unknown> = {};
  if (contents.length === 0) {
    // Only system text: Gemini needs at least one content.
    contents.push({ role: "user", parts: [{ text: system.join("\n\n") || " " }] });
    system.length = 0;
  } else if (contents[0].role !== "user") {
    // Gemini wants the conversation to open with a user turn.
    contents.unshift({ role: "user", parts: [{ text: "Hi" }] });
  }
  body.contents = contents;
  if (system.length > 0) body.systemInstruction = { parts: [{ text: system.join("\n\n") }] };
  const tools = req.tools ?? [];
  if (tools.length > 0) {
    body.tools = [{
      functionDeclarations: tools.map((t) => {
        const fd: Record<string, unknown> = { name: names.upstream(t.function.name) };
        if (t.function.description) fd.description = t.function.description;
        const params = toGeminiParameters(t.function.parameters);
        if (params) fd.parameters = params;
        return fd;
      }),
    }];
    const choice = req.tool_choice;
    if (choice === "none") body.toolConfig = { functionCallingConfig: { mode: "NONE" } };
    else if (choice === "required") body.toolConfig = { functionCallingConfig: { mode: "ANY" } };
    else if (choice === "auto") body.toolConfig = { functionCallingConfig: { mode: "AUTO" } };
    else if (choice && typeof choice === "object") {
      body.toolConfig = {
        functionCallingConfig: {
          mode: "ANY",
          allowedFunctionNames: [names.upstream(choice.function.name)],
        },
      };
    }
  }
  body.safetySettings = safetySettings(o.config);
  const gen = generationConfig(req, o.model, o.config, o.log);
  if (Object.keys(gen.config).length > 0) body.generationConfig = gen.config;
  return { body, names, parallel: req.parallel_tool_calls !== false, topK: gen.topK };
}

async function userParts(
  m: Extract<Message, { role: "user" }>,
  i: number,
  o: BuildOptions,
): Promise<GeminiPart[]> {
  if (typeof m.content === "string") return m.content === "" ? [] : [{ text: m.content }];
  const parts: GeminiPart[] = [];
  for (const p of m.content) {
    if (p.type === "text") {
      if (p.text !== "") parts.push({ text: p.text });
    } else if (p.type === "image_url") {
      const url = p.image_url.url;
      const data = parseDataUrl(url, `messages[${i}].content`);
      if (data) {
        parts.push({ inlineData: data });
      } else if (/^https?:\/\//i.test(url) && o.upstream) {
        parts.push({
          inlineData: await fetchImage(
            url,
            o.upstream("gemini", o.config.gemini.proxies),
            `messages[${i}].content`,
          ),
        });
      } else {
        throw invalidRequest(
          `messages[${i}].content: an image must be a data: URL or an http(s) URL`,
          `messages[${i}].content`,
        );
      }
    } else if (p.type === "input_audio") {
      const a = p.input_audio;
      parts.push({ inlineData: { mimeType: `audio/${a.format}`, data: a.data } });
    }
  }
  return parts;
}

function assistantParts(
  m: Extract<Message, { role: "assistant" }>,
  i: number,
  names: ToolNames,
  cache: SignatureCache,
): GeminiPart[] {
  const parts: GeminiPart[] = [];
  const text = contentText(m.content);
  if (text !== "") parts.push({ text });
  for (const [j, tc] of (m.tool_calls ?? []).entries()) {
    const part: GeminiPart = {
      functionCall: {
        name: names.upstream(tc.function.name),
        args: toolArguments(
          tc.function.arguments,
          `messages[${i}].tool_calls[${j}].function.arguments`,
        ),
      },
    };
    const sig = clientSignature(tc as Record<string, unknown>) ??
      (tc.id ? cache.get(tc.id) : undefined);
    if (sig) part.thoughtSignature = sig;
    parts.push(part);
  }
  if (m.function_call) {
    parts.push({
      functionCall: {
        name: names.upstream(m.function_call.name),
        args: toolArguments(m.function_call.arguments, `messages[${i}].function_call.arguments`),
      },
    });
  }
  return parts;
}
