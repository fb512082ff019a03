/**
 * The access log: one line per request with its method, route, model, status and duration.
 *
 * @module
 */
import { type GatewayError, logDetail } from "../openai/errors.ts";
import type { Ctx } from "./types.ts";

/** How an answer ended, as every client API's writer reports it. */
export interface AnswerEnd {
  status: number;
  aborted?: boolean;
  error?: GatewayError;
  /** Prompt and completion tokens. */
  tokens?: [number, number];
}

/** The access-log note of an answer: the client left, the error (in full), or the tokens. */
export function answerNote(end: AnswerEnd): string {
  if (end.aborted) return "client disconnected";
  if (end.error) return `error: ${logDetail(end.error)}`;
  return end.tokens ? `tokens=${end.tokens[0]}+${end.tokens[1]}` : "";
}

/**
 * Writes the access-log line of a request. `failed` marks a request that failed after its status
 * was sent (an upstream that broke off mid-stream): an error whatever the status says.
 */
export function accessLog(
  c: Ctx,
  status: number,
  started: number,
  note = "",
  failed = false,
): void {
  const { log } = c.get("deps");
  const model = c.get("model");
  const ms = Math.round(performance.now() - started);
  const line = `${c.req.method} ${c.req.path}${model ? ` model=${model}` : ""} ${status} ${ms}ms${
    note ? ` ${note}` : ""
  }`;
  const l = log.child(`[${c.get("requestId")}]`);
  if (status >= 500 || failed) l.error(line);
  else if (status >= 400 && status !== 499) l.warn(line);
  else l.info(line);
}
