/**
 * Which coze.com cookie serves a request: the client's own (`Authorization: Bearer <cookie>`), or
 * one of the `coze-web` pool (`coze.cookies`), with the pool's retries on the next account.
 *
 * @module
 */
import { type Lease, type Pool, useAccount, withAccount } from "../../../pool/mod.ts";
import { type CredentialRule, poolNaming } from "../../readiness.ts";
import type { ChatContext, ChatEvent, RequestContext } from "../../types.ts";
import type { CozeState } from "../state.ts";

/** Seconds a cookie rests after a message limit when `coze.cooldown` is not set. */
const LIMIT_COOLDOWN = 3600;

/** True when `token` looks like a Coze credential rather than a placeholder API key. */
export function looksLikeCozeCookie(token: string): boolean {
  return /(^|[;\s])sessionid=|\[msToken=|(^|[;\s])msToken=/.test(token) ||
    /^[0-9a-f]{32}$/i.test(token.trim());
}

/** The web mode's credentials: coze.com cookies in `coze.cookies`. */
export const COZE_COOKIES: CredentialRule = {
  key: "coze.cookies",
  noun: "cookie",
  shape: "sessionid=…",
  matches: looksLikeCozeCookie,
};

/** The `coze-web` pool of `coze.cookies`. */
export function cozePool(state: CozeState, ctx: Pick<ChatContext, "config">): Pool {
  const cfg = ctx.config.coze;
  return state.pools.get("coze-web", cfg.cookies, {
    concurrency: cfg.concurrency ?? 1,
    cooldown: cfg.cooldown ?? LIMIT_COOLDOWN,
    ...poolNaming(COZE_COOKIES),
  });
}

/**
 * The client's cookie to use, or undefined to use the pool. When the pool has accounts, a key
 * that is plainly no Coze cookie (the `sk-...` many clients insist on) does not displace them.
 */
export function clientCookie(token: string | undefined, poolSize: number): string | undefined {
  if (!token) return undefined;
  if (poolSize > 0 && !looksLikeCozeCookie(token)) return undefined;
  return token;
}

/** Streams `attempt` with the client's cookie or pooled ones (retrying on the next account). */
export function withCookie(
  state: CozeState,
  ctx: ChatContext,
  attempt: (cookie: string, lease: Lease) => AsyncIterable<ChatEvent>,
): AsyncIterable<ChatEvent> {
  const pool = cozePool(state, ctx);
  return withAccount(
    pool,
    { token: clientCookie(ctx.token, pool.size), signal: ctx.signal },
    attempt,
  );
}

/** Runs `attempt` with `cookie`, else with pooled ones (with the pool's retries). */
export function useCookie<T>(
  state: CozeState,
  ctx: RequestContext,
  cookie: string | undefined,
  attempt: (cookie: string) => Promise<T>,
): Promise<T> {
  return useAccount(
    cozePool(state, ctx),
    { token: cookie || undefined, signal: ctx.signal },
    attempt,
  );
}
