/**
 * JSON Schemas (OpenAI tool parameters, `response_format` schemas) rewritten into the OpenAPI
 * subset Gemini's `Schema` takes: `$ref`/`$defs` inlined, `anyOf [X, null]` and `type: [X,
 * "null"]` turned into `nullable`, `const` into a one-value enum, `allOf` merged, keys Gemini
 * does not know dropped (it refuses a request with an unknown field), formats it refuses dropped,
 * `required` kept to declared properties, and types in Gemini's upper-case enum names. `integer`
 * stays `INTEGER`.
 *
 * @module
 */

type Json = Record<string, unknown>;

const KEEP: ReadonlySet<string> = new Set([
  "description",
  "title",
  "nullable",
  "minItems",
  "maxItems",
  "minProperties",
  "maxProperties",
  "minLength",
  "maxLength",
  "pattern",
  "minimum",
  "maximum",
  "example",
  "propertyOrdering",
]);

const TYPES: Record<string, string> = {
  string: "STRING",
  number: "NUMBER",
  integer: "INTEGER",
  boolean: "BOOLEAN",
  array: "ARRAY",
  object: "OBJECT",
  null: "NULL",
};

const FORMATS: Record<string, string[]> = {
  STRING: ["enum", "date-time"],
  INTEGER: ["int32", "int64"],
  NUMBER: ["float", "double"],
};

/** Nesting limit: recursive schemas are cut here into a plain object. */
const MAX_DEPTH = 24;

function isObj(v: unknown): v is Json {
  return !!v && typeof v === "object" && !Array.isArray(v);
}

/** Resolves a local `$ref` (`#/$defs/X`, `#/definitions/X`, any `#/a/b` pointer). */
function resolveRef(ref: string, root: Json): Json | undefined {
  if (!ref.startsWith("#")) return undefined;
  let node: unknown = root;
  for (const raw of ref.slice(1).split("/").filter(Boolean)) {
    const key = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (!isObj(node)) return undefined;
    node = node[key];
  }
  return isObj(node) ? node : undefined;
}

function isNullSchema(s: unknown): boolean {
  return isObj(s) && (s.type === "null" || (Array.isArray(s.type) && s.type.length === 1 &&
    s.type[0] === "null"));
}

/** Merges `allOf` members into one schema (properties and required unioned). */
function mergeAll(parts: Json[]): Json {
  const out: Json = {};
  const props: Json = {};
  const required = new Set<string>();
  for (const p of parts) {
    for (const [k, v] of Object.entries(p)) {
      if (k === "properties" && isObj(v)) Object.assign(props, v);
      else if (k === "required" && Array.isArray(v)) v.forEach((r) => required.add(String(r)));
      else if (!(k in out)) out[k] = v;
    }
  }
  if (Object.keys(props).length > 0) out.properties = props;
  if (required.size > 0) out.required = [...required];
  return out;
}

