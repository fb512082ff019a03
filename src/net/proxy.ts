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

const clients = new Map<string, Deno.HttpClient>();

/** The shared client for a proxy URL. */
export function clientFor(proxy: string): Deno.HttpClient {
  let client = clients.get(proxy);
  if (!client) {
    const url = new URL(proxy);
    const basicAuth = url.username
      ? { username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) }
      : undefined;
    url.username = "";
    url.password = "";
    client = Deno.createHttpClient({
      proxy: { url: url.href.replace(/\/$/, ""), basicAuth },
    } as Deno.CreateHttpClientOptions);
    clients.set(proxy, client);
  }
  return client;
}

/** Closes every proxy client (at shutdown, and in tests). */
export function closeProxyClients(): void {
  for (const c of clients.values()) c.close();
  clients.clear();
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
