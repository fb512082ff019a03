/**
 * The one way to fetch a URL a client supplied (an `image_url` part, an image to upload): the
 * guard against server-side request forgery. Every fetch of a client's URL goes through
 * `fetchPublic`:
 *
 * - only `http:` and `https:` URLs without credentials;
 * - the host is resolved once (`Deno.resolveDns`) and every address must be public
 *   (`address_guard.ts`; `server.fetch.allow-private` turns this off);
 * - the connection goes to the address that was checked: Node's `http`/`https` client with a
 *   `lookup` that answers that address, so TLS still verifies the certificate for the URL's host
 *   name and no second lookup (DNS rebinding) can redirect it. Deno's `fetch` cannot pin an
 *   address for HTTPS: its `tcp` transport speaks plain HTTP, and a URL rewritten to the IP
 *   breaks certificate checks;
 * - redirects are followed by hand, each hop checked the same way, at most
 *   `server.fetch.max-redirects`;
 * - the whole fetch (lookups, hops, body) is bounded by `server.fetch.timeout`, the body by the
 *   caller's size cap;
 * - errors say the URL was refused or could not be fetched, never the target's status or body
 *   (the log has the details).
 *
 * Through a configured proxy the check is the same, but the proxy resolves the name again and
 * connects from its own network: what remains there is documented in docs/security.md.
 *
 * @module
 */
import http from "node:http";
import https from "node:https";
import type { Config } from "../config/schema.ts";
import { GatewayError, invalidRequest } from "../openai/errors.ts";
import type { Logger } from "../util/log.ts";
import { linkedController } from "../util/signal.ts";
import {
  type Address,
  checkHost,
  isPublicAddress,
  resolveDns,
  type Resolver,
} from "./address_guard.ts";
import { type HttpClients, proxyFor } from "./proxy.ts";

/** What was fetched. */
export interface PublicFile {
  bytes: Uint8Array;
  /** The `content-type` media type, lower case ("" when none). */
  contentType: string;
  /** The URL of the last hop. */
  url: URL;
}

/** Options of `fetchPublic`. */
export interface PublicFetchOptions {
  /** The request field the URL came from, named in errors. */
  field: string;
  /** The largest body accepted. */
  maxBytes: number;
  config: Config;
  clients: HttpClients;
  /** The provider's proxy choice (`false`: none; undefined: the server's). */
  proxy?: string | false;
  signal?: AbortSignal;
  log?: Logger;
  /** Test seams: name lookup, the address policy, extra trusted CA certificates. */
  resolve?: Resolver;
  allowed?: (address: string) => boolean;
  ca?: string[];
}

/** One hop's answer. */
interface Hop {
  status: number;
  headers: Headers;
  body: AsyncIterable<Uint8Array>;
  cancel(): void;
}

/** A failure whose detail goes to the log only. */
class Quiet extends Error {}

/** Fetches a client's URL through the guard (see the module doc). */
export async function fetchPublic(url: string, o: PublicFetchOptions): Promise<PublicFile> {
  const settings = o.config.server.fetch;
  const deadline = AbortSignal.timeout(settings.timeout * 1000);
  const signal = linkedController([o.signal, deadline]).signal;
  const allowed = o.allowed ?? (settings["allow-private"] ? () => true : isPublicAddress);
  const resolve = o.resolve ?? resolveDns;
  let target = parse(url, o.field);
  try {
    for (let hops = 0;; hops++) {
      const checked = await checkHost(target.hostname, { allowed, resolve, signal });
      if ("refused" in checked) {
        o.log?.warn(`fetch of a client URL refused (${o.field}): ${checked.refused}`);
        throw invalidRequest(
          `${o.field}: the URL was refused: it does not lead to a public internet address (see server.fetch in docs/security.md)`,
          o.field,
          "url_refused",
        );
      }
      const hop = await send(target, checked.address, o, signal);
      const location = hop.headers.get("location");
      if (hop.status >= 300 && hop.status < 400 && location) {
        hop.cancel();
        if (hops >= settings["max-redirects"]) {
          throw invalidRequest(
            `${o.field}: the URL redirects more than ${
              settings["max-redirects"]
            } times (server.fetch.max-redirects)`,
            o.field,
            "url_refused",
          );
        }
        target = parse(new URL(location, target).href, o.field);
        continue;
      }
      if (hop.status < 200 || hop.status >= 300) {
        hop.cancel();
        throw new Quiet(`${target.host} answered ${hop.status}`);
      }
      const bytes = await readCapped(hop, o);
      const contentType = (hop.headers.get("content-type") ?? "").split(";")[0].trim()
        .toLowerCase();
      return { bytes, contentType, url: target };
    }
  } catch (err) {
    if (err instanceof GatewayError) throw err;
    if (o.signal?.aborted) throw o.signal.reason;
    const detail = deadline.aborted
      ? `no answer within ${settings.timeout}s (server.fetch.timeout)`
      : (err as Error).message;
    o.log?.warn(`fetch of a client URL failed (${o.field}): ${detail}`);
    throw invalidRequest(
      `${o.field}: the URL could not be fetched${
        deadline.aborted ? ` within ${settings.timeout}s` : ""
      }`,
      o.field,
      "url_unreachable",
    );
  }
}

