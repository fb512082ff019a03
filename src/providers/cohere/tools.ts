/**
 * OpenAI tools as Cohere v1 tools: JSON Schema parameters become `parameter_definitions` with
 * Python type names (`str`, `int`, `float`, `bool`, `List[str]`, `Dict`), as Cohere's v1 API
 * documents them. Nested object structure and enums, which v1 cannot type, are written into the
 * description so the model still sees them.
 *
 * @module
 */
import type { Tool } from "../../openai/schema.ts";
import type { ToolNames } from "../gemini/names.ts";

type Json = Record<string, unknown>;

function isObj(v: unknown): v is Json {
  return !!v && typeof v === "object" && !Array.isArray(v);
}

function typeOf(s: Json): string | undefined {
  if (Array.isArray(s.type)) return s.type.map(String).find((t) => t !== "null");
  if (typeof s.type === "string") return s.type;
  const alt = (Array.isArray(s.anyOf) ? s.anyOf : Array.isArray(s.oneOf) ? s.oneOf : [])
    .filter(isObj).find((a) => a.type !== "null");
  if (alt) return typeOf(alt);
  if (isObj(s.properties)) return "object";
  if (s.items !== undefined) return "array";
  return undefined;
}

/** The Python type name Cohere v1 takes for a JSON Schema. */
export function pythonType(s: unknown, depth = 0): string {
  if (!isObj(s) || depth > 4) return "str";
  switch (typeOf(s)) {
    case "string":
      return "str";
    case "integer":
      return "int";
    case "number":
      return "float";
    case "boolean":
      return "bool";
    case "array":
      return isObj(s.items) && typeOf(s.items) ? `List[${pythonType(s.items, depth + 1)}]` : "List";
    case "object":
      return isObj(s.additionalProperties) && !isObj(s.properties)
        ? `Dict[str, ${pythonType(s.additionalProperties, depth + 1)}]`
        : "Dict";
    default:
      return "str";
  }
}

function describe(s: Json): string {
  const parts: string[] = [];
  if (typeof s.description === "string" && s.description) parts.push(s.description);
  if (Array.isArray(s.enum)) {
    parts.push(`One of: ${s.enum.map((v) => JSON.stringify(v)).join(", ")}.`);
  }
  if (isObj(s.properties) || (isObj(s.items) && isObj(s.items.properties))) {
    const { description: _d, ...shape } = s;
    parts.push(`JSON schema: ${JSON.stringify(shape)}`);
  }
  return parts.join(" ");
}

/** One OpenAI tool as a Cohere v1 tool. */
export function toCohereTool(t: Tool, names: ToolNames): Json {
  const defs: Json = {};
  const params = t.function.parameters;
  if (isObj(params) && isObj(params.properties)) {
    const required = new Set(Array.isArray(params.required) ? params.required.map(String) : []);
    for (const [name, schema] of Object.entries(params.properties)) {
      const s = isObj(schema) ? schema : {};
      const d: Json = { type: pythonType(s), required: required.has(name) };
      const text = describe(s);
      if (text) d.description = text;
      defs[name] = d;
    }
  }
  return {
    name: names.upstream(t.function.name),
    // Cohere requires a description.
    description: t.function.description || t.function.name,
    parameter_definitions: defs,
  };
}
