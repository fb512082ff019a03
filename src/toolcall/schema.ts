/**
 * Checks a tool call's arguments against the tool's JSON Schema and repairs what is safe to
 * repair: numbers and booleans written as strings, a number given for a string, objects and
 * arrays written as JSON strings, a single value where an array is expected, enum values in the
 * wrong case, `null` for an optional property, a misspelt key (case, `-` or `_`) where unknown keys
 * are not allowed. Everything else is reported, so the model can be asked to correct it.
 *
 * Covered keywords: `type` (one or a list), `properties`, `required`, `additionalProperties`,
 * `items`, `prefixItems`, `enum`, `const`, `anyOf`, `oneOf`, `allOf`, `nullable`, local `$ref`s
 * (`#/$defs/...`, `#/definitions/...`). Ranges, lengths and patterns are left to the tool.
 *
 * @module
 */
import { LooseJsonError, parseLooseJson, setKey } from "./json.ts";
import { type SchemaBudget, SchemaBudgetExceeded } from "./schema_budget.ts";

export { SchemaBudget, SchemaBudgetExceeded } from "./schema_budget.ts";

/** One problem of an argument value. */
export interface SchemaIssue {
  /** Where: `city`, `stops[2].name`, or empty for the arguments object itself. */
  path: string;
  message: string;
}

/** The checked value (coerced) and the problems left. */
export interface CheckResult {
  value: unknown;
  issues: SchemaIssue[];
}

type Schema = Record<string, unknown> | boolean;

const MAX_DEPTH = 64;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function typeOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  return typeof v;
}

function join(path: string, key: string | number): string {
  if (typeof key === "number") return `${path}[${key}]`;
  return path ? `${path}.${key}` : key;
}

