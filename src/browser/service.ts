/**
 * Clearance as a service for upstreams behind Cloudflare: Chromium earns `cf_clearance` and mints
 * Turnstile and reCAPTCHA tokens when an upstream asks, looking like the gateway's own requests
 * (the chrome transport's user agent and client hints, the same proxy: a clearance is bound to
 * both), and the results are kept per account, site and proxy.
 *
 * `run` is the one policy: call with the kept clearance (or, lazily, with none); when the site
 * answers with Cloudflare's challenge (`isChallenge`, see `src/net/cloudflare.ts`), the clearance
 * is marked stale, a fresh one is earned and the call is retried once. A challenge that is not
 * solved within `browser.timeout` is a 504 saying so; neither is ever an auth failure.
 *
 * @module
 */
import type { Config } from "../config/schema.ts";
import { challengeFailed, challengeTimeout, isChallenge } from "../net/cloudflare.ts";
import { GatewayError } from "../openai/errors.ts";
import type { Logger } from "../util/log.ts";
import { type Clearance, ClearanceCache, clearanceOf, passChallenge } from "./clearance.ts";
import type { Browsers } from "./browsers.ts";
import { ChallengeTimeout, type SiteOptions } from "./site.ts";
import { mintToken, type TokenRequest } from "./tokens.ts";

/** Whose clearance, for which site, through which proxy. */
export interface SiteIdentity {
  /** The provider asking (errors and log lines name it). */
  provider: string;
  /** The page the browser opens to earn a clearance (the site's root). */
  site: string;
  /**
   * Whose clearance: an account's credential or an anonymous session's id. Part of the cache key
   * only; never logged.
   */
  account: string;
  /** The proxy the upstream calls use (the browser leaves through it too). */
  proxy?: string;
  /** The account's cookies (a `Cookie` header value) to carry into the browser. */
  cookies?: string;
}

/** Options of `run`. */
export interface RunOptions {
  /**
   * Earn a clearance before the first attempt when none is kept (sites that always challenge).
   * Without it the first attempt goes with the kept one or none, and Chromium starts only when
   * the site challenges.
   */
  eager?: boolean;
}

/** A token request and the page of the site it is minted in (default the identity's `site`). */
export type TokenOrder = TokenRequest & { pageUrl?: string };

/** The clearances and captcha tokens of one provider instance. */
export class ClearanceService {
  #cache = new ClearanceCache();

  constructor(private readonly browsers: Browsers, private readonly log?: Logger) {}

  /** The cache key of an identity. */
  static key(id: SiteIdentity): string {
    return JSON.stringify([new URL(id.site).origin, id.proxy ?? "", id.account]);
  }

  /** The kept clearance of `id`, without starting the browser. */
  peek(id: SiteIdentity): Clearance | undefined {
    return this.#cache.peek(ClearanceService.key(id));
  }

