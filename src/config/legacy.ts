/**
 * Keys of older configurations (the original adapter's, and this gateway's before a change)
 * rewritten into today's before validation, each with a warning that names the key and what
 * replaced it. A retired key never stops the server.
 *
 * @module
 */
import { migrateImageKeys } from "./legacy_images.ts";
import { migrateInterpreterKeys } from "./legacy_interpreter.ts";
import type { LegacyWarn, RawObject } from "./legacy_util.ts";

export type { LegacyWarn } from "./legacy_util.ts";

/** Rewrites the legacy keys of `raw` (the parsed YAML document) in place. */
export function migrateLegacy(raw: RawObject, warn: LegacyWarn): void {
  migrateImageKeys(raw, warn);
  migrateInterpreterKeys(raw, warn);
}
