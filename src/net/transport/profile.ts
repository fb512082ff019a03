/**
 * The browser the `chrome` transport impersonates, and the user agent that goes with it.
 *
 * A `cf_clearance` cookie is bound to the user agent (and address) that earned it, and Cloudflare
 * compares the User-Agent with the TLS and HTTP/2 fingerprint. The library's `chrome_147` profile
 * sends Chrome 147's ClientHello, SETTINGS and header order with this exact user agent and the
 * matching `sec-ch-ua` client hints; the browser module presents the same string when it earns a
 * clearance for these requests.
 *
 * @module
 */

/** The library profile: Chrome 147 on Windows (the most common desktop platform). */
export const CHROME_PROFILE = { browser: "chrome_147", os: "windows" } as const;

/** Chrome's major version of the profile. */
export const CHROME_MAJOR = 147;

/**
 * The User-Agent the `chrome` transport sends by default: the one of its TLS profile. Checked
 * against the bytes the transport really sends by `tests/net/transport_test.ts`.
 */
export function chromeUserAgent(): string {
  return `Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${CHROME_MAJOR}.0.0.0 Safari/537.36`;
}
