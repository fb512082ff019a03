/**
 * The original's `custom-llm`: one upstream as an object (`baseUrl`, `useProxy`) serving
 * `custom/<model>`, where today's is a list of upstreams, each with its own prefix. The object
 * becomes the list's one entry with the prefix `custom`, so `custom/<model>` keeps working.
 *
 * @module
 */
import { isObject, type LegacyWarn } from "./legacy.ts";

type RawObject = Record<string, unknown>;

/** Rewrites an object-valued `custom-llm` of `raw` in place. */
export function migrateCustomKeys(raw: RawObject, warn: LegacyWarn): void {
  const old = raw["custom-llm"];
  if (!isObject(old)) return;
  const entry: RawObject = { prefix: "custom" };
  const base = old["base-url"] ?? old.baseUrl;
  if (typeof base === "string") {
    // The original appended `/v1/chat/completions`; today's `base-url` includes the `/v1`.
    entry["base-url"] = /\/v\d+\/?$/.test(base) ? base : `${base.replace(/\/+$/, "")}/v1`;
  }
  const proxied = old["use-proxies"] ?? old.useProxy ?? old.proxied;
  if (typeof proxied === "boolean") entry["use-proxies"] = proxied;
  if (typeof old.tc === "boolean") entry.tc = old.tc;
  raw["custom-llm"] = [entry];
  warn(
    ["custom-llm"],
    "'custom-llm' is now a list of upstreams, each with a prefix: read as one entry with " +
      "prefix 'custom' (custom/<model> as before) and base-url " +
      `${String(entry["base-url"] ?? "(unset)")}`,
  );
}
