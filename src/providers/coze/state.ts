/**
 * What one coze provider keeps across requests: its pools (API tokens; the web mode's cookies),
 * the published bots it discovered, and for the legacy web mode the background clean-up calls, the
 * owner-mode bot locks and the remembered msTokens.
 *
 * @module
 */
import { PoolSet } from "../../pool/mod.ts";
import { Background } from "../../util/background.ts";
import type { Logger } from "../../util/log.ts";

/** Owner mode's lock of one bot: one draft edit and chat at a time. */
export interface BotLock {
  held: boolean;
  waiters: (() => void)[];
}

/** The state of one coze provider. */
export interface CozeState {
  pools: PoolSet;
  background: Background;
  /** Owner-mode locks by bot id. */
  locks: Map<string, BotLock>;
  /** msTokens by signing service and cookie. */
  tokens: Map<string, { token: string; until: number }>;
  /** Bots discovered in a workspace (`/v1/bots`) by host and workspace, kept until `until`. */
  discovered: Map<string, { until: number; ids: string[] }>;
}

/** A fresh state. */
export function createCozeState(log: Logger): CozeState {
  return {
    pools: new PoolSet(log),
    background: new Background(),
    locks: new Map(),
    tokens: new Map(),
    discovered: new Map(),
  };
}
