/**
 * Paths of keys inside JSON values, written the way users read them.
 *
 * @module
 */

/** Formats a path as `messages[0].content` (numbers as indexes, the rest as keys). */
export function keyPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const p of path) {
    out += typeof p === "number" ? `[${p}]` : out === "" ? String(p) : `.${String(p)}`;
  }
  return out;
}
