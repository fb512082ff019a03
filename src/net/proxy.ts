/**
 * Proxy selection: which proxy a request to a host goes through, and one `Deno.HttpClient` per
 * proxy URL (http, https, socks5, socks5h; with or without `user:pass@`) and extra CA bundle.
 *
 * Note: through an authenticated HTTP proxy, Deno also sends `Proxy-Authorization` to HTTPS
 * origins (a Deno bug); SOCKS5 does not leak it.
 *
 * @module
 */
import type { Config } from "../config/schema.ts";

/** The HTTP clients of one server: one `Deno.HttpClient` per proxy and CA bundle, on demand. */
export class HttpClients {
  #clients = new Map<string, { client: Deno.HttpClient; stamp: number | undefined }>();

  /**
   * The client for a proxy URL and/or an extra CA bundle (`server.ca-file`); undefined when
   * neither is set (plain `fetch`). The bundle is read when the client is made and again when the
   * file's modification time changes. Throws when the bundle cannot be read.
   */
  get(proxy: string | undefined, caFile?: string): Deno.HttpClient | undefined {
    if (!proxy && !caFile) return undefined;
    const key = `${proxy ?? ""}\n${caFile ?? ""}`;
    const stamp = caFile ? Deno.statSync(caFile).mtime?.getTime() : undefined;
    const kept = this.#clients.get(key);
    if (kept && kept.stamp === stamp) return kept.client;
    kept?.client.close();
    let proxyOption: Deno.Proxy | undefined;
    if (proxy) {
      const url = new URL(proxy);
      const basicAuth = url.username
        ? {
          username: decodeURIComponent(url.username),
          password: decodeURIComponent(url.password),
        }
        : undefined;
      url.username = "";
      url.password = "";
      proxyOption = { url: url.href.replace(/\/$/, ""), basicAuth } as Deno.Proxy;
    }
    const client = Deno.createHttpClient({
      proxy: proxyOption,
      caCerts: caFile ? [Deno.readTextFileSync(caFile)] : undefined,
    } as Deno.CreateHttpClientOptions);
    this.#clients.set(key, { client, stamp });
    return client;
  }

  /** Closes every client (at shutdown). */
  close(): void {
    for (const c of this.#clients.values()) c.client.close();
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
