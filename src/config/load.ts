/**
 * Reads `config.yaml`: YAML with positions, validation with the zod schema, unknown keys turned
 * into warnings. Every problem names the file, the line and the key.
 *
 * @module
 */
import { isMap, isScalar, LineCounter, parseDocument } from "npm:yaml@^2.9.1";
import type { z } from "npm:zod@^4.6.7";
import { keyPath } from "../util/key_path.ts";
import { closestKey, keysAt } from "./keys.ts";
import { applyLegacy } from "./legacy.ts";
import { LEGACY_KEYS } from "./legacy_keys.ts";
import { type Config, configSchema } from "./schema.ts";

/** A configuration that cannot be used; `message` names file, line and key. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/** The outcome of loading: the config plus warnings to log. */
export interface LoadResult {
  config: Config;
  warnings: string[];
  /** False when the file does not exist and defaults are used. */
  found: boolean;
  /** True when the file holds no keys at all (empty, or comments only). */
  empty: boolean;
}

type Path = PropertyKey[];

/** Parses and validates config text. `file` is only used in messages. */
export function parseConfig(text: string, file: string): LoadResult {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, {
    lineCounter,
    prettyErrors: false,
    uniqueKeys: true,
    // Long ids (Coze's 19-digit bot ids, unquoted in the original's configs) stay exact.
    intAsBigInt: true,
  });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const pos = lineCounter.linePos(e.pos[0]);
    throw new ConfigError(`${file}:${pos.line}:${pos.col}: invalid YAML: ${firstLine(e.message)}`);
  }
  let js: unknown;
  try {
    js = doc.toJS();
  } catch (err) {
    // The YAML library refuses alias bombs (and other resource exhaustion) only here.
    throw new ConfigError(`${file}:1:1: invalid YAML: ${firstLine((err as Error).message)}`);
  }
  // A key left empty (`browser:` with its children commented out) means "not set".
  const empty = doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null);
  const raw = dropNulls(js, file) ?? {};
  if (typeof raw !== "object" || Array.isArray(raw)) {
    throw new ConfigError(`${file}:1:1: the top level must be a mapping of keys`);
  }
  const where = (path: Path): string => {
    const pos = positionOf(doc, lineCounter, path);
    return `${file}:${pos.line}:${pos.col}`;
  };

  // Old keys are mapped or dropped first, each with a warning naming what replaced it.
  const warnings = applyLegacy(raw as Record<string, unknown>, LEGACY_KEYS, (p) => where([...p]));
  let input: unknown = raw;
  let result = configSchema.safeParse(input);
  if (!result.success) {
    const unknown = result.error.issues.filter((i) => i.code === "unrecognized_keys");
    const other = result.error.issues.filter((i) => i.code !== "unrecognized_keys");
    if (other.length > 0) {
      throw new ConfigError(other.map((i) => describeIssue(i, where)).join("\n"));
    }
    input = structuredClone(raw);
    for (const issue of unknown) {
      for (const key of (issue as z.core.$ZodIssueUnrecognizedKeys).keys) {
        const path = [...issue.path, key];
        const near = closestKey(key, keysAt(configSchema, issue.path));
        const hint = near ? ` (did you mean '${keyPath([...issue.path, near])}'?)` : "";
        warnings.push(`${where(path)}: unknown key '${keyPath(path)}' ignored${hint}`);
        deleteAt(input, path);
      }
    }
    result = configSchema.safeParse(input);
    if (!result.success) {
      throw new ConfigError(result.error.issues.map((i) => describeIssue(i, where)).join("\n"));
    }
  }
  if (empty) warnings.push(`${file} holds no settings: every key is at its default`);
  return { config: result.data, warnings, found: true, empty };
}

/** Loads a config file; a missing file gives defaults and a warning. */
export async function loadConfig(file: string): Promise<LoadResult> {
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      return {
        config: configSchema.parse({}),
        warnings: [`${file} not found: starting with the default configuration`],
        found: false,
        empty: true,
      };
    }
    throw new ConfigError(`${file}: cannot read: ${(err as Error).message}`);
  }
  return parseConfig(text, file);
}

/** The configuration every key at its default. */
export function defaultConfig(): Config {
  return configSchema.parse({});
}

function describeIssue(issue: z.core.$ZodIssue, where: (p: Path) => string): string {
  const key = keyPath(issue.path);
  return `${where(issue.path)}: '${key || "(top level)"}' ${issue.message}`;
}

function firstLine(s: string): string {
  return s.split("\n")[0];
}

/** The line and column of the deepest node of `path` that exists in the document. */
function positionOf(
  doc: ReturnType<typeof parseDocument>,
  lc: LineCounter,
  path: Path,
): { line: number; col: number } {
  let node: unknown = doc.contents;
  let offset = 0;
  for (const key of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && p.key.value === key);
      if (!pair) break;
      offset = (pair.key as { range?: [number, number, number] }).range?.[0] ?? offset;
      node = pair.value;
    } else if (node && typeof node === "object" && "items" in node && typeof key === "number") {
      const item = (node as { items: unknown[] }).items[key];
      if (!item) break;
      offset = (item as { range?: [number, number, number] }).range?.[0] ?? offset;
      node = item;
    } else break;
  }
  return lc.linePos(offset);
}

/**
 * The raw value with nulls dropped and integers as numbers, or as their exact digits (a string)
 * when a number cannot hold them. An alias inside the node it names (`a: &x {b: *x}`) makes a
 * cycle: that is no configuration (`inside` holds the nodes being walked).
 */
function dropNulls(value: unknown, file: string, inside = new Set<object>()): unknown {
  if (value === null) return undefined;
  if (typeof value === "bigint") {
    return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  }
  if (typeof value !== "object") return value;
  if (inside.has(value)) {
    throw new ConfigError(`${file}:1:1: invalid YAML: an alias refers to a node that holds it`);
  }
  inside.add(value);
  let out: unknown;
  if (Array.isArray(value)) out = value.map((v) => dropNulls(v, file, inside));
  else {
    const o: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (v !== null) o[k] = dropNulls(v, file, inside);
    }
    out = o;
  }
  inside.delete(value);
  return out;
}

function deleteAt(root: unknown, path: Path): void {
  let node = root as Record<PropertyKey, unknown>;
  for (const key of path.slice(0, -1)) node = node[key] as Record<PropertyKey, unknown>;
  delete node[path[path.length - 1]];
}
