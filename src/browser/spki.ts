/**
 * The public key hashes Chromium is told to trust (`--ignore-certificate-errors-spki-list`), so
 * that the browser trusts `server.ca-file` like the gateway's own transports do.
 *
 * Chromium accepts a chain whose certificates' SubjectPublicKeyInfo hashes (SHA-256, base64) are
 * on that list; it cannot read a PEM bundle itself. So each certificate of the bundle is read
 * here: PEM to DER, then the DER walked to the SPKI (RFC 5280 section 4.1: Certificate ->
 * tbsCertificate -> version?, serialNumber, signature, issuer, validity, subject,
 * subjectPublicKeyInfo). A certificate that cannot be read is skipped.
 *
 * @module
 */

/** One DER element: where its value starts and ends, and where the whole element ends. */
interface Tlv {
  tag: number;
  start: number;
  valueStart: number;
  end: number;
}

function readTlv(der: Uint8Array, at: number): Tlv {
  if (at + 2 > der.length) throw new Error("truncated DER");
  const tag = der[at];
  let len = der[at + 1];
  let p = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || p + n > der.length) throw new Error("bad DER length");
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + der[p + i];
    p += n;
  }
  if (p + len > der.length) throw new Error("truncated DER");
  return { tag, start: at, valueStart: p, end: p + len };
}

/** The DER bytes of the SubjectPublicKeyInfo of a certificate. */
export function spkiOf(cert: Uint8Array): Uint8Array<ArrayBuffer> {
  const outer = readTlv(cert, 0);
  if (outer.tag !== 0x30) throw new Error("not a certificate");
  const tbs = readTlv(cert, outer.valueStart);
  if (tbs.tag !== 0x30) throw new Error("not a certificate");
  let p = tbs.valueStart;
  let el = readTlv(cert, p);
  if (el.tag === 0xa0) el = readTlv(cert, p = el.end); // [0] version
  // serialNumber, signature, issuer, validity, subject: five elements before the SPKI.
  for (let i = 0; i < 5; i++) el = readTlv(cert, p = el.end);
  if (el.tag !== 0x30) throw new Error("no SubjectPublicKeyInfo");
  return cert.slice(el.start, el.end);
}

/** The certificates of a PEM bundle, as DER. */
export function pemCertificates(pem: string): Uint8Array[] {
  const out: Uint8Array[] = [];
  const re = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g;
  for (const m of pem.matchAll(re)) {
    try {
      out.push(Uint8Array.fromBase64(m[1].replace(/\s+/g, "")));
    } catch {
      // Not base64: skipped.
    }
  }
  return out;
}

/** The base64 SHA-256 hashes of the public keys of every readable certificate in `pem`. */
export async function spkiHashes(pem: string): Promise<string[]> {
  const hashes: string[] = [];
  for (const der of pemCertificates(pem)) {
    let spki: Uint8Array<ArrayBuffer>;
    try {
      spki = spkiOf(der);
    } catch {
      continue;
    }
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", spki));
    hashes.push(digest.toBase64());
  }
  return hashes;
}
