/**
 * Cookies carried from one upstream step to the next (sticky load balancers such as lmarena's
 * `SERVERID` keep a session on one backend only while its cookie travels along).
 *
 * @module
 */

/**
 * Cookies carried from one step to the next: every `Set-Cookie` of a response replaces the cookie
 * of the same name (attributes are ignored: these requests all go to one origin).
 */
export class CookieJar {
  #cookies = new Map<string, string>();

  /** @param initial a `Cookie` header value to start with */
  constructor(initial = "") {
    this.addHeader(initial);
  }

  /** Adds the pairs of a `Cookie` header value. */
  addHeader(header: string): void {
    for (const part of header.split(";")) {
      const eq = part.indexOf("=");
      if (eq <= 0) continue;
      this.#cookies.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
    }
  }

  /** Sets one cookie. */
  set(name: string, value: string): void {
    this.#cookies.set(name, value);
  }

  /** One cookie's value. */
  get(name: string): string | undefined {
    return this.#cookies.get(name);
  }

  /** Takes the cookies a response sets. */
  absorb(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const pair = line.split(";", 1)[0];
      const eq = pair.indexOf("=");
      if (eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      // An expired or emptied cookie is removed, as a browser would.
      if (value === "" || /;\s*max-age=0\b/i.test(line)) this.#cookies.delete(name);
      else this.#cookies.set(name, value);
    }
  }

  /** The `Cookie` header value, or "" when empty. */
  header(): string {
    return [...this.#cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  }
}
