/**
 * Random identifiers: response ids, tool-call ids, request ids.
 *
 * @module
 */

const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** A random string of `n` letters and digits from a cryptographic source. */
export function randomAlnum(n: number): string {
  // Twice the bytes needed, so that rejecting bytes >= 248 (keeping 4 * 62 values, a uniform
  // distribution) rarely needs a second draw.
  let out = "";
  while (out.length < n) {
    const bytes = crypto.getRandomValues(new Uint8Array(2 * (n - out.length)));
    for (let i = 0; i < bytes.length && out.length < n; i++) {
      if (bytes[i] < 248) out += ALNUM[bytes[i] % 62];
    }
  }
  return out;
}

/** A chat completion id like OpenAI's: `chatcmpl-` and 29 random characters. */
export function completionId(): string {
  return `chatcmpl-${randomAlnum(29)}`;
}

/** A tool call id like OpenAI's: `call_` and 24 random characters. */
export function toolCallId(): string {
  return `call_${randomAlnum(24)}`;
}

const HEX = "0123456789abcdef";

/** `n` random lowercase hex digits. */
function randomHex(n: number): string {
  const bytes = crypto.getRandomValues(new Uint8Array(n));
  let out = "";
  for (const b of bytes) out += HEX[b & 15];
  return out;
}

/** A Responses API id like OpenAI's: `prefix_` and 48 hex digits (`resp`, `msg`, `fc`, `rs`). */
export function responseItemId(prefix: string): string {
  return `${prefix}_${randomHex(48)}`;
}

/** A short request id for logs and the `X-Request-Id` header. */
export function requestId(): string {
  return randomAlnum(12);
}
