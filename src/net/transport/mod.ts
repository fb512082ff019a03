/**
 * How upstream requests leave the gateway. Two transports, chosen per provider
 * (`<provider>.transport` in config.yaml, see docs/transport.md):
 *
 * - `fetch`: Deno's built-in fetch (rustls). For official APIs.
 * - `chrome`: Chrome's TLS ClientHello, HTTP/2 settings and header order (`chrome.ts`), for the
 *   sites behind Cloudflare (claude.ai, Copilot, arena.ai, the you.com web app), which refuse
 *   clients whose handshake is not a browser's. Plain `http://` URLs have no TLS to impersonate and
 *   go through `fetch` (local fakes, local relays).
 *
 * @module
 */
export { chromeFetch, type ChromeRequestOptions } from "./chrome.ts";
export {
  CHROME_MAJOR,
  CHROME_PROFILE,
  chromeUserAgent,
  chromeUserAgentMetadata,
  chromeWebSocketEmulation,
} from "./profile.ts";
export {
  type ChromeSocket,
  type ChromeSocketHandlers,
  chromeWebSocket,
  type OpenChromeSocket,
} from "./websocket.ts";
export { loadWreq, transportUnavailable } from "./native.ts";

/** The transports a provider can use. */
export const TRANSPORTS = ["fetch", "chrome"] as const;

/** One of `TRANSPORTS`. */
export type TransportKind = (typeof TRANSPORTS)[number];

/**
 * The transport configured for `provider`: its config section's `transport` key when it has one
 * (the sections of Cloudflare-fronted sites do), else `fetch`.
 */
export function transportOf(config: object, provider: string): TransportKind {
  const section = (config as Record<string, unknown>)[provider];
  const kind = section && typeof section === "object"
    ? (section as Record<string, unknown>).transport
    : undefined;
  return kind === "chrome" ? "chrome" : "fetch";
}
