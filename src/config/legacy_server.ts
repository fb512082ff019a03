/**
 * The original adapter's top-level keys (`flags`, `debug`, `white-addr`, `server-conn`,
 * `toolCall`, `serverless`, ...): each mapped onto today's key or dropped with a warning that says
 * what replaced it. The helper process (`serverless`, `browser-less`) is gone: the gateway drives
 * Chromium itself when a site's challenge needs one.
 *
 * @module
 */
import type { KeyRule, LegacyRule } from "./legacy.ts";

/** `-1` (or any number) was the original's "no default tool"; today that is an absent id. */
function notToolName(value: unknown): boolean {
  return typeof value !== "string" || value === "-1" || value === "";
}

/** The helper's keys, the same in `serverless` (v2.1) and `browser-less` (v3). */
function helperKeys(section: string): KeyRule[] {
  return [
    {
      path: [section, "execPath"],
      to: ["browser", "executable"],
      note: "is now browser.executable",
    },
    {
      path: [section, "headless"],
      to: ["browser", "headless"],
      convert: (v) => v !== false && v !== "false",
      note: "is now browser.headless (true or false; 'new' is true)",
    },
    {
      path: [section, "disabled-gpu"],
      note: "is ignored: headless Chromium draws without a GPU (extra flags go in browser.args)",
    },
    {
      path: [section],
      note: "(the original's Cloudflare helper process) is gone: the gateway starts Chromium " +
        "itself when a site's challenge needs it (browser.*); its other keys are ignored",
    },
  ];
}

/** The original's top-level keys, in the order they are applied. */
export const serverLegacy: readonly LegacyRule[] = [
  { path: ["flags"], to: ["server", "flags"], note: "is now server.flags" },
  {
    path: ["debug"],
    note: "is not a config key any more: start with --log debug (whole request bodies are " +
      "never logged; they hold secrets)",
  },
  {
    path: ["white-addr"],
    note: "(an allow-list of client addresses) is gone: set server.password, or serve only " +
      "this machine with server.host 127.0.0.1",
  },
  {
    path: ["x-addr"],
    note: "is ignored: set server.domain to the public base URL of stored images",
  },
  {
    path: ["server-conn", "responseHeaderTimeout"],
    to: ["server", "timeouts", "first-byte"],
    when: (v) => typeof v === "number" && v > 0,
    note: "is now server.timeouts.first-byte (seconds)",
  },
  {
    path: ["server-conn"],
    note: "is replaced by server.timeouts (connect, first-byte, idle; seconds, defaults " +
      "30, 120, 120); its other keys are ignored (0 meant no limit, which is never safe)",
  },
  {
    path: ["toolCall", "id"],
    when: notToolName,
    note: "-1 (no default tool) is today's default when toolcall.id is absent: dropped",
  },
  { kind: "move", from: ["toolCall"], to: ["toolcall"] },
  ...helperKeys("serverless"),
  ...helperKeys("browser-less"),
  {
    path: ["clash"],
    note: "(never used by the original) is ignored: upstream proxies are server.proxies and " +
      "each provider's proxies",
  },
  {
    path: ["matcher"],
    note: "(stream filters) is ignored: put a <matcher> marker in a system message instead",
  },
];
