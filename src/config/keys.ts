/**
 * The keys the config schema knows at a path, and the known key closest to a misspelt one, for
 * the "did you mean" of unknown-key warnings.
 *
 * @module
 */
import type { z } from "npm:zod@^4.6.7";

/** The schema under wrappers (default, optional, nullable, transforms, arrays at a number). */
function unwrap(schema: z.core.$ZodType, key?: PropertyKey): z.core.$ZodType | undefined {
  let s: z.core.$ZodType | undefined = schema;
  for (let i = 0; s && i < 10; i++) {
    const def = s._zod.def as unknown as {
      type: string;
      innerType?: z.core.$ZodType;
      in?: z.core.$ZodType;
      element?: z.core.$ZodType;
      options?: z.core.$ZodType[];
    };
    if (def.innerType) s = def.innerType;
    else if (def.type === "pipe" && def.in) s = def.in;
    else if (def.type === "array" && typeof key === "number") return def.element;
    else if (def.type === "union" && def.options) {
      s = def.options.find((o) => (o._zod.def as { type: string }).type === "object");
    } else return s;
  }
  return s;
}

/** The keys of the object schema at `path` under `root`, or [] when there is none. */
export function keysAt(root: z.core.$ZodType, path: readonly PropertyKey[]): string[] {
  let s: z.core.$ZodType | undefined = unwrap(root);
  for (const key of path) {
    if (!s) return [];
    if (typeof key === "number") {
      s = unwrap(s, key);
      s = s && unwrap(s);
      continue;
    }
    const shape = (s._zod.def as { shape?: Record<string, z.core.$ZodType> }).shape;
    const child = shape?.[String(key)];
    s = child ? unwrap(child) : undefined;
  }
  const shape = s && (s._zod.def as { shape?: Record<string, z.core.$ZodType> }).shape;
  return shape ? Object.keys(shape) : [];
}

/** Edit distance with transpositions (optimal string alignment), bounded: past `max` it stops. */
function distance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let before: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let best = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        cur[j] = Math.min(cur[j], before[j - 2] + 1);
      }
      best = Math.min(best, cur[j]);
    }
    if (best > max) return max + 1;
    before = prev;
    prev = cur;
  }
  return prev[b.length];
}

/** The known key closest to `key` (case, `_`/`-` and small typos), or undefined. */
export function closestKey(key: string, known: readonly string[]): string | undefined {
  const norm = (s: string) => s.toLowerCase().replaceAll("_", "-");
  const k = norm(key);
  let best: string | undefined;
  let bestD = Math.max(1, Math.min(3, Math.floor(k.length / 3)));
  for (const candidate of known) {
    const d = distance(k, norm(candidate), bestD);
    if (d <= bestD && (best === undefined || d < bestD)) {
      best = candidate;
      bestD = d;
    }
  }
  return best;
}
