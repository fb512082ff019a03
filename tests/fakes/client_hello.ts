/**
 * Reading a TLS ClientHello off a TCP connection and naming its fingerprint features (RFC 8446
 * section 4.1.2 for the layout; GREASE values from RFC 8701; ALPS from the
 * draft-vvv-tls-alps codepoints Chrome uses, 17513 and 17613).
 *
 * Used by the Cloudflare-like gate fake (`tls_gate.ts`) and the capture script
 * (`bench/client_hello.ts`).
 *
 * @module
 */

/** Extension numbers by name, for the ones the gate and the comparison look at. */
export const EXT = {
  serverName: 0,
  statusRequest: 5,
  supportedGroups: 10,
  ecPointFormats: 11,
  signatureAlgorithms: 13,
  alpn: 16,
  sct: 18,
  padding: 21,
  extendedMasterSecret: 23,
  compressCertificate: 27,
  recordSizeLimit: 28,
  sessionTicket: 35,
  preSharedKey: 41,
  supportedVersions: 43,
  pskKeyExchangeModes: 45,
  keyShare: 51,
  alpsOld: 17513,
  alps: 17613,
  ech: 65037,
  renegotiationInfo: 65281,
} as const;

const EXT_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(EXT).map(([k, v]) => [v, k]),
);

/** One extension as sent. */
export interface Extension {
  type: number;
  data: Uint8Array;
}

/** The features of one ClientHello. */
export interface ClientHello {
  /** The handshake's `legacy_version`. */
  version: number;
  /** Cipher suites in order, GREASE included. */
  ciphers: number[];
  /** Extensions in order, GREASE included. */
  extensions: Extension[];
  /** `server_name`, if sent. */
  sni?: string;
  /** ALPN protocols in order. */
  alpn: string[];
  /** ALPS: the codepoint used and the protocols its payload names. */
  alps?: { type: number; protocols: string[] };
  /** Named groups in order, GREASE included. */
  groups: number[];
  /** Groups with a key share. */
  keyShares: number[];
  /** Signature algorithms in order. */
  sigalgs: number[];
  /** `supported_versions` in order, GREASE included. */
  versions: number[];
  /** Certificate compression algorithms (RFC 8879). */
  certCompression: number[];
  /** Length of the whole handshake message. */
  length: number;
}

/** True for a GREASE value (RFC 8701): 0x0a0a, 0x1a1a, ... 0xfafa. */
export function isGrease(v: number): boolean {
  return (v & 0x0f0f) === 0x0a0a && (v >> 8) === (v & 0xff);
}

/** The name of an extension number (or the number; `GREASE` for GREASE values). */
export function extensionName(type: number): string {
  return isGrease(type) ? "GREASE" : EXT_NAMES[type] ?? String(type);
}

/** A malformed ClientHello. */
export class ClientHelloError extends Error {
  override name = "ClientHelloError";
}

/** A cursor over bytes that throws `ClientHelloError` instead of reading past the end. */
class Cursor {
  pos = 0;
  constructor(readonly bytes: Uint8Array) {}
  need(n: number): void {
    if (this.pos + n > this.bytes.length) throw new ClientHelloError("truncated ClientHello");
  }
  u8(): number {
    this.need(1);
    return this.bytes[this.pos++];
  }
  u16(): number {
    this.need(2);
    const v = (this.bytes[this.pos] << 8) | this.bytes[this.pos + 1];
    this.pos += 2;
    return v;
  }
  take(n: number): Uint8Array {
    this.need(n);
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  /** A sub-cursor over a length-prefixed vector (`lenBytes` = 1 or 2). */
  vec(lenBytes: 1 | 2): Cursor {
    return new Cursor(this.take(lenBytes === 1 ? this.u8() : this.u16()));
  }
  get done(): boolean {
    return this.pos >= this.bytes.length;
  }
}

function u16List(c: Cursor): number[] {
  const out: number[] = [];
  while (!c.done) out.push(c.u16());
  return out;
}

function strList(c: Cursor): string[] {
  const out: string[] = [];
  while (!c.done) out.push(new TextDecoder().decode(c.take(c.u8())));
  return out;
}

/** Parses a handshake message of type ClientHello (the bytes after the record headers). */
export function parseClientHello(handshake: Uint8Array): ClientHello {
  const c = new Cursor(handshake);
  if (c.u8() !== 1) throw new ClientHelloError("not a ClientHello");
  const length = (c.u8() << 16) | c.u16();
  const body = new Cursor(c.take(length));
  const version = body.u16();
  body.take(32); // random
  body.vec(1); // legacy_session_id
  const ciphers = u16List(body.vec(2));
  body.vec(1); // compression methods
  const extensions: Extension[] = [];
  const exts = body.done ? new Cursor(new Uint8Array()) : body.vec(2);
  while (!exts.done) {
    const type = exts.u16();
    extensions.push({ type, data: exts.take(exts.u16()) });
  }
  const hello: ClientHello = {
    version,
    ciphers,
    extensions,
    alpn: [],
    groups: [],
    keyShares: [],
    sigalgs: [],
    versions: [],
    certCompression: [],
    length: length + 4,
  };
  for (const e of extensions) {
    const d = new Cursor(e.data);
    switch (e.type) {
      case EXT.serverName: {
        const list = d.vec(2);
        if (list.u8() === 0) hello.sni = new TextDecoder().decode(list.vec(2).bytes);
        break;
      }
      case EXT.alpn:
        hello.alpn = strList(d.vec(2));
        break;
      case EXT.alps:
      case EXT.alpsOld:
        hello.alps = { type: e.type, protocols: strList(d.vec(2)) };
        break;
      case EXT.supportedGroups:
        hello.groups = u16List(d.vec(2));
        break;
      case EXT.signatureAlgorithms:
        hello.sigalgs = u16List(d.vec(2));
        break;
      case EXT.supportedVersions:
        hello.versions = u16List(d.vec(1));
        break;
      case EXT.compressCertificate:
        hello.certCompression = u16List(d.vec(1));
        break;
      case EXT.keyShare: {
        const list = d.vec(2);
        while (!list.done) {
          hello.keyShares.push(list.u16());
          list.vec(2);
        }
        break;
      }
    }
  }
  return hello;
}

/** The largest ClientHello accepted (Chrome's with a post-quantum key share is about 1.8 KB). */
const MAX_HELLO = 64 * 1024;

/**
 * Collects TLS records of content type 22 (handshake) from the start of a connection until a
 * whole handshake message is there; fed the bytes as they arrive, however the network cut them.
 */
export class ClientHelloReader {
  #buf = new Uint8Array(0);
  #handshake = new Uint8Array(0);

