/**
 * Keys of earlier versions (the original Go gateway's, and this product's before a provider moved
 * to a new protocol): each is mapped onto its successor or dropped, always with a warning that
 * says what replaced it, never a refusal to start. Providers declare theirs next to their section
 * of the schema; the loader applies them to the raw file before validation.
 *
 * @module
 */
import { keyPath } from "../util/key_path.ts";

/** What became of one old key. */
export interface LegacyKey {
  /** The key's path from the top of the file (`["you", "helper"]`). */
  path: readonly string[];
  /** The warning's text after the key's name: what replaced it, what to do. */
  note: string;
  /** Where the value moves (a path from the top); a key already set there wins. */
  to?: readonly string[];
  /** The value for `to`, made from the old one (default: the same value). */
  convert?: (value: unknown) => unknown;
  /** The key stays valid: only the warning is given (with `when`, only when it holds). */
  keep?: boolean;
  /** Applies only when this holds for the old value and the whole raw file. */
  when?: (value: unknown, root: Record<string, unknown>) => boolean;
}

/**
 * Applies `keys` in order to `root` (the raw parsed file, changed in place) and returns the
 * warnings, each prefixed by `where(path)` (the file, line and column of the key).
 */
export function applyLegacy(
  root: Record<string, unknown>,
  keys: readonly LegacyKey[],
  where: (path: readonly string[]) => string,
): string[] {
  const warnings: string[] = [];
  for (const k of keys) {
    const found = lookup(root, k.path);
    if (!found) continue;
    const [parent, name] = found;
    const value = parent[name];
    if (k.when && !k.when(value, root)) continue;
    warnings.push(`${where(k.path)}: '${keyPath(k.path)}' ${k.note}`);
    if (k.keep) continue;
    delete parent[name];
    if (!k.to) continue;
    const target = ensureParent(root, k.to);
    const last = k.to[k.to.length - 1];
    if (target && !(last in target)) target[last] = k.convert ? k.convert(value) : value;
  }
  return warnings;
}

type Obj = Record<string, unknown>;

function isObject(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The object holding the key at `path` and the key's name, when the key is present. */
function lookup(root: Obj, path: readonly string[]): [Obj, string] | undefined {
  let node: unknown = root;
  for (const key of path.slice(0, -1)) {
    if (!isObject(node)) return undefined;
    node = node[key];
  }
  const name = path[path.length - 1];
  return isObject(node) && name in node ? [node, name] : undefined;
}

/** The object that holds `path`'s last key, created as needed; undefined when a scalar is in the way. */
function ensureParent(root: Obj, path: readonly string[]): Obj | undefined {
  let node: Obj = root;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (next === undefined) node[key] = {};
    else if (!isObject(next)) return undefined;
    node = node[key] as Obj;
  }
  return node;
}
