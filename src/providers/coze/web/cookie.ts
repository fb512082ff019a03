/**
 * The Coze credential: a coze.com cookie string (it must carry `sessionid`; a bare value is taken
 * as the `sessionid`) and its `msToken`. The token comes from an `[msToken=...]` segment of the
 * credential, else from the cookie's own `msToken`, else the signing service makes one.
 *
 * @module
 */

/** A credential split into its cookie and its msToken. */
export interface CozeCredential {
  /** The cookie string without the `[msToken=...]` segment. */
  cookie: string;
  /** The msToken the credential carries, if any. */
  msToken?: string;
}

const SEGMENT = "[msToken=";

/**
 * Splits a credential: `sessionid=a; x=y[msToken=T]` gives the cookie `sessionid=a; x=y` and the
 * msToken `T` (the whole value between `[msToken=` and `]`; the original cut it three characters
 * early and sent `en=T`).
 */
export function parseCredential(raw: string): CozeCredential {
  let cookie = raw.trim();
  let msToken: string | undefined;
  const start = cookie.indexOf(SEGMENT);
  if (start >= 0) {
    const end = cookie.indexOf("]", start + SEGMENT.length);
    if (end >= 0) {
      msToken = cookie.slice(start + SEGMENT.length, end).trim() || undefined;
      cookie = (cookie.slice(0, start) + cookie.slice(end + 1)).trim();
    }
  }
  cookie = cookie.split(";").map((p) => p.trim()).filter((p) => p !== "").join("; ");
  if (!msToken) msToken = cookieValue(cookie, "msToken") || undefined;
  return { cookie, msToken };
}

/** The value of cookie `name` in a cookie string, or undefined. */
export function cookieValue(cookie: string, name: string): string | undefined {
  for (const part of cookie.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * The `cookie` header for coze.com: the credential's cookies with `msToken` set to `msToken`
 * (replaced or added). A credential without any `name=` is a bare session id.
 */
export function cookieHeader(cookie: string, msToken: string): string {
  const base = cookie === "" || cookie.includes("=") ? cookie : `sessionid=${cookie}`;
  const parts: string[] = [];
  let hasToken = false;
  for (const raw of base.split(";")) {
    const part = raw.trim();
    const eq = part.indexOf("=");
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    if (name === "msToken") {
      if (hasToken) continue;
      hasToken = true;
      parts.push(`msToken=${msToken}`);
    } else {
      parts.push(`${name}=${part.slice(eq + 1).trim()}`);
    }
  }
  if (!hasToken) parts.push(`msToken=${msToken}`);
  return parts.join("; ");
}
