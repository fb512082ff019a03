/**
 * The interpreter keys of older configurations: the original's camel-case `interpreter.baseUrl`
 * and `interpreter.echoCode`, and `interpreter.ws`, whose meaning changed with open-interpreter
 * 0.4 (the gateway now connects to the interpreter's own websocket instead of hosting a
 * socket.io endpoint for a patched interpreter).
 *
 * @module
 */
import { isObject, type LegacyWarn } from "./legacy.ts";

type RawObject = Record<string, unknown>;

const RENAMED: Readonly<Record<string, string>> = {
  baseUrl: "base-url",
  echoCode: "echo-code",
};

/** Rewrites the legacy interpreter keys of `raw` in place. */
export function migrateInterpreterKeys(raw: RawObject, warn: LegacyWarn): void {
  const section = raw.interpreter;
  if (!isObject(section)) return;
  for (const [old, now] of Object.entries(RENAMED)) {
    if (section[old] === undefined) continue;
    if (section[now] === undefined) {
      section[now] = section[old];
      warn(["interpreter", old], `'interpreter.${old}' is now 'interpreter.${now}'; applied`);
    } else {
      warn(["interpreter", old], `'interpreter.${old}' ignored: 'interpreter.${now}' is set`);
    }
    delete section[old];
  }
  if (section.ws === true) {
    warn(
      ["interpreter", "ws"],
      "'interpreter.ws: true' now means open-interpreter 0.4's own websocket at " +
        "interpreter.base-url; the 2024 socket.io bridge (/socket.io/open-i/) is gone",
    );
  }
}
