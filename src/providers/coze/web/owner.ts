/**
 * Owner mode rewrites a bot's draft settings before each chat, so two requests on one bot must not
 * interleave between the update and the chat request. Each bot has a lock held from before the
 * update until the chat request is under way; a request that waits longer than `coze.owner-wait`
 * is answered 429.
 *
 * @module
 */
import { GatewayError } from "../../../openai/errors.ts";
import type { BotLock } from "../state.ts";

/**
 * Takes the lock of `botId`, waiting at most `waitSeconds`. Resolves with the release function
 * (safe to call more than once); throws 429 when the wait runs out, the abort reason on abort.
 */
export async function lockBot(
  locks: Map<string, BotLock>,
  botId: string,
  waitSeconds: number,
  signal: AbortSignal,
): Promise<() => void> {
  let lock = locks.get(botId);
  if (!lock) locks.set(botId, lock = { held: false, waiters: [] });
  const l = lock;
  if (l.held) {
    await new Promise<void>((resolve, reject) => {
      const grant = () => {
        cleanup();
        resolve();
      };
      const fail = (err: unknown) => {
        cleanup();
        const i = l.waiters.indexOf(grant);
        if (i >= 0) l.waiters.splice(i, 1);
        reject(err);
      };
      const onAbort = () => fail(signal.reason);
      const timer = setTimeout(() =>
        fail(
          new GatewayError(
            429,
            `coze bot ${botId} is busy with another owner-mode request (-o); waited ${waitSeconds}s (coze.owner-wait)`,
            "rate_limit_error",
            "bot_busy",
            null,
            { retryAfter: 1 },
          ),
        ), waitSeconds * 1000);
      const cleanup = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", onAbort);
      };
      if (signal.aborted) return fail(signal.reason);
      signal.addEventListener("abort", onAbort, { once: true });
      l.waiters.push(grant);
    });
  } else {
    l.held = true;
  }
  let released = false;
  return () => {
    if (released) return;
    released = true;
    const next = l.waiters.shift();
    if (next) next();
    else {
      l.held = false;
      if (locks.get(botId) === l) locks.delete(botId);
    }
  };
}
