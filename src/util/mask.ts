/**
 * Keeps secrets out of logs and error texts. Known secrets (keys, cookies, passwords from config and
 * the credentials of requests in flight) are replaced wherever they appear, and well-known token
 * shapes are masked even when nobody registered them.
 *
 * @module
 */

/** Known secrets and how many holders each has (config secrets are held for good). */
const known = new Map<string, number>();

/** Patterns of credentials that are masked even if never registered. */
const patterns: RegExp[] = [
  /\b(sk-[A-Za-z0-9_-]{4})[A-Za-z0-9_-]{8,}/g,
  /\b(AIza[A-Za-z0-9_-]{2})[A-Za-z0-9_-]{20,}/g,
  /\b(Bearer\s+[A-Za-z0-9._~+/-]{2})[A-Za-z0-9._~+/=-]{6,}/gi,
  /\b((?:sessionKey|sessionid|_U|msToken|cf_clearance|stytch_session|ydc_stytch_session|__Secure-next-auth\.session-token)=[^;\s"]{2})[^;\s"]{4,}/g,
  /([?&](?:key|token|api_key|access_token|sec_access_token)=[^&\s"]{2})[^&\s"]{4,}/gi,
];

/** Passwords inside URLs (`socks5://user:pass@host`) become `user:***@`. */
const URL_PASSWORD = /(\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@]+:)[^\s@/]+@/gi;

/** Shows the first and last characters of a secret only, e.g. `sk-a…9f3` . */
export function maskSecret(secret: string): string {
  const s = secret.trim();
  if (s.length <= 8) return "***";
  const head = s.length > 24 ? 6 : 3;
  return `${s.slice(0, head)}…${s.slice(-3)}`;
}

/** A secret and, for cookie strings, each value in it (which may show up alone). */
function partsOf(secret: string): string[] {
  const t = secret.trim();
  const out = t.length >= 6 ? [t] : [];
  if (t.includes("=")) {
    for (const part of t.split(";")) {
      const v = part.slice(part.indexOf("=") + 1).trim();
      if (v.length >= 8) out.push(v);
    }
  }
  return out;
}

/** Registers secrets for good (config) so that `redact` masks them. Short strings are ignored. */
export function registerSecrets(secrets: Iterable<string | undefined>): void {
  for (const s of secrets) if (s) { for (const p of partsOf(s)) known.set(p, Infinity); }
}

/**
 * Masks secrets while a request uses them (a client's own credential); the returned function
 * releases them, so that the set does not grow with every client that ever called.
 */
export function holdSecrets(secrets: Iterable<string | undefined>): () => void {
  const held: string[] = [];
  for (const s of secrets) if (s) held.push(...partsOf(s));
  for (const p of held) known.set(p, (known.get(p) ?? 0) + 1);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    for (const p of held) {
      const n = (known.get(p) ?? 1) - 1;
      if (n <= 0) known.delete(p);
      else known.set(p, n);
    }
  };
}

/** How many secrets are known now (for tests). */
export function knownSecretCount(): number {
  return known.size;
}

/** Returns `text` with every known secret and credential-shaped token masked. */
export function redact(text: string): string {
  let out = text;
  for (const s of known.keys()) {
    if (out.includes(s)) out = out.split(s).join(maskSecret(s));
  }
  for (const re of patterns) out = out.replace(re, "$1***");
  return out.replace(URL_PASSWORD, "$1***@");
}
