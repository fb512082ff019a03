/**
 * Config sections of retired upstreams, read with a deprecation warning so that an old
 * `config.yaml` keeps loading: the keys that still mean the same are moved to the section that
 * replaced them (unless that one sets them itself), the rest are dropped, each with a warning
 * naming the line.
 *
 * - `lmsys` (the Chatbot Arena's gradio queue, dead since August 2025) became `arena`:
 *   `base-url`, `proxies`, `transport`, `concurrency` and `cooldown` move (a `base-url` naming one
 *   of the gradio app's hosts does not: those serve no arena.ai API); `fn` (the gradio
 *   `[fn_index, trigger_id]`), `flow`, `models`, `tries` and `refusals` have no meaning any more.
 *
 * @module
 */

/** Sections that were renamed: old name -> new name and the keys that carry over. */
const RENAMED: Readonly<
  Record<string, {
    to: string;
    keys: readonly string[];
    why: string;
    /** Why a value of a carried key does not carry over, if it does not. */
    stale?: (key: string, value: unknown) => string | undefined;
  }>
> = {
  lmsys: {
    to: "arena",
    keys: ["base-url", "proxies", "transport", "concurrency", "cooldown"],
    why: "LMSYS's gradio chat is gone; arena.ai replaced it (docs/arena.md)",
    stale: (key, value) =>
      key === "base-url" && typeof value === "string" &&
        /^https?:\/\/(chat\.lmsys\.org|(legacy\.)?lmarena\.ai)(\/|$)/i.test(value)
        ? "that host served the gradio app, arena.ai's API is at https://arena.ai"
        : undefined,
  },
};

/**
 * Rewrites the retired sections of `raw` (the parsed YAML, before validation) in place and
 * returns the warnings. `where` gives the `file:line:col` of a key path.
 */
export function migrateLegacy(
  raw: Record<string, unknown>,
  where: (path: PropertyKey[]) => string,
): string[] {
  const warnings: string[] = [];
  for (const [old, rule] of Object.entries(RENAMED)) {
    if (!(old in raw)) continue;
    const section = raw[old];
    delete raw[old];
    if (!section || typeof section !== "object" || Array.isArray(section)) {
      warnings.push(`${where([old])}: '${old}' is deprecated and ignored: ${rule.why}`);
      continue;
    }
    const target = raw[rule.to] && typeof raw[rule.to] === "object" && !Array.isArray(raw[rule.to])
      ? raw[rule.to] as Record<string, unknown>
      : (raw[rule.to] = {}) as Record<string, unknown>;
    for (const [key, value] of Object.entries(section as Record<string, unknown>)) {
      const at = where([old, key]);
      const stale = rule.stale?.(key, value);
      if (!rule.keys.includes(key) || stale) {
        warnings.push(`${at}: '${old}.${key}' is deprecated and ignored: ${stale ?? rule.why}`);
      } else if (key in target) {
        warnings.push(
          `${at}: '${old}.${key}' is deprecated and ignored ('${rule.to}.${key}' is set): ${rule.why}`,
        );
      } else {
        target[key] = value;
        warnings.push(`${at}: '${old}.${key}' is deprecated; read as '${rule.to}.${key}'`);
      }
    }
  }
  return warnings;
}