/** The URL if it may be fetched at all: http(s), no credentials. */
function parse(url: string, field: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw invalidRequest(`${field}: not a valid URL`, field);
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") {
    throw invalidRequest(`${field}: only http and https URLs can be fetched`, field, "url_refused");
  }
  if (u.username || u.password) {
    throw invalidRequest(`${field}: URLs with credentials are not fetched`, field, "url_refused");
  }
  return u;
}

/** One request to `target`, connected to `address` (or through the proxy). */
function send(target: URL, address: Address, o: PublicFetchOptions, signal: AbortSignal) {
  const proxy = proxyFor(target, o.config, o.proxy);
  return proxy
    ? viaProxy(target, o.clients.get(proxy, o.config.server["ca-file"])!, signal)
    : pinned(target, address, o.ca, signal);
}

/** A GET through Node's client, connected to `address` whatever the name resolves to now. */
function pinned(target: URL, a: Address, ca: string[] | undefined, signal: AbortSignal) {
  return new Promise<Hop>((resolve, reject) => {
    const client = target.protocol === "https:" ? https : http;
    const req = client.request(target, {
      method: "GET",
      agent: false,
      headers: { accept: "*/*", "user-agent": "Mozilla/5.0 (compatible; gateway image fetch)" },
      ...(ca ? { ca } : {}),
      lookup: (
        _host: string,
        opts: { all?: boolean },
        cb: (...args: unknown[]) => void,
      ) => opts?.all ? cb(null, [a]) : cb(null, a.address, a.family),
    } as https.RequestOptions, (res) => {
      signal.removeEventListener("abort", onAbort);
      const headers = new Headers();
      for (const [k, v] of Object.entries(res.headers)) {
        if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(", ") : String(v));
      }
      const stop = () => res.destroy();
      signal.addEventListener("abort", stop, { once: true });
      resolve({
        status: res.statusCode ?? 0,
        headers,
        body: res as AsyncIterable<Uint8Array>,
        cancel: stop,
      });
    });
    const onAbort = () => req.destroy(new Error("aborted"));
    signal.addEventListener("abort", onAbort, { once: true });
    req.on("error", reject);
    req.end();
  });
}

/** A GET through the configured proxy, redirects left to the caller. */
async function viaProxy(target: URL, client: Deno.HttpClient, signal: AbortSignal): Promise<Hop> {
  const res = await fetch(target, { redirect: "manual", signal, client } as RequestInit);
  return {
    status: res.status,
    headers: res.headers,
    body: res.body ?? (async function* () {})(),
    cancel: () => void res.body?.cancel().catch(() => {}),
  };
}

/** The body, at most `maxBytes` of it; beyond that a 400. */
async function readCapped(hop: Hop, o: PublicFetchOptions): Promise<Uint8Array> {
  const tooLarge = () =>
    invalidRequest(
      `${o.field}: the file is larger than ${Math.floor(o.maxBytes / 1048576)} MiB`,
      o.field,
      "url_too_large",
    );
  const declared = Number(hop.headers.get("content-length") ?? NaN);
  if (Number.isFinite(declared) && declared > o.maxBytes) {
    hop.cancel();
    throw tooLarge();
  }
  const parts: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of hop.body) {
    size += chunk.length;
    if (size > o.maxBytes) {
      hop.cancel();
      throw tooLarge();
    }
    parts.push(chunk);
  }
  const out = new Uint8Array(size);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
