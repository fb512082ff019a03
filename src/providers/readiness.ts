/**
 * One way for every provider with a credential pool (keys, access tokens, cookies) to say whether
 * it is ready, and what to set when it is not: the same config key the pool's 401 names
 * (`missingCredential`), the same rule for client credentials (`clientCredential`).
 *
 * A client credential counts only when it has the provider's shape: the `sk-...` placeholder
 * many clients insist on sending is nobody's key, so it neither lists a provider's models nor
 * displaces the keys in config.
 *
 * @module
 */
import type { Config } from "../config/schema.ts";
import type { PoolOptions } from "../pool/mod.ts";
import type { Readiness, ReadinessContext } from "./types.ts";

/** Where a provider's credentials live in config and how a client's own one looks. */
export interface CredentialRule {
  /** The config key of the pool (`gemini.keys`). */
  key: string;
  /** What one credential is called (`key`, `access token`, `cookie`). */
  noun: string;
  /** How such a credential looks, for the notes (`AIza…`); omitted when it has no fixed shape. */
  shape?: string;
  /** True when a client credential has this provider's shape. */
  matches(token: string): boolean;
}

/** The pool options that make the pool's 401 name the rule's key. */
export function poolNaming(rule: CredentialRule): Pick<PoolOptions, "configKey" | "noun"> {
  return { configKey: rule.key, noun: rule.noun };
}

/**
 * The client's credential to use, or undefined for the pool (`poolSize` credentials): one that
 * does not have the rule's shape never displaces configured ones; with none configured, any
 * credential is tried as it is (the upstream judges it).
 */
export function clientCredential(
  rule: CredentialRule,
  token: string | undefined,
  poolSize: number,
): string | undefined {
  if (!token) return undefined;
  return poolSize === 0 || rule.matches(token) ? token : undefined;
}

/** `2 keys`, `1 cookie`, `3 access tokens`. */
export function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

/** What to set (or send) for a pool that is empty: the note of a provider that is not ready. */
export function missingNote(config: Config, rule: CredentialRule): string {
  const shape = rule.shape ? ` (${rule.shape})` : "";
  if (config.server.password.length > 0) {
    // The password takes the Authorization header: clients cannot bring their own credential.
    return `set ${rule.key} in config.yaml`;
  }
  return `set ${rule.key} in config.yaml, or send your own ${rule.noun}${shape} as 'Authorization: Bearer …'`;
}

/**
 * The readiness of a pool of `size` configured credentials: ready with them, or with the request's
 * own credential when it has the rule's shape; else not ready, saying what to set.
 */
export function poolReadiness(
  config: Config,
  rule: CredentialRule,
  size: number,
  ctx: ReadinessContext = {},
): Readiness {
  if (size > 0) {
    return { ready: true, pooled: true, note: `${count(size, rule.noun)} (${rule.key})` };
  }
  if (ctx.credential && rule.matches(ctx.credential)) {
    return { ready: true, pooled: false, note: `the request's own ${rule.noun}` };
  }
  return { ready: false, note: missingNote(config, rule) };
}
