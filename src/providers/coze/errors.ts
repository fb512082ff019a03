/**
 * Coze's API refusals as `GatewayError`s with honest statuses. Coze answers errors as JSON
 * `{code, msg}` (often with HTTP 200), inside streams as `error` events, and as a failed chat's
 * `last_error`. The codes its SDKs map (coze-js `error.ts`, docs `coze_error_codes`):
 *
 * | code | meaning                                                      | status |
 * | ---- | ------------------------------------------------------------ | ------ |
 * | 4000 | bad request (a parameter)                                    | 400    |
 * | 4100 | authentication invalid (token wrong, expired, other region)  | 401    |
 * | 4101 | no permission (bot not in the token's workspaces, not on API)| 403    |
 * | 4200 | not found (bot or app not published to the API channel)      | 404    |
 * | 4013 | rate limited                                                 | 429    |
 * | 4016 | conversation busy with another chat                          | 429    |
 *
 * Any other code is a 502 quoting it. The `x-tt-logid` Coze gives every response is kept in the
 * message: Coze's support asks for it.
 *
 * @module
 */
import { GatewayError } from "../../openai/errors.ts";

/** Coze's documented error codes. */
export const COZE_CODES = {
  badRequest: 4000,
  auth: 4100,
  permission: 4101,
  rateLimit: 4013,
  busy: 4016,
  notFound: 4200,
} as const;

/** The error of a Coze `{code, msg}` refusal; `logid` is Coze's request id when known. */
export function cozeApiError(code: unknown, msg: unknown, logid?: string | null): GatewayError {
  const text = typeof msg === "string" && msg !== "" ? msg : "no message";
  const detail = `code ${String(code)}: ${text}${logid ? ` (logid ${logid})` : ""}`;
  switch (Number(code)) {
    case COZE_CODES.badRequest:
      return new GatewayError(400, `coze refused the request: ${detail}`, "invalid_request_error");
    case COZE_CODES.auth:
      return new GatewayError(
        401,
        `coze refused the access token (wrong, expired, or made on the other region's site: ` +
          `coze.com tokens work on api.coze.com, coze.cn tokens on api.coze.cn): ${detail}`,
        "authentication_error",
        "invalid_api_key",
      );
    case COZE_CODES.permission:
      return notAccount(
        new GatewayError(
          403,
          `coze: the token may not use this bot (publish the bot to the API channel and give ` +
            `the token access to its workspace): ${detail}`,
          "permission_error",
          "permission_denied",
        ),
      );
    case COZE_CODES.notFound:
      return new GatewayError(
        404,
        `coze: the bot was not found, or is not published to the API channel: ${detail}`,
        "invalid_request_error",
        "model_not_found",
        "model",
      );
    case COZE_CODES.rateLimit:
      return new GatewayError(
        429,
        `coze rate limit: ${detail}`,
        "rate_limit_error",
        "rate_limit_exceeded",
      );
    case COZE_CODES.busy:
      return notAccount(
        new GatewayError(
          429,
          `coze: the conversation is busy with another chat; retry shortly: ${detail}`,
          "rate_limit_error",
          "conversation_busy",
          null,
          { retryAfter: 1 },
        ),
      );
    default:
      return new GatewayError(502, `coze upstream failed: ${detail}`, "upstream_error");
  }
}

function notAccount(err: GatewayError): GatewayError {
  err.notAccount = true;
  return err;
}

/**
 * The error a JSON body of Coze's shape carries (`code` not 0), or undefined. The log id comes
 * from the body (`detail.logid`, `error.logid`) or the `x-tt-logid` header given as `logid`.
 */
export function errorOfCozeBody(body: unknown, logid?: string | null): GatewayError | undefined {
  if (!body || typeof body !== "object" || Array.isArray(body)) return undefined;
  const b = body as Record<string, unknown>;
  if (!("code" in b) || Number(b.code) === 0) return undefined;
  const inner = (b.detail ?? b.error) as { logid?: unknown } | undefined;
  const id = typeof inner?.logid === "string" && inner.logid !== "" ? inner.logid : logid;
  return cozeApiError(b.code, b.msg ?? b.message, id);
}
