/**
 * Keys and values of earlier configurations (the original Go gateway's `config.yaml`, and this
 * product's before a provider moved to a new protocol) rewritten into today's before validation,
 * each with a warning that says what replaced it. A retired key or value never stops the server:
 * it is mapped, or dropped with a warning. The rules themselves are in `legacy_keys.ts`, grouped
 * by the section they belong to.
 *
 * @module
 */
import { keyPath } from "../util/key_path.ts";

type Obj = Record<string, unknown>;
type Path = readonly string[];

/** One old key: mapped onto its successor or dropped, always with a warning. */
export interface KeyRule {
  kind?: "key";
  /** The key's path from the top of the file (`["you", "helper"]`). */
  path: Path;
  /** The warning's text after the key's name: what replaced it, what to do. */
  note: string;
  /** Where the value moves (a path from the top); a key already set there wins. */
  to?: Path;
  /** The value for `to`, made from the old one (default: the same value). */
  convert?: (value: unknown) => unknown;
  /** The key stays valid: only the warning is given (with `when`, only when it holds). */
  keep?: boolean;
  /** Applies only when this holds for the old value and the whole raw file. */
  when?: (value: unknown, root: Obj) => boolean;
}

/** A section that moved: each of its keys goes to `to` unless `to` sets it already. */
export interface MoveRule {
  kind: "move";
  from: Path;
  to: Path;
}

/** A value spelled differently today. */
export interface ValueRule {
  kind: "value";
  at: Path;
  /** Today's value for an old one (and why), or undefined when `value` is current. */
  map(value: unknown): { value: unknown; note: string } | undefined;
}

/** Reports one old key: its path in the file and what became of it (after the location). */
export type LegacyWarn = (path: PropertyKey[], message: string) => void;

/** A rewrite too involved for a table (merging old image spaces into today's list). */
export interface CustomRule {
  kind: "custom";
  apply(root: Obj, warn: LegacyWarn): void;
}

/** One rewrite of an older configuration. */
export type LegacyRule = KeyRule | MoveRule | ValueRule | CustomRule;

/**
 * Applies `rules` in order to `root` (the raw parsed file, changed in place) and returns the
 * warnings, each prefixed by `where(path)` (the file, line and column of the key).
 */
export function applyLegacy(
  root: Obj,
  rules: readonly LegacyRule[],
  where: (path: readonly string[]) => string,
): string[] {
  const warnings: string[] = [];
  for (const rule of rules) {
    if (rule.kind === "custom") {
      rule.apply(root, (path, message) => warnings.push(`${where(path.map(String))}: ${message}`));
    } else if (rule.kind === "move") warnings.push(...moveSection(root, rule, where));
    else if (rule.kind === "value") warnings.push(...mapValue(root, rule, where));
    else warnings.push(...rewriteKey(root, rule, where));
  }
  return warnings;
}

function rewriteKey(root: Obj, k: KeyRule, where: (p: Path) => string): string[] {
  const found = lookup(root, k.path);
  if (!found) return [];
  const [parent, name] = found;
  const value = parent[name];
  if (k.when && !k.when(value, root)) return [];
  const warning = `${where(k.path)}: '${keyPath([...k.path])}' ${k.note}`;
  if (k.keep) return [warning];
  delete parent[name];
  if (k.to) {
    const target = ensureParent(root, k.to);
    const last = k.to[k.to.length - 1];
    if (target && !(last in target)) target[last] = k.convert ? k.convert(value) : value;
  }
  return [warning];
}

function moveSection(root: Obj, rule: MoveRule, where: (p: Path) => string): string[] {
  const found = lookup(root, rule.from);
  if (!found) return [];
  const [parent, name] = found;
  const old = parent[name];
  delete parent[name];
  if (old === undefined) return [];
  if (!isObject(old)) {
    return [`${where(rule.from)}: '${keyPath([...rule.from])}' ignored: not a section`];
  }
  const target = ensureParent(root, rule.to);
  const toKey = rule.to[rule.to.length - 1];
  if (!target || (target[toKey] !== undefined && !isObject(target[toKey]))) return [];
  const into = (target[toKey] ??= {}) as Obj;
  const warnings: string[] = [];
  for (const [k, v] of Object.entries(old)) {
    const was = keyPath([...rule.from, k]);
    const now = keyPath([...rule.to, k]);
    if (into[k] !== undefined) {
      warnings.push(`${where([...rule.from, k])}: '${was}' ignored: '${now}' is set`);
      continue;
    }
    into[k] = v;
    warnings.push(`${where([...rule.from, k])}: '${was}' is now '${now}'; read as that`);
  }
  return warnings;
}

function mapValue(root: Obj, rule: ValueRule, where: (p: Path) => string): string[] {
  const found = lookup(root, rule.at);
  if (!found) return [];
  const [parent, name] = found;
  const mapped = rule.map(parent[name]);
  if (!mapped) return [];
  const warning = `${where(rule.at)}: '${keyPath([...rule.at])}' ${
    JSON.stringify(parent[name])
  } ${mapped.note}; read as ${JSON.stringify(mapped.value)}`;
  parent[name] = mapped.value;
  return [warning];
}

/** True for a plain object (a YAML mapping). */
export function isObject(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The object holding the key at `path` and the key's name, when the key is present. */
function lookup(root: Obj, path: Path): [Obj, string] | undefined {
  let node: unknown = root;
  for (const key of path.slice(0, -1)) {
    if (!isObject(node)) return undefined;
    node = node[key];
  }
  const name = path[path.length - 1];
  return isObject(node) && name in node ? [node, name] : undefined;
}

/** The object that holds `path`'s last key, created as needed; undefined when a scalar is in the way. */
function ensureParent(root: Obj, path: Path): Obj | undefined {
  let node: Obj = root;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (next === undefined) node[key] = {};
    else if (!isObject(next)) return undefined;
    node = node[key] as Obj;
  }
  return node;
}
