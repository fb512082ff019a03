/**
 * A claude.ai account as the gateway sees it: its session cookie, and the facts read from
 * `GET /api/bootstrap` and `GET /api/organizations` — which organization can chat, whether it is a
 * paid plan, and the flags that make it unusable (reference section 2, clewdr `bootstrap.rs`).
 *
 * - A bootstrap whose `account` is null means the session key is dead (logged out): 401.
 * - The organization is the one whose `capabilities` include `chat` (an account may also belong
 *   to API-only organizations, listed first); among several, the one with most capabilities.
 * - Paid plans: a capability containing `pro`, `enterprise`, `raven` or `max` (clewdr `is_pro`).
 * - `active_flags` not yet expired: `banned` sets the account aside (403), `restricted` rests it
 *   until the flag expires (a 429 with that many seconds); warnings are only reported.
 *
 * @module
 */
import { GatewayError, upstreamFailed } from "../../openai/errors.ts";
import { accountRefused, secondsUntil } from "./errors.ts";

/** A session key's cookie: `sessionKey=sk-ant-sid0N-…`, however the user wrote it. */
export function sessionCookie(secret: string): string {
  const s = secret.trim().replace(/^cookie:\s*/i, "");
  const named = /(?:^|;\s*)sessionKey=([^;\s]+)/.exec(s)?.[1];
  if (named) return `sessionKey=${named}`;
  const bare = /sk-ant-sid\d{2}-[A-Za-z0-9_-]+/.exec(s)?.[0];
  if (bare) return `sessionKey=${bare}`;
  // Anything else is the cookie's value as the user copied it (clewdr sends it as it is too).
  return `sessionKey=${s}`;
}

/** True for a credential shaped like a claude.ai session key (or a cookie string with one). */
export function looksLikeSessionKey(token: string): boolean {
  return /sk-ant-sid\d{2}-/.test(token) || token.includes("sessionKey=");
}

/** What the gateway knows of one account. */
export interface ClaudeAccount {
  /** The uuid of the organization that can chat. */
  org: string;
  capabilities: string[];
  /** A paid plan: the model and extended thinking are honoured. */
  paid: boolean;
  /** Flags worth a log line (warnings), as `type until date`. */
  notes: string[];
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return !!v && typeof v === "object" && !Array.isArray(v);
}

function stringsOf(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((c): c is string => typeof c === "string") : [];
}

/** True when the capabilities are a paid plan's. */
export function isPaid(capabilities: readonly string[]): boolean {
  return capabilities.some((c) => /pro|enterprise|raven|max/.test(c));
}

/** Fails with 401 when the bootstrap says the session is logged out. */
export function checkBootstrap(bootstrap: unknown): void {
  if (!isObject(bootstrap)) throw upstreamFailed("claude", "the bootstrap answer is not an object");
  if (!isObject(bootstrap.account)) {
    throw new GatewayError(
      401,
      "claude: the session key is no longer signed in (bootstrap has no account)",
      "authentication_error",
      "invalid_api_key",
    );
  }
}

/** The organization to chat in, from `GET /api/organizations`; failures say why. */
export function accountFrom(organizations: unknown, now = Date.now()): ClaudeAccount {
  if (!Array.isArray(organizations)) {
    throw upstreamFailed("claude", "the organizations answer is not a list");
  }
  const chat = organizations
    .filter(isObject)
    .filter((o) => typeof o.uuid === "string" && stringsOf(o.capabilities).includes("chat"))
    .sort((a, b) => stringsOf(b.capabilities).length - stringsOf(a.capabilities).length);
  const org = chat[0];
  if (!org) {
    throw accountRefused(
      `none of the account's ${organizations.length} organization(s) can chat`,
      "account_no_chat",
    );
  }
  const capabilities = stringsOf(org.capabilities);
  const notes = checkFlags(org.active_flags, now);
  return { org: org.uuid as string, capabilities, paid: isPaid(capabilities), notes };
}

/** Throws for a ban or a restriction in force; returns the warnings. */
function checkFlags(flags: unknown, now: number): string[] {
  const notes: string[] = [];
  let restricted: number | undefined;
  for (const f of Array.isArray(flags) ? flags.filter(isObject) : []) {
    const type = typeof f.type === "string" ? f.type : "";
    const left = f.expires_at === undefined || f.expires_at === null
      ? Infinity
      : secondsUntil(f.expires_at, now);
    if (left === undefined) continue; // expired
    if (type.includes("banned")) accountBanned(type);
    if (type.includes("restricted")) restricted = Math.max(restricted ?? 0, left);
    else notes.push(`${type}${Number.isFinite(left) ? ` for ${left}s` : ""}`);
  }
  if (restricted !== undefined) {
    const forever = !Number.isFinite(restricted);
    throw new GatewayError(
      429,
      `claude: the account is restricted${forever ? "" : ` for ${restricted}s`} (active_flags)`,
      "rate_limit_error",
      "account_restricted",
      null,
      { retryAfter: forever ? undefined : restricted },
    );
  }
  return notes;
}

function accountBanned(type: string): never {
  throw accountRefused(`claude.ai flagged the account '${type}'`, "account_banned");
}
