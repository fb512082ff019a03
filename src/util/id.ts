/**
 * Random identifiers: response ids, tool-call ids, request ids.
 *
 * @module
 */

const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** A random string of `n` letters and digits from a cryptographic source. */
export function randomAlnum(n: number): string {
  const bytes = crypto.getRandomValues(new Uint8Array(n));
  let out = "";
  // 248 = 4 * 62: rejecting larger bytes keeps the distribution uniform.
  for (let i = 0; i < n; i++) {
    let b = bytes[i];
    while (b >= 248) b = crypto.getRandomValues(new Uint8Array(1))[0];
    out += ALNUM[b % 62];
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

/** A short request id for logs and the `X-Request-Id` header. */
export function requestId(): string {
  return randomAlnum(12);
}
