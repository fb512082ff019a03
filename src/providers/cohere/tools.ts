/**
 * OpenAI tools as Cohere v2 tools: the same `{type: "function", function: {name, description,
 * parameters}}` shape with JSON Schema parameters, less what v2 does not take (`strict`, which v2
 * puts in the request's `strict_tools`, and a schema's `$schema`). Names Cohere refuses are
 * mapped (`ToolNames`).
 *
 * @module
 */
import type { Tool } from "../../openai/schema.ts";
import type { ToolNames } from "../gemini/names.ts";

type Json = Record<string, unknown>;

function isObj(v: unknown): v is Json {
  return !!v && typeof v === "object" && !Array.isArray(v);
}

/** One OpenAI tool as a Cohere v2 tool. */
export function toCohereTool(t: Tool, names: ToolNames): Json {
  const params = isObj(t.function.parameters) ? { ...t.function.parameters } : {};
  delete params.$schema;
  // v2 requires parameters; a function without any takes an empty object.
  if (params.type === undefined) params.type = "object";
  if (params.type === "object" && !isObj(params.properties)) params.properties = {};
  const fn: Json = { name: names.upstream(t.function.name), parameters: params };
  if (t.function.description) fn.description = t.function.description;
  return { type: "function", function: fn };
}