  /** The kept clearance of `id`, or a fresh one from Chromium (one run at a time per key). */
  get(id: SiteIdentity, config: Config, signal?: AbortSignal): Promise<Clearance> {
    const key = ClearanceService.key(id);
    return this.#cache.get(key, async () => {
      const host = new URL(id.site).host;
      this.log?.info(`${id.provider}: passing the Cloudflare challenge of ${host} with Chromium`);
      const started = Date.now();
      const c = await this.#browse(
        id,
        config,
        (browser, options) => passChallenge(browser, options),
      );
      this.log?.info(
        `${id.provider}: challenge of ${host} passed in ${Date.now() - started} ms (${
          c.cookies.cf_clearance ? "cf_clearance" : "no clearance cookie needed"
        })`,
      );
      return c;
    }, signal);
  }

  /** Forgets the clearance of `id` (it stopped working); a newer one is kept. */
  stale(id: SiteIdentity, clearance?: Clearance): void {
    this.#cache.drop(ClearanceService.key(id), clearance);
  }

  /**
   * Runs `attempt` with the clearance of `id`. When it fails with Cloudflare's challenge, the
   * clearance is marked stale, a fresh one is earned and `attempt` runs once more; its errors,
   * a second challenge included, are thrown as they are.
   */
  async run<T>(
    id: SiteIdentity,
    config: Config,
    signal: AbortSignal | undefined,
    attempt: (clearance: Clearance | undefined) => Promise<T>,
    options: RunOptions = {},
  ): Promise<T> {
    let clearance = options.eager ? await this.get(id, config, signal) : this.peek(id);
    try {
      return await attempt(clearance);
    } catch (err) {
      if (!isChallenge(err) || signal?.aborted) throw err;
      this.log?.info(`${id.provider}: ${err.message}; earning a fresh clearance`);
      this.stale(id, clearance);
      clearance = await this.get(id, config, signal);
    }
    try {
      return await attempt(clearance);
    } catch (err) {
      if (!isChallenge(err)) throw err;
      this.stale(id, clearance);
      throw new GatewayError(
        403,
        `${err.message}, even with a fresh clearance from Chromium (the address or the user agent may be blocked)`,
        err.type,
        err.code,
      );
    }
  }

  /**
   * `run` for an answer stream: `attempt`'s items pass through as they come, and a challenge is
   * retried (once, with a fresh clearance) only while nothing has been passed on. The clearance
   * is read when each attempt starts (`current`), so a token minted meanwhile is taken into
   * account.
   */
  async *stream<T>(
    id: () => SiteIdentity,
    config: Config,
    signal: AbortSignal | undefined,
    attempt: (clearance: () => Clearance | undefined) => AsyncIterable<T>,
    options: RunOptions = {},
  ): AsyncGenerator<T> {
    if (options.eager) await this.get(id(), config, signal);
    for (let round = 0;; round++) {
      const used = this.peek(id());
      let produced = false;
      try {
        for await (const item of attempt(() => this.peek(id()))) {
          produced = true;
          yield item;
        }
        return;
      } catch (err) {
        if (!isChallenge(err) || produced || signal?.aborted) throw err;
        this.stale(id(), used);
        if (round > 0) {
          throw new GatewayError(
            403,
            `${err.message}, even with a fresh clearance from Chromium (the address or the user agent may be blocked)`,
            err.type,
            err.code,
          );
        }
        this.log?.info(`${id().provider}: ${err.message}; earning a fresh clearance`);
        await this.get(id(), config, signal);
      }
    }
  }

  /**
   * A captcha token minted in a page of the site (`order.pageUrl`, default the identity's site).
   * The clearance the run earned on the way is kept for the identity.
   */
  async token(
    id: SiteIdentity,
    config: Config,
    order: TokenOrder,
    signal?: AbortSignal,
  ): Promise<string> {
    const host = new URL(order.pageUrl ?? id.site).host;
    this.log?.info(`${id.provider}: minting a ${order.kind} token in a page of ${host}`);
    const minted = await this.#browse(
      { ...id, site: order.pageUrl ?? id.site },
      config,
      (browser, options) => mintToken(browser, options, order),
      signal,
    );
    const earned = clearanceOf(minted.cookies, minted.userAgent, config.browser.lang);
    if (earned.cookies.cf_clearance) this.#cache.set(ClearanceService.key(id), earned);
    return minted.token;
  }

  /** Starts (or reuses) the browser and runs `job` with the identity's page options. */
  async #browse<T>(
    id: SiteIdentity,
    config: Config,
    job: (browser: Awaited<ReturnType<Browsers["get"]>>, options: SiteOptions) => Promise<T>,
    signal?: AbortSignal,
  ): Promise<T> {
    const browser = await this.browsers.get(config);
    const seconds = config.browser.timeout;
    try {
      return await job(browser, {
        url: id.site,
        cookieHeader: id.cookies,
        proxy: id.proxy,
        lang: config.browser.lang,
        timeoutMs: seconds * 1000,
        signal,
      });
    } catch (err) {
      if (err instanceof GatewayError) throw err;
      if (err instanceof ChallengeTimeout) {
        throw challengeTimeout(id.provider, `${err.message} (browser.timeout: ${seconds}s)`);
      }
      throw challengeFailed(id.provider, (err as Error).message, err);
    }
  }
}
