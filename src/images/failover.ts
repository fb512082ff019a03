/**
 * Trying image backends in turn: a backend that fails (unreachable, 5xx, its quota spent, no
 * image, not an image) is logged and the next one is tried; a backend that failed once is not
 * tried again by the request's other images. When every backend failed, the answer carries the
 * last error's status and message, after a list of what each backend said. A request that named
 * its backend gets that backend's error as it is.
 *
 * @module
 */
import { GatewayError, toGatewayError } from "../openai/errors.ts";
import type { Logger } from "../util/log.ts";
import type { Backend } from "./backends.ts";

/** An error that ends the request at once instead of moving to the next backend. */
export class NoFailover extends Error {
  constructor(readonly error: unknown) {
    super("no failover");
  }
}

/** The backends of one request and what became of them. */
export class Failover {
  #dead = new Set<string>();
  #failures: { name: string; error: GatewayError }[] = [];
  /**
   * The first attempt on each backend, until it is known to work: the request's other images
   * wait for it instead of asking a backend that may be failing at the same time.
   */
  #probes = new Map<string, Promise<boolean>>();

  constructor(
    readonly backends: readonly Backend[],
    readonly log: Logger,
    readonly signal: AbortSignal,
  ) {}

  /** Runs `attempt` on the first backend that works; throws when none does. */
  async run<T>(attempt: (backend: Backend) => Promise<T>): Promise<T> {
    for (const [i, b] of this.backends.entries()) {
      const probe = this.#probes.get(b.name);
      if (probe && !(await probe)) continue;
      if (this.#dead.has(b.name)) continue;
      let settle: ((ok: boolean) => void) | undefined;
      if (!probe) this.#probes.set(b.name, new Promise((r) => settle = r));
      try {
        const out = await attempt(b);
        settle?.(true);
        return out;
      } catch (err) {
        // A probe that ends with the request's own failure counts as failed for the others.
        settle?.(false);
        if (err instanceof NoFailover) throw err.error;
        if (this.signal.aborted) throw err;
        const e = toGatewayError(err);
        this.#dead.add(b.name);
        this.#failures.push({ name: b.name, error: e });
        const next = this.backends.slice(i + 1).find((x) => !this.#dead.has(x.name));
        this.log.warn(
          `images: ${b.name} failed (${e.status}): ${e.message}` +
            (next ? `; trying ${next.name}` : ""),
        );
      }
    }
    throw this.error();
  }

  /** The error of a request whose backends all failed. */
  error(): GatewayError {
    const last = this.#failures.at(-1);
    if (!last) {
      return new GatewayError(
        503,
        "no image backend is available (images.spaces, images.order)",
        "upstream_error",
        "no_backend",
      );
    }
    if (this.backends.length === 1) return last.error;
    const each = this.#failures.map((f) => `${f.name} (${f.error.status})`).join(", ");
    return new GatewayError(
      last.error.status,
      `every image backend failed: ${each}; the last error: ${last.error.message}`,
      last.error.type,
      last.error.code,
      null,
      { retryAfter: last.error.retryAfter, cause: last.error },
    );
  }
}
