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

/** Chrome's cipher suites in its order (BoringSSL names), as its ClientHello lists them. */
const CHROME_CIPHERS = [
  "TLS_AES_128_GCM_SHA256",
  "TLS_AES_256_GCM_SHA384",
  "TLS_CHACHA20_POLY1305_SHA256",
  "ECDHE-ECDSA-AES128-GCM-SHA256",
  "ECDHE-RSA-AES128-GCM-SHA256",
  "ECDHE-ECDSA-AES256-GCM-SHA384",
  "ECDHE-RSA-AES256-GCM-SHA384",
  "ECDHE-ECDSA-CHACHA20-POLY1305",
  "ECDHE-RSA-CHACHA20-POLY1305",
  "ECDHE-RSA-AES128-SHA",
  "ECDHE-RSA-AES256-SHA",
  "AES128-GCM-SHA256",
  "AES256-GCM-SHA384",
  "AES128-SHA",
  "AES256-SHA",
].join(":");

/**
 * The handshake of Chrome 147's WebSocket connections, as the library's custom emulation.
 *
 * Chrome opens a WebSocket on a connection of its own that offers ALPN `http/1.1` alone, and then
 * sends no ALPS (ALPS only ever names `h2`); the rest of the ClientHello is its usual one. The
 * library's `chrome_147` profile keeps ALPS (`h2`) on its WebSocket connections, a combination
 * Chrome never sends, and upgrades with a navigation's headers. So the socket uses this custom
 * emulation: the profile's TLS settings spelt out with ALPN `http/1.1` and no ALPS, and the
 * upgrade's headers in Chrome's order and casing (measured from Chromium 156, see
 * docs/transport.md). `Sec-WebSocket-Extensions: permessage-deflate` is not offered: the library
 * cannot inflate frames.
 */
export function chromeWebSocketEmulation(acceptLanguage: string) {
  return {
    tlsOptions: {
      alpnProtocols: ["HTTP1" as const],
      alpsProtocols: [],
      alpsUseNewCodepoint: true,
      sessionTicket: true,
      minTlsVersion: "1.2" as const,
      maxTlsVersion: "1.3" as const,
      preSharedKey: true,
      enableEchGrease: true,
      permuteExtensions: true,
      greaseEnabled: true,
      enableOcspStapling: true,
      enableSignedCertTimestamps: true,
      curvesList: "X25519MLKEM768:X25519:P-256:P-384",
      cipherList: CHROME_CIPHERS,
      sigalgsList: "ecdsa_secp256r1_sha256:rsa_pss_rsae_sha256:rsa_pkcs1_sha256:" +
        "ecdsa_secp384r1_sha384:rsa_pss_rsae_sha384:rsa_pkcs1_sha384:rsa_pss_rsae_sha512:" +
        "rsa_pkcs1_sha512",
      certificateCompressionAlgorithms: ["brotli" as const],
    },
    headers: [
      ["pragma", "no-cache"],
      ["cache-control", "no-cache"],
      ["user-agent", chromeUserAgent()],
      ["accept-encoding", "gzip, deflate, br, zstd"],
      ["accept-language", acceptLanguage],
    ] as [string, string][],
    origHeaders: [
      "Host",
      "Connection",
      "Pragma",
      "Cache-Control",
      "User-Agent",
      "Upgrade",
      "Origin",
      "Sec-WebSocket-Version",
      "Accept-Encoding",
      "Accept-Language",
      "Cookie",
      "Sec-WebSocket-Key",
    ],
  };
}

/**
 * The client hints that go with `chromeUserAgent()` (CDP `Emulation.UserAgentMetadata`): the same
 * brands, platform and mobile flag the transport's `sec-ch-ua*` headers carry, so that a page
 * Chromium opens for a clearance looks like the same Chrome 147 on Windows.
 */
export function chromeUserAgentMetadata() {
  const major = String(CHROME_MAJOR);
  return {
    brands: [
      { brand: "Google Chrome", version: major },
      { brand: "Not.A/Brand", version: "8" },
      { brand: "Chromium", version: major },
    ],
    fullVersionList: [
      { brand: "Google Chrome", version: `${major}.0.0.0` },
      { brand: "Not.A/Brand", version: "8.0.0.0" },
      { brand: "Chromium", version: `${major}.0.0.0` },
    ],
    platform: "Windows",
    platformVersion: "10.0.0",
    architecture: "x86",
    bitness: "64",
    model: "",
    mobile: false,
    wow64: false,
  };
}
