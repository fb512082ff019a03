/**
 * Helpers of the legacy key migrations (`legacy.ts`): the warning callback and plain-object
 * checks on the parsed YAML document.
 *
 * @module
 */

/** Reports one legacy key: its path in the file and what became of it. */
export type LegacyWarn = (path: PropertyKey[], message: string) => void;

/** A plain object of a parsed YAML document. */
export type RawObject = Record<string, unknown>;

/** True for a plain object (a YAML mapping). */
export function isObject(v: unknown): v is RawObject {
  return !!v && typeof v === "object" && !Array.isArray(v);
}
