/**
 * Credentials of a request: the upstream credential clients send as `Authorization: Bearer X`
 * or `X-Api-Key: X`, and the `server.password` gate.
 *
 * @module
 */

/** The credential a request carries, or undefined. */
export function credentialOf(headers: Headers): string | undefined {
  const apiKey = headers.get("x-api-key")?.trim();
  if (apiKey) return apiKey;
  const auth = headers.get("authorization")?.trim();
  if (!auth) return undefined;
  const m = /^bearer\s+(.*)$/i.exec(auth);
  const token = (m ? m[1] : auth).trim();
  return token === "" ? undefined : token;
}

/** Compares two strings in time that depends only on their lengths. */
export function safeEqual(a: string, b: string): boolean {
  const ea = new TextEncoder().encode(a);
  const eb = new TextEncoder().encode(b);
  let diff = ea.length ^ eb.length;
  for (let i = 0; i < Math.max(ea.length, eb.length); i++) diff |= (ea[i] ?? 0) ^ (eb[i] ?? 0);
  return diff === 0;
}

/** True when `token` is one of `passwords`. */
export function passwordMatches(token: string | undefined, passwords: readonly string[]): boolean {
  if (token === undefined) return false;
  let ok = false;
  for (const p of passwords) ok = safeEqual(token, p) || ok;
  return ok;
}