function short(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function normalizeKey(k: string): string {
  return k.toLowerCase().replace(/[-_\s]/g, "");
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Reads a JSON string into a value of `want` type, or undefined. */
function parsedAs(v: string, want: "object" | "array"): unknown {
  const t = v.trim();
  if (!(want === "object" ? t.startsWith("{") : t.startsWith("["))) return undefined;
  try {
    const p = parseLooseJson(t);
    return want === "object" ? (isObject(p) ? p : undefined) : (Array.isArray(p) ? p : undefined);
  } catch (err) {
    if (err instanceof LooseJsonError) return undefined;
    throw err;
  }
}

class Checker {
  constructor(readonly root: Schema, readonly budget?: SchemaBudget) {}

  resolve(schema: Schema, depth: number): Schema {
    let s = schema;
    for (let hops = 0; isObject(s) && typeof s.$ref === "string" && hops < 16; hops++) {
      const ref = s.$ref as string;
      const m = /^#\/(\$defs|definitions)\/(.+)$/.exec(ref);
      const defs = isObject(this.root) ? this.root[m?.[1] ?? ""] : undefined;
      const target = m && isObject(defs)
        ? defs[pointerToken(m[2])]
        : ref === "#"
        ? this.root
        : undefined;
      if (target === undefined || depth > MAX_DEPTH) return true;
      // Sibling keywords of $ref apply too.
      const { $ref: _ref, ...rest } = s;
      s = Object.keys(rest).length > 0 && isObject(target)
        ? { ...(target as Record<string, unknown>), ...rest }
        : target as Schema;
    }
    return s;
  }

  check(schemaIn: Schema, v: unknown, path: string, depth: number): CheckResult {
    if (this.budget && !this.budget.take()) throw new SchemaBudgetExceeded(this.budget.limit);
    const schema = this.resolve(schemaIn, depth);
    if (schema === true || depth > MAX_DEPTH) return { value: v, issues: [] };
    if (schema === false) {
      return { value: v, issues: [{ path, message: "no value is allowed here" }] };
    }
    if (!isObject(schema)) return { value: v, issues: [] };

    let value = v;
    const issues: SchemaIssue[] = [];

    if (Array.isArray(schema.allOf)) {
      for (const sub of schema.allOf) {
        const r = this.check(sub as Schema, value, path, depth + 1);
        value = r.value;
        issues.push(...r.issues);
      }
    }
    for (const key of ["anyOf", "oneOf"] as const) {
      const alts = schema[key];
      if (!Array.isArray(alts) || alts.length === 0) continue;
      const r = this.firstMatch(alts as Schema[], value, path, depth);
      value = r.value;
      issues.push(...r.issues);
    }

    const types = this.types(schema);
    if (types) {
      const r = this.checkType(schema, types, value, path, depth);
      value = r.value;
      issues.push(...r.issues);
    }

    if (Array.isArray(schema.enum)) {
      const r = this.checkEnum(schema.enum, value, path);
      value = r.value;
      issues.push(...r.issues);
    }
    if ("const" in schema && !sameValue(schema.const, value)) {
      issues.push({ path, message: `must be ${short(schema.const)}` });
    }
    return { value, issues };
  }

  /** The allowed types, or undefined when the schema does not restrict them. */
  types(schema: Record<string, unknown>): string[] | undefined {
    let t: string[] | undefined;
    if (typeof schema.type === "string") t = [schema.type];
    else if (Array.isArray(schema.type)) t = schema.type.filter((x) => typeof x === "string");
    else if (isObject(schema.properties) || "required" in schema) t = ["object"];
    else if ("items" in schema || "prefixItems" in schema) t = ["array"];
    if (t && schema.nullable === true && !t.includes("null")) t = [...t, "null"];
    return t;
  }

  firstMatch(alts: Schema[], v: unknown, path: string, depth: number): CheckResult {
    // A branch the value fits as it is wins over one it fits after coercion.
    let coerced: CheckResult | undefined;
    let firstFail: CheckResult | undefined;
    for (const alt of alts) {
      const r = this.check(alt, v, path, depth + 1);
      if (r.issues.length === 0) {
        if (sameValue(r.value, v)) return r;
        coerced ??= r;
      } else {
        firstFail ??= r;
      }
    }
    if (coerced) return coerced;
    return {
      value: v,
      issues: firstFail && alts.length === 1
        ? firstFail.issues
        : [{ path, message: `does not match any allowed form (${firstFail?.issues[0]?.message})` }],
    };
  }

  checkType(
    schema: Record<string, unknown>,
    types: string[],
    v: unknown,
    path: string,
    depth: number,
  ): CheckResult {
    const actual = typeOf(v);
    const fits = (t: string) => t === actual || (t === "number" && actual === "integer");
    if (types.length === 0) return { value: v, issues: [] };
    // The value's own type first (so `["string","number"]` keeps "5" a string).
    const exact = types.find(fits);
    if (exact) return this.inside(schema, exact, v, path, depth);
    for (const t of types) {
      const c = this.coerce(schema, t, v);
      if (c !== undefined) return this.inside(schema, t, c.value, path, depth);
    }
    return {
      value: v,
      issues: [{ path, message: `must be ${types.join(" or ")}, got ${short(v)}` }],
    };
  }

  /** A safe conversion of `v` to type `t`, or undefined. */
  coerce(schema: Record<string, unknown>, t: string, v: unknown): { value: unknown } | undefined {
    switch (t) {
      case "string":
        if (typeof v === "number" || typeof v === "boolean") return { value: String(v) };
        return undefined;
      case "integer":
      case "number": {
        if (typeof v === "number" && t === "integer") return undefined;
        if (typeof v !== "string") return undefined;
        const s = v.trim();
        if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) return undefined;
        const n = Number(s);
        if (!Number.isFinite(n) || (t === "integer" && !Number.isInteger(n))) return undefined;
        return { value: n };
      }
      case "boolean":
        if (typeof v === "string") {
          const s = v.trim().toLowerCase();
          if (s === "true") return { value: true };
          if (s === "false") return { value: false };
        }
        return undefined;
      case "null":
        if (typeof v === "string" && /^(null|none)$/i.test(v.trim())) return { value: null };
        return undefined;
      case "object":
        if (typeof v === "string") {
          const p = parsedAs(v, "object");
          return p === undefined ? undefined : { value: p };
        }
        return undefined;
      case "array": {
        if (typeof v === "string") {
          const p = parsedAs(v, "array");
          if (p !== undefined) return { value: p };
        }
        if (v === null || v === undefined || Array.isArray(v)) return undefined;
        // One value where a list is expected: a list of that value, if it fits the items.
        const items = schema.items;
        if (items === undefined || items === true) return { value: [v] };
        if (isObject(items) && this.check(items, v, "", MAX_DEPTH - 4).issues.length === 0) {
          return { value: [v] };
        }
        return undefined;
      }
    }
    return undefined;
  }

  inside(
    schema: Record<string, unknown>,
    t: string,
    v: unknown,
    path: string,
    depth: number,
  ): CheckResult {
    if (t === "object" && isObject(v)) return this.object(schema, v, path, depth);
    if (t === "array" && Array.isArray(v)) return this.array(schema, v, path, depth);
    return { value: v, issues: [] };
  }

  object(
    schema: Record<string, unknown>,
    v: Record<string, unknown>,
    path: string,
    depth: number,
  ): CheckResult {
    const props = isObject(schema.properties) ? schema.properties as Record<string, Schema> : {};
    const required = Array.isArray(schema.required)
      ? schema.required.filter((k): k is string => typeof k === "string")
      : [];
    const additional = schema.additionalProperties as Schema | undefined;
    const issues: SchemaIssue[] = [];
    const out: Record<string, unknown> = {};
    const byNorm = new Map<string, string[]>();
    for (const k of Object.keys(props)) {
      const n = normalizeKey(k);
      byNorm.set(n, [...(byNorm.get(n) ?? []), k]);
    }
    for (const [k0, val] of Object.entries(v)) {
      let k = k0;
      if (!Object.hasOwn(props, k) && additional === false) {
        // A misspelt key ("City", "unit-name") when it names exactly one free property.
        const cands = (byNorm.get(normalizeKey(k)) ?? []).filter((c) => !Object.hasOwn(v, c));
        if (cands.length === 1) k = cands[0];
      }
      if (Object.hasOwn(props, k)) {
        const r = this.check(props[k], val, join(path, k), depth + 1);
        if (r.value === null && !required.includes(k) && r.issues.length > 0) {
          // `null` for an optional property that cannot be null means "not given".
          continue;
        }
        setKey(out, k, r.value);
        issues.push(...r.issues);
      } else if (additional === false) {
        issues.push({
          path: join(path, k),
          message: `is not a known argument (known: ${Object.keys(props).join(", ") || "none"})`,
        });
      } else {
        const r = isObject(additional) || typeof additional === "boolean"
          ? this.check(additional, val, join(path, k), depth + 1)
          : { value: val, issues: [] };
        setKey(out, k, r.value);
        issues.push(...r.issues);
      }
    }
    for (const k of required) {
      if (!Object.hasOwn(out, k)) issues.push({ path: join(path, k), message: "is required" });
    }
    return { value: out, issues };
  }

  array(schema: Record<string, unknown>, v: unknown[], path: string, depth: number): CheckResult {
    const issues: SchemaIssue[] = [];
    const prefix = Array.isArray(schema.prefixItems)
      ? schema.prefixItems as Schema[]
      : Array.isArray(schema.items)
      ? schema.items as Schema[]
      : [];
    const rest = !Array.isArray(schema.items) && schema.items !== undefined
      ? schema.items as Schema
      : undefined;
    const out = v.map((item, i) => {
      const s = i < prefix.length ? prefix[i] : rest;
      if (s === undefined) return item;
      const r = this.check(s, item, join(path, i), depth + 1);
      issues.push(...r.issues);
      return r.value;
    });
    return { value: out, issues };
  }

  checkEnum(allowed: unknown[], v: unknown, path: string): CheckResult {
    if (allowed.some((a) => sameValue(a, v))) return { value: v, issues: [] };
    if (typeof v === "string") {
      const lower = v.trim().toLowerCase();
      const hits = allowed.filter((a) => typeof a === "string" && a.toLowerCase() === lower);
      if (hits.length === 1) return { value: hits[0], issues: [] };
      // A number or boolean written as a string.
      const hit = allowed.find((a) => typeof a !== "string" && String(a) === v.trim());
      if (hit !== undefined) return { value: hit, issues: [] };
    }
    if (typeof v === "number" || typeof v === "boolean") {
      const hit = allowed.find((a) => a === String(v));
      if (hit !== undefined) return { value: hit, issues: [] };
    }
    const list = allowed.slice(0, 12).map(short).join(", ");
    return {
      value: v,
      issues: [{ path, message: `must be one of ${list}${allowed.length > 12 ? ", ..." : ""}` }],
    };
  }
}

/**
 * Checks `args` (the parsed arguments of a call) against a tool's `parameters` schema. Without a
 * schema any object is accepted. Arguments that are not an object are an issue. With a `budget`,
 * a check that visits more nodes than it has left throws `SchemaBudgetExceeded`.
 */
export function checkArguments(
  parameters: unknown,
  args: unknown,
  budget?: SchemaBudget,
): CheckResult {
  if (!isObject(args)) {
    return {
      value: args,
      issues: [{ path: "", message: `the arguments must be a JSON object, got ${short(args)}` }],
    };
  }
  if (!isObject(parameters)) return { value: args, issues: [] };
  const checker = new Checker(parameters, budget);
  const schema = { ...parameters };
  // The arguments are always an object, whatever the schema's top says.
  if (schema.type === undefined) schema.type = "object";
  return checker.check(schema, args, "", 0);
}

/** True when `v` is a plain object (not null, not an array). */
export { isObject };

/** A JSON pointer token of a `$ref`; a broken percent-escape is read as written. */
function pointerToken(raw: string): string {
  let s = raw;
  try {
    s = decodeURIComponent(raw);
  } catch {
    // Not percent-encoded after all.
  }
  return s.replaceAll("~1", "/").replaceAll("~0", "~");
}
