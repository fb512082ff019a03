/**
 * A Cloudflare-like TLS gate: an HTTPS server on `localhost` (certificate from the test CA) that
 * reads each connection's ClientHello and lets only browser-like handshakes through to `handler`;
 * every request on any other connection gets Cloudflare's managed-challenge answer: `403`, a
 * "Just a moment..." HTML page with the challenge markers (`_cf_chl_opt`, the
 * `/cdn-cgi/challenge-platform/` script), `cf-mitigated: challenge`, `server: cloudflare`.
 *
 * "Browser-like" is decided from what Chrome (BoringSSL) sends, as captured from Chromium 156
 * (docs/transport.md) and described in RFC 8701 (GREASE) and Chrome's ALPS/ECH launches — not from
 * what the gateway's transport sends:
 * - a GREASE cipher suite, GREASE extensions, GREASE in supported_groups and supported_versions;
 * - ALPN offering exactly `h2`, `http/1.1`, with ALPS (17513 or 17613) naming `h2`; or ALPN
 *   `http/1.1` alone without ALPS, as Chrome opens its WebSocket connections (measured from
 *   Chromium 156: a `new WebSocket("wss://...")` gets a connection of its own);
 * - Chrome's extension set: SNI (for names), status_request, supported_groups, ec_point_formats,
 *   signature_algorithms, ALPN, SCT, extended_master_secret, compress_certificate (brotli),
 *   session_ticket, supported_versions, psk_key_exchange_modes, key_share, renegotiation_info and
 *   ECH (GREASE); and none that Chrome never sends (record_size_limit, delegated_credentials,
 *   post_handshake_auth: Firefox's and OpenSSL's tells).
 *
 * @module
 */
import { type ClientHello, EXT, isGrease } from "./client_hello.ts";
import { testCa } from "./test_ca.ts";
import { startTlsFront, type TlsFront } from "./tls_front.ts";

/** Extensions every Chrome ClientHello carries (SNI only for host names). */
const CHROME_EXTENSIONS = [
  EXT.statusRequest,
  EXT.supportedGroups,
  EXT.ecPointFormats,
  EXT.signatureAlgorithms,
  EXT.alpn,
  EXT.sct,
  EXT.extendedMasterSecret,
  EXT.compressCertificate,
  EXT.sessionTicket,
  EXT.supportedVersions,
  EXT.pskKeyExchangeModes,
  EXT.keyShare,
  EXT.renegotiationInfo,
  EXT.ech,
];

/** Extensions Chrome never sends: record_size_limit, delegated_credentials, post_handshake_auth. */
const FOREIGN_EXTENSIONS = [EXT.recordSizeLimit, 34, 49];

/** Why a hello is not a browser's; empty when it is browser-like. */
export function notBrowserReasons(h: ClientHello): string[] {
  const why: string[] = [];
  const types = new Set(h.extensions.map((e) => e.type));
  if (!h.ciphers.some(isGrease)) why.push("no GREASE cipher suite");
  if (!h.extensions.some((e) => isGrease(e.type))) why.push("no GREASE extension");
  if (!h.groups.some(isGrease)) why.push("no GREASE group");
  if (!h.versions.some(isGrease)) why.push("no GREASE version");
  const alpn = h.alpn.join(",");
  if (alpn === "h2,http/1.1") {
    if (!h.alps) why.push("no ALPS");
    else if (h.alps.protocols.join(",") !== "h2") why.push(`ALPS names ${h.alps.protocols}`);
  } else if (alpn === "http/1.1") {
    // Chrome's WebSocket connections: ALPN http/1.1 alone, and then no ALPS (it only names h2).
    if (h.alps) why.push(`ALPS (${h.alps.protocols}) with ALPN http/1.1 alone`);
  } else why.push(`ALPN ${alpn || "none"}`);
  if (h.sni === undefined && !types.has(EXT.serverName)) why.push("no SNI");
  for (const e of CHROME_EXTENSIONS) if (!types.has(e)) why.push(`missing extension ${e}`);
  for (const e of FOREIGN_EXTENSIONS) if (types.has(e)) why.push(`non-Chrome extension ${e}`);
  if (!h.certCompression.includes(2)) why.push("no brotli certificate compression");
  return why;
}

