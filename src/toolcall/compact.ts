/**
 * The tool list of the emulation's prompt, compacted: agentic clients offer a score of tools with
 * descriptions of thousands of characters (Claude Code's fill about 7,000 tokens), more than a web
 * model's prompt should spend on them. Every tool and every parameter name is kept, with its
 * type, enum, required list and nesting; what goes:
 *
 * - a tool's description beyond its first paragraph, and beyond `TOOL_CHARS` characters (cut at a
 *   sentence end when one is near);
 * - a parameter's description beyond its first sentence and `PARAM_CHARS` characters;
 * - schema keys that do not help the model write arguments (`$schema`, `additionalProperties`,
 *   `title`, `examples`, `$comment`, `$id`, long `default`s, bounds that are only the largest safe
 *   integer).
 *
 * The arguments the model writes are still checked against the full schema (`calls.ts`).
 *
 * @module
 */
import type { Tool } from "../openai/schema.ts";
import { isObject } from "../util/json.ts";

/** Most characters of a tool's description. */
const TOOL_CHARS = 240;
/** Most characters of a parameter's description. */
const PARAM_CHARS = 90;
/** Longest `default` kept, as JSON. */
const DEFAULT_CHARS = 40;

/** Schema keys dropped everywhere. */
const DROPPED: ReadonlySet<string> = new Set([
  "$schema",
  "$id",
  "$comment",
  "title",
  "examples",
  "additionalProperties",
  "propertyNames",
  "deprecated",
  "readOnly",
  "writeOnly",
]);

/** Bounds that say nothing (JavaScript's safe-integer range, as zod writes them). */
const NO_BOUND = Number.MAX_SAFE_INTEGER;

/** Keys whose value is a map of names to schemas. */
const SCHEMA_MAPS: ReadonlySet<string> = new Set([
  "properties",
  "$defs",
  "definitions",
  "patternProperties",
]);

/** Keys whose value is a schema or a list of schemas. */
const SCHEMA_KEYS: ReadonlySet<string> = new Set([
  "items",
  "prefixItems",
  "anyOf",
  "oneOf",
  "allOf",
  "not",
  "contains",
  "if",
  "then",
  "else",
]);

/**
 * `text` cut to at most `max` characters: at the end of a sentence when one ends in the second
 * half of that span, else at a word, with an ellipsis.
 */
export function shorten(text: string, max: number): string {
  const t = text.trim().replace(/\s+/g, " ");
  if (t.length <= max) return t;
  const span = t.slice(0, max);
  const sentence = Math.max(span.lastIndexOf(". "), span.lastIndexOf(".\u00a0"));
  if (sentence >= max / 2) return span.slice(0, sentence + 1);
  const word = span.lastIndexOf(" ");
  return `${span.slice(0, word > max / 2 ? word : max - 1).trimEnd()}…`;
}

function firstParagraph(text: string): string {
  const t = text.trim();
  const end = t.search(/\n\s*\n/);
  return end > 0 ? t.slice(0, end) : t;
}

function firstSentence(text: string): string {
  const t = firstParagraph(text).replace(/\s+/g, " ");
  const m = /^.+?[.!?](?=\s|$)/.exec(t);
  return m ? m[0] : t;
}

/** A JSON Schema with only what helps the model write arguments. */
export function compactSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(compactSchema);
  if (!isObject(schema)) return schema;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (DROPPED.has(key)) continue;
    if (key === "description" && typeof value === "string") {
      const d = shorten(firstSentence(value), PARAM_CHARS);
      if (d !== "") out.description = d;
    } else if (key === "default") {
      if (JSON.stringify(value).length <= DEFAULT_CHARS) out.default = value;
    } else if (
      (key === "maximum" || key === "minimum" || key === "exclusiveMinimum" ||
        key === "exclusiveMaximum") && typeof value === "number" && Math.abs(value) >= NO_BOUND
    ) {
      continue;
    } else if (SCHEMA_MAPS.has(key) && isObject(value)) {
      out[key] = Object.fromEntries(
        Object.entries(value).map(([name, s]) => [name, compactSchema(s)]),
      );
    } else if (SCHEMA_KEYS.has(key)) {
      out[key] = compactSchema(value);
    } else out[key] = value;
  }
  return out;
}

/** One tool as the prompt lists it: name, short description, compact parameters. */
export function compactTool(t: Tool): Record<string, unknown> {
  const f = t.function;
  const line: Record<string, unknown> = { name: f.name };
  const description = f.description ? shorten(firstParagraph(f.description), TOOL_CHARS) : "";
  if (description) line.description = description;
  line.parameters = compactSchema(f.parameters ?? { type: "object", properties: {} });
  return line;
}
