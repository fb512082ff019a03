/**
 * OpenAI messages as Cohere v2 `messages`: roles `system`, `user`, `assistant`, `tool`. Assistant
 * tool calls keep their ids (the text before them is the call's `tool_plan`), tool results are
 * matched to their call by `tool_call_id` (a result that answers no earlier call is a 400 naming
 * the field), images go as `image_url` blocks to the models that read them.
 *
 * @module
 */
import { invalidRequest } from "../../openai/errors.ts";
import { contentText } from "../../openai/response.ts";
import type { Message } from "../../openai/schema.ts";
import type { ToolNames } from "../gemini/names.ts";
import { toolArguments } from "../params.ts";
import { takesImages } from "./models.ts";

type Json = Record<string, unknown>;

/**
 * A tool's output as v2 takes it: a JSON object stays the JSON string it is, a list of objects
 * becomes one document block each (citable), anything else one text block.
 */
export function toolContent(text: string): string | Json[] {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return [{ type: "text", text }];
  }
  if (v && typeof v === "object" && !Array.isArray(v)) return text;
  if (
    Array.isArray(v) && v.length > 0 &&
    v.every((o) => o && typeof o === "object" && !Array.isArray(o))
  ) {
    return v.map((data) => ({ type: "document", document: { data } }));
  }
  return [{ type: "text", text }];
}

function userContent(
  m: Extract<Message, { role: "user" }>,
  i: number,
  model: string,
): string | Json[] {
  if (typeof m.content === "string") return m.content;
  const blocks: Json[] = [];
  for (const p of m.content) {
    if (p.type === "text") {
      if (p.text !== "") blocks.push({ type: "text", text: p.text });
    } else if (p.type === "image_url") {
      if (!takesImages(model)) {
        throw invalidRequest(
          `messages[${i}].content: ${model} does not read images (command-a-vision-07-2025, command-a-plus-05-2026 and c4ai-aya-vision-32b do)`,
          `messages[${i}].content`,
        );
      }
      const image: Json = { url: p.image_url.url };
      const detail = (p.image_url as { detail?: string }).detail;
      if (detail) image.detail = detail;
      blocks.push({ type: "image_url", image_url: image });
    } else {
      throw invalidRequest(
        `messages[${i}].content: Cohere takes text and images, not ${p.type}`,
        `messages[${i}].content`,
      );
    }
  }
  return blocks.every((b) => b.type === "text") ? blocks.map((b) => b.text).join("\n") : blocks;
}

/** The v2 messages of a conversation. */
export function toCohereMessages(
  messages: readonly Message[],
  model: string,
  names: ToolNames,
): Json[] {
  const out: Json[] = [];
  /** Call ids of earlier assistant messages; the newest `function_call` id per function name. */
  const calls = new Set<string>();
  const functionCalls = new Map<string, string>();
  for (const [i, m] of messages.entries()) {
    switch (m.role) {
      case "system":
      case "developer": {
        const text = contentText(m.content);
        if (text.trim()) out.push({ role: "system", content: text });
        break;
      }
      case "user": {
        const content = userContent(m, i, model);
        if (content.length > 0) out.push({ role: "user", content });
        break;
      }
      case "assistant": {
        const entry: Json = { role: "assistant" };
        const text = contentText(m.content);
        const toolCalls = (m.tool_calls ?? []).map((tc, j) => {
          const id = tc.id || `call_${i}_${j}`;
          calls.add(id);
          const args = toolArguments(
            tc.function.arguments,
            `messages[${i}].tool_calls[${j}].function.arguments`,
          );
          return {
            id,
            type: "function",
            function: { name: names.upstream(tc.function.name), arguments: JSON.stringify(args) },
          };
        });
        if (m.function_call) {
          const id = `call_${i}_fn`;
          calls.add(id);
          functionCalls.set(m.function_call.name, id);
          const args = toolArguments(
            m.function_call.arguments,
            `messages[${i}].function_call.arguments`,
          );
          toolCalls.push({
            id,
            type: "function",
            function: {
              name: names.upstream(m.function_call.name),
              arguments: JSON.stringify(args),
            },
          });
        }
        if (toolCalls.length > 0) {
          entry.tool_calls = toolCalls;
          // v2 keeps the words before a call as its plan (what its stream sends as such).
          const plan = m.reasoning_content || text;
          if (plan.trim()) entry.tool_plan = plan;
        } else if (text.trim()) {
          entry.content = text;
        } else {
          break;
        }
        out.push(entry);
        break;
      }
      case "tool": {
        if (!calls.has(m.tool_call_id)) {
          throw invalidRequest(
            `messages[${i}].tool_call_id '${m.tool_call_id}' matches no tool call of an earlier assistant message`,
            `messages[${i}].tool_call_id`,
          );
        }
        out.push({
          role: "tool",
          tool_call_id: m.tool_call_id,
          content: toolContent(contentText(m.content)),
        });
        break;
      }
      case "function": {
        const id = functionCalls.get(m.name);
        if (!id) {
          throw invalidRequest(
            `messages[${i}]: the result of function '${m.name}' follows no call of it`,
            `messages[${i}].name`,
          );
        }
        out.push({ role: "tool", tool_call_id: id, content: toolContent(m.content ?? "") });
        break;
      }
    }
  }
  if (!out.some((m) => m.role !== "system")) {
    // Only system text: Cohere answers a user turn, so the text is asked as one.
    const text = out.map((m) => m.content).join("\n\n");
    return [{ role: "user", content: text || " " }];
  }
  return out;
}
