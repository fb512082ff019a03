/**
 * Account and key pools. One mechanism for every provider that holds credentials in config
 * (cookies, API keys): pick the least busy ready account (ties go to the one used longest ago, so
 * equal accounts rotate), release it when the request ends however it ends, put it aside on 429
 * (for `Retry-After` or the provider's default) and on auth failures (until a timed re-check), and
 * retry the request on the next account, only while nothing has reached the client yet.
 *
 * Cloudflare's challenges (and a challenge the browser could not solve) are not auth failures:
 * they concern the clearance of an address and a user agent, not the account. The account stays
 * in service; its `clearance_failures` (consecutive, reset by a success) and last error show in
 * `/v1/pool`.
 *
 * @module
 */
import { isClearanceError } from "../net/cloudflare.ts";
import { GatewayError } from "../openai/errors.ts";
import type { ChatEvent } from "../core/events.ts";
import type { Logger } from "../util/log.ts";
import { maskSecret, redact, registerSecrets } from "../util/mask.ts";
import { pause } from "../util/signal.ts";

/** How a pool treats its accounts. */
export interface PoolOptions {
  /** Requests one account serves at once. */
  concurrency: number;
  /** Seconds an account rests after a 429 without `Retry-After`. */
  cooldown: number;
  /** Seconds an account rests after an auth failure before it is tried again. */
  authCooldown: number;
  /** Milliseconds a request waits for a busy account before giving up with 429. */
  waitMs: number;
  /**
   * The config key that holds the accounts (`gemini.keys`): the 401 of a request that finds none
   * names it, so that a first run says exactly what to set.
   */
  configKey?: string;
  /** What one account is (`key`, `access token`, `cookie`), for the same message. */
  noun?: string;
}

const DEFAULTS: PoolOptions = { concurrency: 1, cooldown: 60, authCooldown: 3600, waitMs: 10_000 };

/**
 * Options of a pool of API keys (Gemini, Cohere, OpenAI-compatible upstreams): a key serves any
 * number of requests at once unless the provider's section limits it; its `cooldown` applies.
 */
export function keyPoolOptions(
  section: { concurrency?: number; cooldown?: number } = {},
): Partial<PoolOptions> {
  return { concurrency: section.concurrency ?? 1_000_000, cooldown: section.cooldown ?? 60 };
}

/**
 * The message of a request that found no credential: the config key to set, or what to send.
 * Shared with the readiness notes (`providers/readiness.ts`), so that both say the same thing.
 */
export function missingCredential(name: string, configKey?: string, noun = "credential"): string {
  if (!configKey) {
    return `no ${name} credential: send one as 'Authorization: Bearer …' or configure ${name} accounts in config.yaml`;
  }
  return `no ${name} credential: set ${configKey} in config.yaml, or send your own ${noun} as 'Authorization: Bearer …'`;
}

/** One account's state, as `/v1/pool` shows it. */
export interface AccountState {
  id: string;
  busy: number;
  ready: boolean;
  aside_until: string | null;
  last_error: string | null;
  uses: number;
  /** Requests in a row that failed on the site's Cloudflare clearance (reset by a success). */
  clearance_failures: number;
}

class Account {
  busy = 0;
  asideUntil = 0;
  lastError: string | null = null;
  lastPicked = 0;
  uses = 0;
  clearanceFailures = 0;
  constructor(readonly secret: string) {}
}

/** A lease on one account for one upstream attempt. */
export interface Lease {
  /** The credential to use. */
  readonly secret: string;
  /** Ends the lease; safe to call more than once. */
  release(): void;
  /** Puts the account aside for `seconds` (a 429), recording `reason`. */
  cooldown(reason: string, seconds?: number): void;
  /** Puts the account aside after an auth failure until the timed re-check. */
  authFailed(reason: string): void;
  /** Records an error that does not put the account aside. */
  noteError(reason: string): void;
  /** Records a Cloudflare challenge the clearance did not get past (the account stays ready). */
  clearanceFailed(reason: string): void;
  /** Records that the attempt succeeded. */
  succeeded(): void;
}

/** The accounts of one provider. */
export class Pool {
  #accounts: Account[] = [];
  #options: PoolOptions = DEFAULTS;
  #signature = "";
  #waiters: (() => void)[] = [];
  #pick = 0;

  constructor(readonly name: string, private readonly log?: Logger) {}

