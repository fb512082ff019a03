/**
 * What Coze's refusals mean for the client: `code != 0` bodies, texts inside the answer stream and
 * the unusual-traffic block, each as a `GatewayError` with an honest status.
 *
 * @module
 */
import { GatewayError } from "../../../openai/errors.ts";

/** Coze's code for an expired or missing login (`sessionid`). */
export const LOGIN_INVALID_CODE = 700012006;
/** Coze's code for a request its bot detection refused. */
export const UNUSUAL_TRAFFIC_CODE = 700012014;

/** Answer texts that mean the account used up its messages (the stream carries them as text). */
const LIMIT_TEXTS = ["limit on the number of messages", "daily limit for sending messages"];

/** True when an answer text is Coze's message-limit notice rather than the bot's answer. */
export function isLimitText(text: string): boolean {
  return LIMIT_TEXTS.some((t) => text.includes(t));
}

/** The error for a message-limit notice: 429, the account rests. */
export function limitError(text: string): GatewayError {
  return new GatewayError(
    429,
    `coze account reached its message limit: ${text.trim().slice(0, 300)}`,
    "rate_limit_error",
    "rate_limit_exceeded",
  );
}

/**
 * The error for a Coze `{code, msg}` refusal of `what` (an endpoint or step name): login invalid
 * is 401 (the pool puts the cookie aside), unusual traffic is 503 (the IP is blocked, not the
 * account), message limits 429, anything else 502 quoting code and message.
 */
export function cozeError(what: string, code: unknown, msg: unknown): GatewayError {
  const text = typeof msg === "string" && msg !== "" ? msg : "no message";
  const detail = `${what}: code ${String(code)}: ${text}`;
  if (code === LOGIN_INVALID_CODE || /login verification is invalid|not login/i.test(text)) {
    return new GatewayError(
      401,
      `coze login is invalid (the cookie's sessionid expired or is wrong); ${detail}`,
      "authentication_error",
      "invalid_api_key",
    );
  }
  if (code === UNUSUAL_TRAFFIC_CODE || /unusual traffic/i.test(text)) {
    return new GatewayError(
      503,
      `coze refused the request as unusual traffic (its bot detection blocked this IP or the signature); ${detail}`,
      "upstream_error",
      "upstream_blocked",
      null,
      { retryAfter: 60 },
    );
  }
  if (isLimitText(text)) return limitError(text);
  return new GatewayError(502, `coze upstream failed: ${detail}`, "upstream_error");
}

/** A JSON body of Coze's shape `{code, msg}` with a non-zero code, as an error; else undefined. */
export function errorOfBody(what: string, body: unknown): GatewayError | undefined {
  if (!body || typeof body !== "object") return undefined;
  const b = body as Record<string, unknown>;
  if (!("code" in b) || b.code === 0 || b.code === "0") return undefined;
  return cozeError(what, b.code, b.msg ?? b.message);
}
