/**
 * Keys and values of older configurations (the original's `config.yaml`, earlier releases of this
 * gateway) rewritten into today's before validation, each with a warning that says what replaced
 * it. A retired key or value never stops the server: it is mapped, or dropped with a warning.
 *
 * Rules are grouped by the section they belong to; a section's owner adds its own.
 *
 * @module
 */

type Path = readonly string[];
type Json = Record<string, unknown>;

/** A section (or key) that moved: its keys are merged into `to`, where `to` does not set them. */
interface MoveRule {
  kind: "move";
  from: Path;
  to: Path;
}

/** A value that is spelled differently today. */
interface ValueRule {
  kind: "value";
  at: Path;
  /** Today's value for an old one, or undefined when `value` is current. */
  map(value: unknown): { value: unknown; note: string } | undefined;
}

/** One rewrite of an older configuration. */
export type LegacyRule = MoveRule | ValueRule;

/** Gemini: the original called the section `google` (`google.safes`, `google.tc`). */
const GEMINI: readonly LegacyRule[] = [
  { kind: "move", from: ["google"], to: ["gemini"] },
];

/** Cohere: v1's safety mode `NONE` is `OFF` in the v2 API; the original took any case. */
const COHERE: readonly LegacyRule[] = [
  {
    kind: "value",
    at: ["cohere", "safety"],
    map(value) {
      if (typeof value !== "string") return undefined;
      const up = value.trim().toUpperCase();
      if (up === "NONE") {
        return {
          value: "OFF",
          note:
            "is Cohere v1's name: v2 calls it OFF (models from command-r7b-12-2024 on get CONTEXTUAL, the least they take)",
        };
      }
      return up !== value ? { value: up, note: `is written ${up}` } : undefined;
    },
  },
];

/** Every rule, applied in order. */
export const LEGACY_RULES: readonly LegacyRule[] = [...GEMINI, ...COHERE];

function isObj(v: unknown): v is Json {
  return !!v && typeof v === "object" && !Array.isArray(v);
}

function parentOf(root: Json, path: Path, create: boolean): Json | undefined {
  let node: Json = root;
  for (const key of path.slice(0, -1)) {
    if (!isObj(node[key])) {
      if (!create || node[key] !== undefined) return undefined;
      node[key] = {};
    }
    node = node[key] as Json;
  }
  return node;
}

function dotted(path: Path): string {
  return path.join(".");
}

/**
 * Rewrites `raw` (the parsed YAML, changed in place) by `rules`; returns one warning per change,
 * placed by `where` (file, line and column of a path in the original text).
 */
export function applyLegacy(
  raw: Json,
  where: (path: PropertyKey[]) => string,
  rules: readonly LegacyRule[] = LEGACY_RULES,
): string[] {
  const warnings: string[] = [];
  for (const rule of rules) {
    if (rule.kind === "move") {
      const from = parentOf(raw, rule.from, false);
      const key = rule.from[rule.from.length - 1];
      const old = from?.[key];
      if (old === undefined || !from) continue;
      delete from[key];
      if (!isObj(old)) {
        warnings.push(`${where([...rule.from])}: '${dotted(rule.from)}' ignored: not a section`);
        continue;
      }
      const to = parentOf(raw, rule.to, true);
      const toKey = rule.to[rule.to.length - 1];
      if (!to || (to[toKey] !== undefined && !isObj(to[toKey]))) continue;
      const target = (to[toKey] ??= {}) as Json;
      for (const [k, v] of Object.entries(old)) {
        const was = dotted([...rule.from, k]);
        const now = dotted([...rule.to, k]);
        if (target[k] !== undefined) {
          warnings.push(`${where([...rule.from, k])}: '${was}' ignored: '${now}' is set`);
          continue;
        }
        target[k] = v;
        warnings.push(`${where([...rule.from, k])}: '${was}' is now '${now}'; read as that`);
      }
    } else {
      const parent = parentOf(raw, rule.at, false);
      const key = rule.at[rule.at.length - 1];
      if (!parent || parent[key] === undefined) continue;
      const mapped = rule.map(parent[key]);
      if (!mapped) continue;
      warnings.push(
        `${where([...rule.at])}: '${dotted(rule.at)}' ${
          JSON.stringify(parent[key])
        } ${mapped.note}; read as ${JSON.stringify(mapped.value)}`,
      );
      parent[key] = mapped.value;
    }
  }
  return warnings;
}
