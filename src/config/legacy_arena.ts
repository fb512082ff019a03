/**
 * The `lmsys` section of older configurations. The LMSYS Chatbot Arena's gradio queue died in
 * August 2025 and arena.ai replaced it (the `arena` section): `base-url`, `proxies`, `transport`,
 * `concurrency` and `cooldown` still mean the same and move to `arena.*` (unless `arena` sets them
 * itself; a `base-url` naming one of the gradio app's hosts does not move: those serve no arena.ai
 * API); `fn` (the gradio `[fn_index, trigger_id]`), `flow`, `models`, `tries`, `refusals` and any
 * other key mean nothing any more. Every key gets a warning; the server never stops for them.
 *
 * The function has the shape of a custom legacy rule (`(raw, warn)`), so that it can join a table
 * of such rewrites.
 *
 * @module
 */

import { isObject, type LegacyWarn } from "./legacy.ts";

type RawObject = Record<string, unknown>;

/** The keys that keep their meaning under `arena`. */
const CARRIED = ["base-url", "proxies", "transport", "concurrency", "cooldown"];

const WHY = "LMSYS's gradio chat is gone; arena.ai replaced it (docs/arena.md)";

/** The hosts of the gradio app, which serve no arena.ai API. */
const GRADIO_HOSTS = ["chat.lmsys.org", "lmarena.ai", "legacy.lmarena.ai"];

function gradioHost(value: unknown): boolean {
  try {
    return GRADIO_HOSTS.includes(new URL(String(value)).host.toLowerCase());
  } catch {
    return false;
  }
}

/** Rewrites the `lmsys` section of `raw` (the parsed file, before validation) into `arena`. */
export function migrateArenaKeys(raw: RawObject, warn: LegacyWarn): void {
  if (!("lmsys" in raw)) return;
  const section = raw.lmsys;
  delete raw.lmsys;
  if (!isObject(section)) {
    warn(["lmsys"], `'lmsys' is deprecated and ignored: ${WHY}`);
    return;
  }
  if (raw.arena !== undefined && !isObject(raw.arena)) return;
  const arena = (raw.arena ??= {}) as RawObject;
  for (const [key, value] of Object.entries(section)) {
    const path = ["lmsys", key];
    if (!CARRIED.includes(key)) {
      warn(path, `'lmsys.${key}' is deprecated and ignored: ${WHY}`);
    } else if (key === "base-url" && gradioHost(value)) {
      warn(
        path,
        `'lmsys.${key}' is deprecated and ignored: that host served the gradio app, arena.ai's API is at https://arena.ai`,
      );
    } else if (arena[key] !== undefined) {
      warn(path, `'lmsys.${key}' is deprecated and ignored ('arena.${key}' is set): ${WHY}`);
    } else {
      arena[key] = value;
      warn(path, `'lmsys.${key}' is deprecated; read as 'arena.${key}'`);
    }
  }
}
