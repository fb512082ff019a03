/**
 * From what a model wrote to checked tool calls: the shapes a call may take once its JSON is
 * read (`{"name", "arguments"}` and its common variants), matching the name to a declared tool,
 * and checking the arguments against the tool's schema.
 *
 * @module
 */
import type { Tool } from "../openai/schema.ts";
import { LooseJsonError, parseLooseJson } from "./json.ts";
import { invalidRequest } from "../openai/errors.ts";
import {
  checkArguments,
  isObject,
  type SchemaBudget,
  SchemaBudgetExceeded,
  type SchemaIssue,
} from "./schema.ts";

/** A call as written, before its name and arguments are checked. */
export interface RawCall {
  /** The tool name as written (may be missing or wrong). */
  name?: string;
  /** The arguments as read (should be an object). */
  args: unknown;
  /** Set when the arguments could not be read (e.g. a JSON string that does not parse). */
  argsError?: string;
}

/** A call ready to send: a declared name and arguments that fit its schema, as JSON text. */
export interface CheckedCall {
  name: string;
  arguments: string;
}

/** Keys models use for the tool name. */
const NAME_KEYS = ["name", "tool", "tool_name", "function_name", "toolName", "toolId", "tool_id"];
/** Keys models use for the arguments. */
const ARG_KEYS = ["arguments", "parameters", "args", "input", "params", "tool_input"];
/** Keys that are not arguments when a call has no arguments key. */
const META_KEYS: ReadonlySet<string> = new Set([...NAME_KEYS, "id", "type", "call_id", "index"]);

/** Keys whose presence as the first key of a JSON block makes it a likely call. */
export const CALL_FIRST_KEYS: ReadonlySet<string> = new Set([
  ...NAME_KEYS,
  "function",
  "tool_calls",
  "arguments",
  "parameters",
]);
/** First keys whose string value is a tool name (checked against the declared tools). */
export const NAME_FIRST_KEYS: ReadonlySet<string> = new Set(NAME_KEYS);

function readArgs(v: unknown): { args: unknown; argsError?: string } {
  if (typeof v !== "string") return { args: v ?? {} };
  if (v.trim() === "") return { args: {} };
  try {
    return { args: parseLooseJson(v) };
  } catch (err) {
    if (!(err instanceof LooseJsonError)) throw err;
    return {
      args: v,
      argsError: err.truncated
        ? "the arguments string ends before the JSON is complete"
        : `the arguments string is not valid JSON (${err.message})`,
    };
  }
}

/**
 * The calls a JSON value describes: an object (`{"name","arguments"}`, `{"function":{...}}`,
 * `{"tool_calls":[...]}`), or a list of them. `nameHint` names the tool when the value is only
 * the arguments (`<tool_call name="x">{...}</tool_call>`, `<function=x>`). Returns undefined when
 * the value is not shaped like a call.
 */
export function callsFromValue(value: unknown, nameHint?: string): RawCall[] | undefined {
  if (nameHint !== undefined) {
    if (isObject(value)) {
      // The block may still be a whole call with the name repeated inside.
      const inner = callsFromValue(value);
      if (inner && inner.length === 1 && inner[0].name === nameHint) return inner;
    }
    return [{ name: nameHint, ...readArgs(value) }];
  }
  if (Array.isArray(value)) {
    const out: RawCall[] = [];
    for (const v of value) {
      const calls = callsFromValue(v);
      if (!calls) return undefined;
      out.push(...calls);
    }
    return out.length > 0 ? out : undefined;
  }
  if (!isObject(value)) return undefined;
  if (Array.isArray(value.tool_calls)) return callsFromValue(value.tool_calls);
  if (isObject(value.function)) {
    const f = value.function;
    const name = typeof f.name === "string" ? f.name : undefined;
    const argKey = ARG_KEYS.find((k) => k in f);
    return [{ name, ...readArgs(argKey ? f[argKey] : {}) }];
  }
  const nameKey = NAME_KEYS.find((k) => typeof value[k] === "string") ??
    (typeof value.function === "string" ? "function" : undefined);
  if (!nameKey) return undefined;
  const name = value[nameKey] as string;
  const argKey = ARG_KEYS.find((k) => k in value);
  if (argKey) return [{ name, ...readArgs(value[argKey]) }];
  // No arguments key: the other keys are the arguments.
  const rest: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (!META_KEYS.has(k) && k !== nameKey) rest[k] = v;
  }
  return [{ name, args: rest }];
}

function normalizeName(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]/g, "");
}

/** The declared tools of a request: name lookup and argument checks. */
export class Toolset {
  readonly byName = new Map<string, Tool>();
  readonly #byNorm = new Map<string, string[]>();

  /** @param budget the schema nodes the checks of this request may visit (none: unbounded) */
  constructor(readonly tools: readonly Tool[], readonly budget?: SchemaBudget) {
    for (const t of tools) {
      this.byName.set(t.function.name, t);
      const n = normalizeName(t.function.name);
      this.#byNorm.set(n, [...(this.#byNorm.get(n) ?? []), t.function.name]);
    }
  }

  /** The declared name `name` stands for: exact, or unique up to case, `-`, `_` and `.`. */
  resolve(name: string | undefined): string | undefined {
    if (name === undefined) return undefined;
    const trimmed = name.trim();
    if (this.byName.has(trimmed)) return trimmed;
    // "functions.get_weather" as some models write it.
    const dot = trimmed.lastIndexOf(".");
    if (dot > 0 && this.byName.has(trimmed.slice(dot + 1))) return trimmed.slice(dot + 1);
    const hits = this.#byNorm.get(normalizeName(trimmed)) ?? [];
    return hits.length === 1 ? hits[0] : undefined;
  }

  /** True when `name` stands for a declared tool. */
  has(name: string): boolean {
    return this.resolve(name) !== undefined;
  }

  /** Checks one call: a declared name and arguments that fit (after safe coercion). */
  check(call: RawCall): { call: CheckedCall } | { error: string } {
    const name = this.resolve(call.name);
    if (call.name === undefined || call.name.trim() === "") {
      return { error: "the call has no tool name" };
    }
    if (!name) {
      return {
        error: `"${call.name}" is not one of the available tools (${
          [...this.byName.keys()].join(", ")
        })`,
      };
    }
    if (call.argsError) return { error: `${name}: ${call.argsError}` };
    let r;
    try {
      r = checkArguments(this.byName.get(name)!.function.parameters, call.args, this.budget);
    } catch (err) {
      if (!(err instanceof SchemaBudgetExceeded)) throw err;
      throw invalidRequest(
        `Checking the arguments of a call against the schema of '${name}' took more than ${err.limit} schema nodes for this request (server.limits.schema-nodes); simplify its parameters (nested anyOf/oneOf/$ref)`,
        "tools",
        "schema_too_complex",
      );
    }
    if (r.issues.length > 0) return { error: `${name}: ${formatIssues(r.issues)}` };
    return { call: { name, arguments: JSON.stringify(r.value) } };
  }
}

/** Problems of a call's arguments as one line. */
export function formatIssues(issues: SchemaIssue[]): string {
  return issues.slice(0, 8).map((i) => i.path ? `argument "${i.path}" ${i.message}` : i.message)
    .join("; ") + (issues.length > 8 ? `; and ${issues.length - 8} more` : "");
}
