/**
 * Which Coze access token serves a request in the API mode: the client's own when it is a
 * personal access token (`pat_...`), else one of the `coze.tokens` pool. A client key that is no
 * PAT (the `sk-...` many clients insist on) never displaces configured tokens; with none
 * configured it is tried as it is (an OAuth or service token).
 *
 * @module
 */
import type { Config } from "../../config/schema.ts";
import { keyPoolOptions, type Pool } from "../../pool/mod.ts";
import { type CredentialRule, poolNaming } from "../readiness.ts";
import type { CozeState } from "./state.ts";

/** True for a Coze personal access token. */
export function isPat(token: string | undefined): boolean {
  return typeof token === "string" && token.startsWith("pat_");
}

/** The API mode's credentials: personal access tokens in `coze.tokens`. */
export const COZE_TOKENS: CredentialRule = {
  key: "coze.tokens",
  noun: "access token",
  shape: "pat_…",
  matches: isPat,
};

/** The `coze` pool of `coze.tokens`. */
export function tokenPool(state: CozeState, config: Config): Pool {
  return state.pools.get("coze", config.coze.tokens, {
    ...keyPoolOptions(config.coze),
    ...poolNaming(COZE_TOKENS),
  });
}

/** The client's token to use, or undefined to use the pool (`poolSize` tokens). */
export function clientToken(token: string | undefined, poolSize: number): string | undefined {
  if (!token) return undefined;
  if (isPat(token) || poolSize === 0) return token;
  return undefined;
}
