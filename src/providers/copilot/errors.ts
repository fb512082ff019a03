/**
 * Copilot's refusals as `GatewayError`s with honest statuses: the socket's `error` frames
 * (`errorCode`), a refused socket upgrade, and the REST calls' statuses.
 *
 * @module
 */
import { GatewayError, upstreamFailed } from "../../openai/errors.ts";
import { REGION_UNAVAILABLE } from "../../pool/mod.ts";

/** The region hint every `chat-service-unavailable` carries. */
const REGION_HINT =
  "Copilot is not offered to anonymous users where this server's address is (some regions, India among them); sign in (copilot.access-tokens) or send Copilot's traffic through a proxy in a supported region (copilot.proxies)";

/**
 * The error of an `error` frame. `signedIn` tells an account's refusal from the region's.
 * `answered` says whether the gateway had answered a challenge before (an `invalid-event` then
 * most likely means the answer was refused).
 */
export function errorFrame(
  frame: Record<string, unknown>,
  o: { signedIn: boolean; answered: boolean },
): GatewayError {
  const code = typeof frame.errorCode === "string" ? frame.errorCode : "";
  const message = typeof frame.message === "string" ? frame.message : "";
  const said = `${code || "no error code"}${message ? `: ${message}` : ""}`;
  switch (code) {
    case "chat-service-unavailable":
      if (!o.signedIn) {
        return new GatewayError(
          403,
          `copilot: chat-service-unavailable: ${REGION_HINT}`,
          "permission_error",
          REGION_UNAVAILABLE,
        );
      }
      return new GatewayError(
        503,
        `copilot: chat-service-unavailable for this account right now; ${REGION_HINT}`,
        "upstream_error",
        "service_unavailable",
        null,
        { retryAfter: 60 },
      );
    case "invalid-event":
      return upstreamFailed(
        "copilot",
        `Copilot refused a frame of the gateway as invalid (invalid-event)${
          o.answered ? " after the challenge answer" : ""
        }: the handshake, the session id or a challenge answer did not satisfy it; the protocol may have changed`,
      );
  }
  if (/unauthori[sz]ed|auth|token|login|sign-?in/i.test(code)) {
    return new GatewayError(401, `copilot refused the credential: ${said}`, "authentication_error");
  }
  if (/throttl|rate|too-many|limit/i.test(code)) {
    return new GatewayError(
      429,
      `copilot rate limit: ${said}`,
      "rate_limit_error",
      "rate_limit_exceeded",
    );
  }
  return upstreamFailed("copilot", `the chat socket answered with an error: ${said}`);
}

/** The 401 of an access token Copilot refused (REST 401 or a socket upgrade refused with 401). */
export function badToken(where: string): GatewayError {
  return new GatewayError(
    401,
    `copilot refused the access token (${where}): it is expired, or not a token of the ChatAI.ReadWrite scope; get a fresh one (docs/copilot.md)`,
    "authentication_error",
    "invalid_api_key",
  );
}