/** Cloudflare's managed-challenge page (trimmed; the markers clients look for are kept). */
export const CHALLENGE_HTML =
  `<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title>
<meta http-equiv="Content-Type" content="text/html; charset=UTF-8"><meta name="robots" content="noindex,nofollow">
</head><body><div class="main-wrapper" role="main"><div class="main-content">
<noscript><div class="h2"><span id="challenge-error-text">Enable JavaScript and cookies to continue</span></div></noscript>
</div></div><script>(function(){window._cf_chl_opt={cvId: '3',cZone: "localhost",cType: 'managed',cRay: '8f00000000000000'};
var cpo=document.createElement('script');cpo.src='/cdn-cgi/challenge-platform/h/g/orchestrate/chl_page/v1?ray=8f00000000000000';
document.getElementsByTagName('head')[0].appendChild(cpo);}());</script></body></html>`;

/** What the gate decided for one connection. */
export interface GateVerdict {
  browser: boolean;
  reasons: string[];
  hello: ClientHello;
}

/** A request that passed the gate. */
export interface PassedRequest {
  method: string;
  path: string;
  headers: Headers;
  hello: ClientHello;
}

/** A running gate. */
export interface TlsGate {
  /** `https://localhost:<port>` */
  origin: string;
  port: number;
  /** The test CA's file, for `server.ca-file`. */
  caFile: string;
  /** One verdict per connection, in arrival order. */
  verdicts: GateVerdict[];
  /** Requests the handler saw. */
  passed: PassedRequest[];
  /** Requests answered with the challenge. */
  challenged: number;
  close(): Promise<void>;
}

/** The handler behind the gate: a fake upstream's. */
export type GateHandler = (req: Request) => Response | Promise<Response>;

/** Starts a gate in front of `handler`. */
export async function startTlsGate(handler: GateHandler): Promise<TlsGate> {
  const ca = await testCa();
  // The front starts after the servers behind it (it needs their ports).
  const ref: { front?: TlsFront } = {};
  const helloOf = (info: Deno.ServeHandlerInfo<Deno.NetAddr>) =>
    ref.front!.helloOf(info.remoteAddr.port)!;
  // The chain includes the CA, as Chromium needs to trust it by its key (src/browser/launch.ts).
  const tls = {
    hostname: "127.0.0.1",
    port: 0,
    cert: `${ca.cert}\n${ca.caPem}`,
    key: ca.key,
    onListen() {},
  };
  const gate = {
    verdicts: [] as GateVerdict[],
    passed: [] as PassedRequest[],
    challenged: 0,
  };
  const challenge = Deno.serve(tls, () => {
    gate.challenged++;
    return new Response(CHALLENGE_HTML, {
      status: 403,
      headers: {
        "content-type": "text/html; charset=UTF-8",
        "cf-mitigated": "challenge",
        "server": "cloudflare",
        "cf-ray": "8f00000000000000-LHR",
        "cache-control": "private, max-age=0, no-store, no-cache, must-revalidate",
      },
    });
  });
  const pass = Deno.serve(tls, (req, info) => {
    const url = new URL(req.url);
    gate.passed.push({
      method: req.method,
      path: url.pathname + url.search,
      headers: new Headers(req.headers),
      hello: helloOf(info),
    });
    return handler(req);
  });
  const front = ref.front = startTlsFront((hello) => {
    const reasons = notBrowserReasons(hello);
    gate.verdicts.push({ browser: reasons.length === 0, reasons, hello });
    return reasons.length === 0 ? pass.addr.port : challenge.addr.port;
  });
  return Object.assign(gate, {
    origin: `https://localhost:${front.port}`,
    port: front.port,
    caFile: ca.caFile,
    async close() {
      await front.close();
      await Promise.all([challenge.shutdown(), pass.shutdown()]);
    },
  });
}