  /** Sets the account list and options; accounts that stay keep their state. */
  update(secrets: readonly string[], options: Partial<PoolOptions> = {}): void {
    const merged = { ...DEFAULTS, ...stripUndefined(options) };
    const signature = JSON.stringify([secrets, merged]);
    if (signature === this.#signature) return;
    this.#signature = signature;
    this.#options = merged;
    const old = new Map(this.#accounts.map((a) => [a.secret, a]));
    this.#accounts = [...new Set(secrets)].map((s) => old.get(s) ?? new Account(s));
    registerSecrets(secrets);
  }

  /** The number of accounts. */
  get size(): number {
    return this.#accounts.length;
  }

  /**
   * Takes the least busy ready account not in `exclude`. Waits (up to `waitMs`) while every ready
   * account is at its concurrency limit; throws 429 when none is ready at all.
   */
  async acquire(signal?: AbortSignal, exclude: ReadonlySet<string> = new Set()): Promise<Lease> {
    const deadline = Date.now() + this.#options.waitMs;
    while (true) {
      const now = Date.now();
      const candidates = this.#accounts.filter((a) => !exclude.has(a.secret));
      if (candidates.length === 0) throw this.#noAccount(exclude.size > 0);
      const ready = candidates.filter((a) => a.asideUntil <= now);
      if (ready.length === 0) throw this.#allAside(candidates, now);
      const free = ready.filter((a) => a.busy < this.#options.concurrency);
      if (free.length > 0) {
        free.sort((a, b) => a.busy - b.busy || a.lastPicked - b.lastPicked);
        return this.#lease(free[0]);
      }
      if (now >= deadline || signal?.aborted) {
        throw new GatewayError(
          429,
          `every ${this.name} account is busy (${this.#accounts.length} accounts, ${this.#options.concurrency} request(s) each); try again shortly`,
          "rate_limit_error",
          "pool_busy",
          null,
          { retryAfter: 1 },
        );
      }
      await pause(Math.min(deadline - now, 1000), signal, this.#waiters);
    }
  }

  /** The state of every account with secrets masked. */
  state(): AccountState[] {
    const now = Date.now();
    return this.#accounts.map((a) => ({
      id: maskSecret(a.secret),
      busy: a.busy,
      ready: a.asideUntil <= now,
      aside_until: a.asideUntil > now ? new Date(a.asideUntil).toISOString() : null,
      last_error: a.lastError === null ? null : redact(a.lastError),
      uses: a.uses,
      clearance_failures: a.clearanceFailures,
    }));
  }

  #lease(a: Account): Lease {
    a.busy++;
    a.uses++;
    a.lastPicked = ++this.#pick;
    let released = false;
    // Masked when recorded: a secret in the text (a key the upstream quotes, a client's key held
    // only while its request runs) must not outlive the request in `/v1/pool`.
    const note = (reason: string) => a.lastError = redact(reason);
    const aside = (seconds: number, reason: string) => {
      a.asideUntil = Date.now() + seconds * 1000;
      note(reason);
      this.log?.warn(
        `pool ${this.name}: account ${maskSecret(a.secret)} set aside for ${seconds}s: ${reason}`,
      );
    };
    return {
      secret: a.secret,
      release: () => {
        if (released) return;
        released = true;
        a.busy--;
        this.#wake();
      },
      cooldown: (reason, seconds) => aside(seconds ?? this.#options.cooldown, reason),
      authFailed: (reason) => aside(this.#options.authCooldown, reason),
      noteError: (reason) => {
        note(reason);
      },
      clearanceFailed: (reason) => {
        a.lastError = reason;
        a.clearanceFailures++;
        this.log?.warn(
          `pool ${this.name}: account ${
            maskSecret(a.secret)
          } kept in service after a clearance failure (${a.clearanceFailures} in a row): ${reason}`,
        );
      },
      succeeded: () => {
        a.clearanceFailures = 0;
      },
    };
  }

  #wake(): void {
    // Each wake function takes itself out of `#waiters`: call them from a copy.
    for (const w of [...this.#waiters]) w();
  }

  #noAccount(triedAll: boolean): GatewayError {
    if (triedAll) {
      return new GatewayError(
        429,
        `every ${this.name} account failed for this request`,
        "rate_limit_error",
        "pool_exhausted",
      );
    }
    return new GatewayError(
      401,
      missingCredential(this.name, this.#options.configKey, this.#options.noun),
      "authentication_error",
      "missing_credential",
    );
  }

  #allAside(candidates: Account[], now: number): GatewayError {
    const first = Math.min(...candidates.map((a) => a.asideUntil));
    const seconds = Math.max(1, Math.ceil((first - now) / 1000));
    return new GatewayError(
      429,
      `every ${this.name} account is cooling down (${candidates.length} set aside); the first is ready again in ${seconds}s`,
      "rate_limit_error",
      "pool_cooling_down",
      null,
      { retryAfter: seconds },
    );
  }
}

/** The pools of every provider, created on first use. */
export class PoolSet {
  #pools = new Map<string, Pool>();
  constructor(private readonly log?: Logger) {}

  /** The pool `name`, updated to `secrets` and `options`. */
  get(name: string, secrets: readonly string[], options: Partial<PoolOptions> = {}): Pool {
    let pool = this.#pools.get(name);
    if (!pool) {
      pool = new Pool(name, this.log);
      this.#pools.set(name, pool);
    }
    pool.update(secrets, options);
    return pool;
  }

  /** Every pool's state for `/v1/pool`. */
  state(): { provider: string; accounts: AccountState[] }[] {
    return [...this.#pools.entries()]
      .filter(([, p]) => p.size > 0)
      .map(([provider, p]) => ({ provider, accounts: p.state() }));
  }
}

/**
 * The code of an upstream refusing the server's region or address (anonymous Copilot outside its
 * regions): a 403 that says nothing about the account, which is kept in service.
 */
export const REGION_UNAVAILABLE = "region_unavailable";

/** How an attempt failed, for the retry decision. */
function classify(err: unknown): "rate" | "auth" | "retry" | "clearance" | "address" | "fatal" {
  if (!(err instanceof GatewayError)) return "fatal";
  // Before the status: a challenge is a 403 (or a 504/502) that says nothing about the account.
  if (isClearanceError(err)) return "clearance";
  if (err.code === REGION_UNAVAILABLE) return "address";
  // The request's fault (a bot this key may not use): the next account may serve, this one stays.
  if (err.notAccount && [401, 403, 429].includes(err.status)) return "retry";
  if (err.status === 429) return "rate";
  if (err.status === 401 || err.status === 403) return "auth";
  if (err.status === 502 || err.status === 503) return "retry";
  return "fatal";
}

/** Options of `withAccount`. */
export interface WithAccountOptions {
  /** The credential the client sent; when set, the pool is not used. */
  token?: string;
  signal?: AbortSignal;
  /** Attempts at most (default 3). */
  tries?: number;
}

/**
 * Runs `attempt` with an account of `pool` (or the client's own token) and streams its events.
 * Until the first event is out, a failure puts the account aside as its error warrants and the
 * next account is tried; after that, errors pass through. The account is released when the
 * stream ends, fails or is abandoned.
 */
export async function* withAccount(
  pool: Pool,
  options: WithAccountOptions,
  attempt: (secret: string, lease: Lease) => AsyncIterable<ChatEvent>,
): AsyncGenerator<ChatEvent> {
  if (options.token) {
    yield* attempt(options.token, nullLease(options.token));
    return;
  }
  const tries = options.tries ?? 3;
  const tried = new Set<string>();
  let lastError: unknown;
  for (let i = 0; i < tries; i++) {
    let lease: Lease;
    try {
      lease = await pool.acquire(options.signal, tried);
    } catch (err) {
      // Nothing left to try: report the upstream's own error rather than "pool exhausted".
      throw lastError ?? err;
    }
    tried.add(lease.secret);
    let started = false;
    try {
      for await (const ev of attempt(lease.secret, lease)) {
        started = true;
        yield ev;
      }
      lease.succeeded();
      return;
    } catch (err) {
      const kind = classify(err);
      const reason = (err as Error).message;
      if (kind === "clearance") lease.clearanceFailed(reason);
      if (started || options.signal?.aborted) throw err;
      if (kind === "rate") lease.cooldown(reason, (err as GatewayError).retryAfter);
      else if (kind === "auth") lease.authFailed(reason);
      else if (kind !== "clearance") lease.noteError(reason);
      // Another account would meet the same challenge or region (same address, same agent).
      if (kind === "fatal" || kind === "clearance" || kind === "address") throw err;
      lastError = err;
    } finally {
      lease.release();
    }
  }
  throw lastError;
}

/** Acquires an account for a non-streaming call (embeddings, images) with the same retries. */
export async function useAccount<T>(
  pool: Pool,
  options: WithAccountOptions,
  attempt: (secret: string, lease: Lease) => Promise<T>,
): Promise<T> {
  let result: T | undefined;
  // deno-lint-ignore require-yield
  const events = withAccount(pool, options, async function* (secret, lease) {
    result = await attempt(secret, lease);
  });
  for await (const _ of events) { /* no events */ }
  return result as T;
}

function nullLease(secret: string): Lease {
  return {
    secret,
    release() {},
    cooldown() {},
    authFailed() {},
    noteError() {},
    clearanceFailed() {},
    succeeded() {},
  };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
