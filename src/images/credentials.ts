/**
 * The shapes of the credentials image backends take from a request's `Authorization` value: they
 * select a backend for `dall-e-3` and make it ready for that request.
 *
 * @module
 */

/** A playground.com session token (the value of `__Secure-next-auth.session-token`). */
const PLAYGROUND_TOKEN =
  /^(__Secure-next-auth\.session-token=)?\w{8,10}-\w{4}-\w{4}-\w{4}-\w{10,15}$/;

/** A Pollinations key: secret `sk_` or publishable `pk_`. */
const POLLINATIONS_KEY = /^(sk|pk)_[A-Za-z0-9]{8,}$/;

/** True for a coze.com cookie string. */
export function isCozeCookie(token: string): boolean {
  return /(^|[;\s])(sessionid|msToken)=/.test(token);
}

/** True for a playground session token. */
export function isPlaygroundToken(token: string): boolean {
  return PLAYGROUND_TOKEN.test(token.trim());
}

/** True for a Pollinations key. */
export function isPollinationsKey(token: string): boolean {
  return POLLINATIONS_KEY.test(token.trim());
}
