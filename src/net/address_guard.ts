/**
 * Which addresses a client-supplied URL may lead to: public unicast addresses only, unless
 * `server.fetch.allow-private` is on. Refused: private (10/8, 172.16/12, 192.168/16), loopback,
 * link-local (169.254/16, fe80::/10, cloud metadata included), carrier-grade NAT (100.64/10),
 * unique-local (fc00::/7), multicast, broadcast, unspecified (0.0.0.0, ::), reserved and
 * documentation ranges, and every IPv6 form that embeds an IPv4 address (IPv4-mapped, NAT64,
 * 6to4, Teredo), whose target the check could not see. The classification is ipaddr.js's.
 *
 * @module
 */
import ipaddr from "npm:ipaddr.js@2.5.0";

/** A resolved address and its family. */
export interface Address {
  address: string;
  family: 4 | 6;
}

/** Looks up a host name's addresses. */
export type Resolver = (host: string, signal: AbortSignal) => Promise<string[]>;

/** True when `address` (an IP literal) is a public unicast address. */
export function isPublicAddress(address: string): boolean {
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    parsed = ipaddr.parse(address);
  } catch {
    return false;
  }
  return parsed.range() === "unicast";
}

/** The address of an IP literal host (`1.2.3.4`, `[::1]`), or undefined for a name. */
export function literalAddress(hostname: string): Address | undefined {
  const host = hostname.replace(/^\[|\]$/g, "");
  if (!ipaddr.isValid(host)) return undefined;
  const parsed = ipaddr.parse(host);
  return { address: parsed.toString(), family: parsed.kind() === "ipv6" ? 6 : 4 };
}

/** The A and AAAA records of `host` through `Deno.resolveDns` (the system's name servers). */
export async function resolveDns(host: string, signal: AbortSignal): Promise<string[]> {
  const [a, aaaa] = await Promise.allSettled([
    Deno.resolveDns(host, "A", { signal }),
    Deno.resolveDns(host, "AAAA", { signal }),
  ]);
  const out = [
    ...(a.status === "fulfilled" ? a.value : []),
    ...(aaaa.status === "fulfilled" ? aaaa.value : []),
  ];
  if (out.length === 0 && a.status === "rejected") throw a.reason;
  return out;
}

/**
 * The address to connect to for `hostname`, or the reason it is refused. Every address a name
 * has must pass (a name with one private address among public ones is refused: which one a
 * connection would use is not ours to choose later).
 */
export async function checkHost(
  hostname: string,
  options: { allowed: (address: string) => boolean; resolve: Resolver; signal: AbortSignal },
): Promise<{ address: Address } | { refused: string }> {
  const host = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  const literal = literalAddress(host);
  if (literal) {
    return options.allowed(literal.address)
      ? { address: literal }
      : { refused: `${literal.address} is not a public address` };
  }
  if (host === "localhost" || host.endsWith(".localhost")) {
    return { refused: `${host} is a local name` };
  }
  let found: string[];
  try {
    found = await options.resolve(host, options.signal);
  } catch (err) {
    return { refused: `${host} does not resolve (${(err as Error).message})` };
  }
  if (found.length === 0) return { refused: `${host} has no address` };
  const bad = found.find((a) => !options.allowed(a));
  if (bad !== undefined) return { refused: `${host} resolves to ${bad}, not a public address` };
  const first = literalAddress(found[0]);
  return first ? { address: first } : { refused: `${host} resolves to ${found[0]}` };
}
