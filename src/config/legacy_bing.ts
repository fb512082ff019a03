/**
 * Sections and keys of earlier releases, read into their successors with a warning, so that an
 * old config.yaml keeps working while it says what to change.
 *
 * `bing` (Bing's Sydney ChatHub, retired in December 2024) became `copilot`: the keys that still
 * mean something move over (unless `copilot` sets them itself); the others are ignored, each with
 * a warning naming its line.
 *
 * @module
 */

import type { LegacyWarn } from "./legacy.ts";

/** What happens to one key of a deprecated section. */
type Fate = { to: string } | { ignored: string };

/** The keys of the old `bing` section. */
const BING: Readonly<Record<string, Fate>> = {
  proxies: { to: "proxies" },
  concurrency: { to: "concurrency" },
  cooldown: { to: "cooldown" },
  transport: { to: "transport" },
  cookies: {
    ignored:
      "it held _U cookies of the retired Bing chat, which no longer sign in to Copilot; use copilot.access-tokens (docs/copilot.md)",
  },
  "base-url": { ignored: "the Sydney ChatHub it pointed at is gone; see copilot.base-url" },
  baseUrl: { ignored: "the Sydney ChatHub it pointed at is gone; see copilot.base-url" },
  "hub-url": { ignored: "the Sydney ChatHub it pointed at is gone; see copilot.base-url" },
  "bundle-version": { ignored: "Copilot has no bundle version" },
};

/** Moves the keys of the deprecated `bing` section of `raw` (changed in place) into `copilot`. */
export function migrateBingKeys(raw: Record<string, unknown>, warn: LegacyWarn): void {
  const old = raw.bing;
  if (old === undefined) return;
  delete raw.bing;
  if (!old || typeof old !== "object" || Array.isArray(old)) {
    warn(["bing"], "'bing' is deprecated (now 'copilot') and was ignored");
    return;
  }
  const target = (raw.copilot && typeof raw.copilot === "object" && !Array.isArray(raw.copilot))
    ? raw.copilot as Record<string, unknown>
    : (raw.copilot = {}) as Record<string, unknown>;
  for (const [key, value] of Object.entries(old as Record<string, unknown>)) {
    const at = ["bing", key];
    const fate = BING[key];
    if (!fate) {
      warn(at, `'bing.${key}' is not a key of the deprecated 'bing' section; ignored`);
    } else if ("ignored" in fate) {
      warn(at, `'bing.${key}' is deprecated and ignored: ${fate.ignored}`);
    } else if (fate.to in target) {
      warn(at, `'bing.${key}' is deprecated; ignored because 'copilot.${fate.to}' is set`);
    } else {
      target[fate.to] = value;
      warn(at, `'bing.${key}' is deprecated; read as 'copilot.${fate.to}'`);
    }
  }
}
