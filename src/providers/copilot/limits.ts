/**
 * Each account's own pace: at most `copilot.rpm` conversations a minute, `copilot.burst` of them
 * back to back (a token bucket, as Windows-Copilot-API paces one account: 12 rpm, burst 4,
 * below the ~15 rpm at which an account starts seeing upstream 502s).
 *
 * @module
 */
import { GatewayError } from "../../openai/errors.ts";
import { maskSecret } from "../../util/mask.ts";
import { pause } from "../../util/signal.ts";

/** Longest wait for a free slot before answering 429 (the pool then tries another account). */
export const MAX_WAIT_MS = 10_000;

/** Accounts remembered at most (client tokens come and go). */
const MAX_ACCOUNTS = 1000;

interface Bucket {
  tokens: number;
  at: number;
}

/** The buckets of one provider instance. */
export class RateLimits {
  #buckets = new Map<string, Bucket>();

  /** Takes a slot for `id` now if there is one (returns 0), else the milliseconds until one. */
  take(id: string, rpm: number, burst: number, now = Date.now()): number {
    if (rpm <= 0) return 0;
    const perMs = rpm / 60_000;
    let b = this.#buckets.get(id);
    if (!b) {
      if (this.#buckets.size >= MAX_ACCOUNTS) {
        this.#buckets.delete(this.#buckets.keys().next().value!);
      }
      this.#buckets.set(id, b = { tokens: burst, at: now });
    }
    b.tokens = Math.min(burst, b.tokens + (now - b.at) * perMs);
    b.at = now;
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.ceil((1 - b.tokens) / perMs);
  }

  /**
   * Waits for a slot of `id` (at most `MAX_WAIT_MS`); a longer wait is a 429 with the time, for
   * the pool to rest the account and try another.
   */
  async acquire(id: string, rpm: number, burst: number, signal?: AbortSignal): Promise<void> {
    for (let i = 0; i < 3; i++) {
      const wait = this.take(id, rpm, burst);
      if (wait === 0) return;
      if (wait > MAX_WAIT_MS) {
        throw new GatewayError(
          429,
          `copilot account ${
            maskSecret(id)
          } is at its pace of ${rpm} conversations a minute (copilot.rpm, copilot.burst); the next slot is in ${
            Math.ceil(wait / 1000)
          }s`,
          "rate_limit_error",
          "rate_limit_exceeded",
          null,
          { retryAfter: Math.ceil(wait / 1000) },
        );
      }
      await pause(wait, signal);
      if (signal?.aborted) return;
    }
  }
}