/** Turns a JSON Schema into Gemini's `Schema`. `root` resolves `$ref`s. */
export function toGeminiSchema(schema: unknown, root?: Json, depth = 0): Json {
  if (!isObj(schema)) return { type: "OBJECT" };
  const top = root ?? schema;
  if (depth > MAX_DEPTH) return { type: "OBJECT" };
  let s: Json = schema;
  // References and compositions first: the result is cleaned like any other schema.
  if (typeof s.$ref === "string") {
    const target = resolveRef(s.$ref, top);
    const { $ref: _r, ...rest } = s;
    s = target ? { ...target, ...rest } : rest;
    return toGeminiSchema(s, top, depth + 1);
  }
  if (Array.isArray(s.allOf)) {
    const { allOf, ...rest } = s;
    const parts = (allOf as unknown[]).filter(isObj).map((p) =>
      typeof p.$ref === "string" ? resolveRef(p.$ref, top) ?? {} : p
    );
    return toGeminiSchema(mergeAll([rest, ...parts]), top, depth + 1);
  }
  const out: Json = {};
  let nullable = s.nullable === true;
  const alternatives = (Array.isArray(s.anyOf) ? s.anyOf : Array.isArray(s.oneOf) ? s.oneOf : [])
    .filter(isObj);
  if (alternatives.length > 0) {
    const nonNull = alternatives.filter((a) => !isNullSchema(a));
    if (nonNull.length < alternatives.length) nullable = true;
    const { anyOf: _a, oneOf: _o, ...rest } = s;
    if (nonNull.length === 1) {
      // `anyOf: [X, null]`: X itself, nullable; the outer description wins.
      const inner = toGeminiSchema({ ...nonNull[0], ...stripEmpty(rest) }, top, depth + 1);
      if (nullable) inner.nullable = true;
      return inner;
    }
    if (nonNull.length > 1) {
      const cleaned = toGeminiSchema(rest, top, depth + 1);
      delete cleaned.type;
      cleaned.anyOf = nonNull.map((a) => toGeminiSchema(a, top, depth + 1));
      if (nullable) cleaned.nullable = true;
      return cleaned;
    }
  }
  let type: string | undefined;
  if (Array.isArray(s.type)) {
    const types = s.type.map(String);
    if (types.includes("null")) nullable = true;
    type = types.find((t) => t !== "null");
  } else if (typeof s.type === "string") {
    type = s.type;
  }
  if (s.const !== undefined && s.enum === undefined) s = { ...s, enum: [s.const] };
  let gType = type ? TYPES[type.toLowerCase()] : undefined;
  if (!gType) {
    if (isObj(s.properties)) gType = "OBJECT";
    else if (s.items !== undefined) gType = "ARRAY";
    else if (Array.isArray(s.enum)) gType = enumType(s.enum);
  }
  if (gType) out.type = gType;
  for (const [k, v] of Object.entries(s)) {
    if (KEEP.has(k)) out[k] = v;
  }
  if (Array.isArray(s.enum)) {
    // Gemini's enums are strings; other values are listed in the description instead.
    if (s.enum.every((v) => typeof v === "string")) {
      out.enum = s.enum.filter((v) => v !== "");
      if ((out.enum as string[]).length === 0) delete out.enum;
    } else {
      const list = s.enum.map((v) => JSON.stringify(v)).join(", ");
      out.description = `${out.description ? `${out.description} ` : ""}(one of ${list})`;
    }
  }
  if (typeof s.format === "string" && gType && FORMATS[gType]?.includes(s.format)) {
    out.format = s.format;
  }
  if (out.format === "enum" && !out.enum) delete out.format;
  if (isObj(s.properties)) {
    const props: Json = {};
    for (const [k, v] of Object.entries(s.properties)) {
      props[k] = toGeminiSchema(v, top, depth + 1);
    }
    if (Object.keys(props).length > 0) out.properties = props;
    if (Array.isArray(s.required)) {
      const req = s.required.map(String).filter((r) => r in props);
      if (req.length > 0) out.required = req;
    }
  }
  if (s.items !== undefined) {
    out.items = isObj(s.items)
      ? toGeminiSchema(s.items, top, depth + 1)
      : Array.isArray(s.items) && isObj(s.items[0])
      ? toGeminiSchema(s.items[0], top, depth + 1)
      : { type: "STRING" };
  } else if (gType === "ARRAY") {
    out.items = { type: "STRING" };
  }
  if (nullable) out.nullable = true;
  return out;
}

/** The type of an enum's values when the schema names none (mixed values: none). */
function enumType(values: unknown[]): string | undefined {
  if (values.every((v) => typeof v === "string")) return "STRING";
  if (values.every((v) => Number.isInteger(v))) return "INTEGER";
  if (values.every((v) => typeof v === "number")) return "NUMBER";
  if (values.every((v) => typeof v === "boolean")) return "BOOLEAN";
  return undefined;
}

function stripEmpty(o: Json): Json {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

/**
 * The `parameters` of a function declaration, or undefined when the function takes nothing
 * (Gemini refuses an OBJECT with empty properties).
 */
export function toGeminiParameters(parameters: unknown): Json | undefined {
  if (!isObj(parameters)) return undefined;
  const s = toGeminiSchema(parameters);
  if (s.type === "OBJECT" && !isObj(s.properties)) return undefined;
  return s;
}
