/**
 * The keys of earlier versions that each provider's section still takes, mapped or dropped with
 * a warning that says what replaced them (the mechanism is `legacy.ts`; the loader applies the
 * table before validation).
 *
 * @module
 */
import type { KeyRule as LegacyKey, LegacyRule } from "./legacy.ts";
import { migrateArenaKeys } from "./legacy_arena.ts";
import { migrateCustomKeys } from "./legacy_custom.ts";
import { migrateBingKeys } from "./legacy_bing.ts";
import { migrateImageKeys } from "./legacy_images.ts";
import { migrateInterpreterKeys } from "./legacy_interpreter.ts";
import { serverLegacy } from "./legacy_server.ts";

/** True unless the raw file turns `<section>.mode` to `web`. */
function notWebMode(section: string): (value: unknown, root: Record<string, unknown>) => boolean {
  return (_value, root) => (root[section] as { mode?: unknown } | undefined)?.mode !== "web";
}

/** True when a URL value names one of `hosts`. */
function urlOnHost(hosts: readonly string[]): (value: unknown) => boolean {
  return (value) => {
    try {
      return hosts.includes(new URL(String(value)).host.toLowerCase());
    } catch {
      return false;
    }
  };
}

const COZE_WEB_ONLY =
  "is used only by the legacy web mode (coze.mode: web); the default API mode " +
  "takes personal access tokens (coze.tokens) and bot ids (coze.bot, coze.bots)";

/** The coze keys of earlier versions. */
const cozeLegacy: LegacyKey[] = [
  ...["8k", "128k", "images"].flatMap((b): LegacyKey[] => [
    { path: ["coze", b, "botId"], to: ["coze", b, "bot-id"], note: `is now coze.${b}.bot-id` },
    { path: ["coze", b, "isW"], to: ["coze", b, "websdk"], note: `is now coze.${b}.websdk` },
    {
      path: ["coze", b],
      note: "holds the original's placeholder bot id 114514: ignored (no bot configured)",
      when: (v) => String((v as Record<string, unknown> | undefined)?.["bot-id"]) === "114514",
    },
  ]),
  {
    path: ["coze", "websdk"],
    note: "(web SDK accounts logged in by the original's helper) is no longer supported: " +
      "use Coze's API with a personal access token (coze.tokens)",
  },
  {
    path: ["coze", "websdk-counter"],
    note: "(the original's web SDK account counter) is no longer used",
  },
  ...["cookies", "sign-url", "websdk-url", "upload-url", "owner-wait", "web-url"].map((
    k,
  ): LegacyKey => ({
    path: ["coze", k],
    keep: true,
    when: notWebMode("coze"),
    note: COZE_WEB_ONLY,
  })),
  {
    path: ["coze", "base-url"],
    to: ["coze", "web-url"],
    when: urlOnHost(["www.coze.com", "coze.com", "www.coze.cn", "coze.cn"]),
    note: "names Coze's web site, now coze.web-url (legacy web mode); coze.base-url is the " +
      "API root (default https://api.coze.com, or https://api.coze.cn)",
  },
];

const YOU_WEB_ONLY = "is used only by the legacy web mode (you.mode: web); the default API mode " +
  "takes API keys (you.api-key)";

/** The you keys of earlier versions. */
const youLegacy: LegacyKey[] = [
  {
    path: ["you", "helper"],
    note: "(the port of the original's Cloudflare helper) is no longer used: the API needs no " +
      "helper, and the legacy web mode passes Cloudflare with Chromium (browser.*)",
  },
  {
    path: ["you", "custom"],
    note: "(custom agents the original made per model) is no longer used: map model names to " +
      "your custom agents' ids in you.agents",
  },
  { path: ["you", "task"], note: "(the original's clearance refresh timer) is no longer used" },
  { path: ["you", "model"], to: ["you", "models"], note: "is now you.models" },
  ...["cookies", "notice", "clearance", "file-tokens", "web-url"].map((k): LegacyKey => ({
    path: ["you", k],
    keep: true,
    when: notWebMode("you"),
    note: YOU_WEB_ONLY,
  })),
  {
    path: ["you", "base-url"],
    to: ["you", "web-url"],
    when: urlOnHost(["you.com", "www.you.com"]),
    note: "names the you.com site, now you.web-url (legacy web mode); you.base-url is the API " +
      "root (default https://api.you.com)",
  },
];

/** Gemini: the original called the section `google` (`google.safes`, `google.tc`). */
const geminiLegacy: LegacyRule[] = [{ kind: "move", from: ["google"], to: ["gemini"] }];

/** Cohere: v1's safety mode `NONE` is `OFF` in the v2 API; the original took any case. */
const cohereLegacy: LegacyRule[] = [{
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
}];

/** Keys of earlier versions, in the order they are applied. */
export const LEGACY_KEYS: readonly LegacyRule[] = [
  ...serverLegacy,
  ...geminiLegacy,
  ...cohereLegacy,
  ...cozeLegacy,
  ...youLegacy,
  { kind: "custom", apply: migrateBingKeys },
  { kind: "custom", apply: migrateArenaKeys },
  { kind: "custom", apply: migrateImageKeys },
  { kind: "custom", apply: migrateInterpreterKeys },
  { kind: "custom", apply: migrateCustomKeys },
];
