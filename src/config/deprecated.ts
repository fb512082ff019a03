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

type Path = PropertyKey[];

/** What happens to one key of a deprecated section. */
type Fate = { to: string } | { ignored: string };

/** The keys of the old `bing` section. */
const BING: Record<string, Fate> = {
  proxies: { to: "proxies" },
  concurrency: { to: "concurrency" },
  cooldown: { to: "cooldown" },
  transport: { to: "transport" },
  cookies: {
    ignored:
      "it held _U cookies of the retired Bing chat, which no longer sign in to Copilot; use copilot.access-tokens (docs/copilot.md)",
  },
  "base-url": { ignored: "the Sydney ChatHub it pointed at is gone; see copilot.base-url" },
  "hub-url": { ignored: "the Sydney ChatHub it pointed at is gone; see copilot.base-url" },
  "bundle-version": { ignored: "Copilot has no bundle version" },
};

/**
 * Moves the keys of deprecated sections of `raw` (the parsed YAML, changed in place) into their
 * successors and returns the warnings, each placed by `where`.
 */
export function migrateDeprecated(
  raw: Record<string, unknown>,
  where: (path: Path) => string,
): string[] {
  const warnings: string[] = [];
  const old = raw.bing;
  if (old === undefined) return warnings;
  delete raw.bing;
  if (!old || typeof old !== "object" || Array.isArray(old)) {
    warnings.push(`${where(["bing"])}: 'bing' is deprecated (now 'copilot') and was ignored`);
    return warnings;
  }
  const target = (raw.copilot && typeof raw.copilot === "object" && !Array.isArray(raw.copilot))
    ? raw.copilot as Record<string, unknown>
    : (raw.copilot = {}) as Record<string, unknown>;
  for (const [key, value] of Object.entries(old as Record<string, unknown>)) {
    const at = where(["bing", key]);
    const fate = BING[key];
    if (!fate) {
      warnings.push(`${at}: 'bing.${key}' is not a key of the deprecated 'bing' section; ignored`);
    } else if ("ignored" in fate) {
      warnings.push(`${at}: 'bing.${key}' is deprecated and ignored: ${fate.ignored}`);
    } else if (fate.to in target) {
      warnings.push(
        `${at}: 'bing.${key}' is deprecated; ignored because 'copilot.${fate.to}' is set`,
      );
    } else {
      target[fate.to] = value;
      warnings.push(`${at}: 'bing.${key}' is deprecated; read as 'copilot.${fate.to}'`);
    }
  }
  return warnings;
}
