/**
 * Proxy selection: which proxy a request to a host goes through, and one `Deno.HttpClient` per
 * proxy URL (http, https, socks5, socks5h; with or without `user:pass@`).
 *
 * Note: through an authenticated HTTP proxy, Deno also sends `Proxy-Authorization` to HTTPS
 * origins (a Deno bug); SOCKS5 does not leak it.
 *
 * @module
 */
import type { Config } from "../config/schema.ts";

/** The HTTP clients of one server: one `Deno.HttpClient` per proxy URL, made on first use. */
export class HttpClients {
  #clients = new Map<string, Deno.HttpClient>();

  /** The client for a proxy URL. */
  forProxy(proxy: string): Deno.HttpClient {
    let client = this.#clients.get(proxy);
    if (!client) {
      const url = new URL(proxy);
      const basicAuth = url.username
        ? {
          username: decodeURIComponent(url.username),
          password: decodeURIComponent(url.password),
        }
        : undefined;
      url.username = "";
      url.password = "";
      client = Deno.createHttpClient({
        proxy: { url: url.href.replace(/\/$/, ""), basicAuth },
      } as Deno.CreateHttpClientOptions);
      this.#clients.set(proxy, client);
    }
    return client;
  }

  /** Closes every client (at shutdown). */
  close(): void {
    for (const c of this.#clients.values()) c.close();
    this.#clients.clear();
  }
}

/**
 * The proxy for a request to `target`: the provider's own (`false` = none), else the server's
 * (`--proxies` or `server.proxies`); none for hosts in `server.no-proxy`.
 */
export function proxyFor(target: URL, config: Config, own?: string | false): string | undefined {
  if (own === false) return undefined;
  const proxy = own ?? config.server.proxies;
  if (!proxy) return undefined;
  const host = target.hostname.replace(/^\[|\]$/g, "").toLowerCase();
  for (const entry of config.server["no-proxy"]) {
    const e = entry.toLowerCase().replace(/^\[|\]$/g, "");
    if (e === "*") return undefined;
    if (e.startsWith(".") ? host.endsWith(e) || host === e.slice(1) : host === e) return undefined;
  }
  return proxy;
}