  /**
   * Adds received bytes. Returns the handshake message once it is complete, undefined while more
   * bytes are needed; throws `ClientHelloError` when the bytes are not a TLS handshake.
   */
  push(chunk: Uint8Array): Uint8Array | undefined {
    const joined = new Uint8Array(this.#buf.length + chunk.length);
    joined.set(this.#buf);
    joined.set(chunk, this.#buf.length);
    this.#buf = joined;
    while (this.#buf.length >= 5) {
      if (this.#buf[0] !== 22) throw new ClientHelloError("not a TLS handshake record");
      const len = (this.#buf[3] << 8) | this.#buf[4];
      if (this.#buf.length < 5 + len) break;
      const fragment = this.#buf.subarray(5, 5 + len);
      const hs = new Uint8Array(this.#handshake.length + fragment.length);
      hs.set(this.#handshake);
      hs.set(fragment, this.#handshake.length);
      this.#handshake = hs;
      this.#buf = this.#buf.slice(5 + len);
      if (this.#handshake.length > MAX_HELLO) throw new ClientHelloError("ClientHello too large");
      if (this.#handshake.length >= 4) {
        const need = 4 + ((this.#handshake[1] << 16) | (this.#handshake[2] << 8) |
          this.#handshake[3]);
        if (this.#handshake.length >= need) return this.#handshake.subarray(0, need);
      }
    }
    return undefined;
  }
}

/**
 * Reads from `conn` until the ClientHello is complete. Returns the parsed hello and every byte
 * read (to be replayed to the TLS server that terminates the connection).
 */
export async function readClientHello(
  conn: Deno.Conn,
): Promise<{ hello: ClientHello; bytes: Uint8Array }> {
  const reader = new ClientHelloReader();
  const parts: Uint8Array[] = [];
  const buf = new Uint8Array(16 * 1024);
  while (true) {
    const n = await conn.read(buf);
    if (n === null) throw new ClientHelloError("connection closed before the ClientHello");
    const chunk = buf.slice(0, n);
    parts.push(chunk);
    const hs = reader.push(chunk);
    if (hs) {
      const bytes = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
      let off = 0;
      for (const p of parts) {
        bytes.set(p, off);
        off += p.length;
      }
      return { hello: parseClientHello(hs), bytes };
    }
  }
}

/** Named groups, signature algorithms and ciphers by number, for readable tables. */
export const GROUP_NAMES: Record<number, string> = {
  23: "secp256r1",
  24: "secp384r1",
  25: "secp521r1",
  29: "x25519",
  30: "x448",
  256: "ffdhe2048",
  257: "ffdhe3072",
  4588: "X25519MLKEM768",
  25497: "X25519Kyber768Draft00",
};

/** Certificate compression algorithms (RFC 8879). */
export const CERT_COMPRESSION_NAMES: Record<number, string> = { 1: "zlib", 2: "brotli", 3: "zstd" };
