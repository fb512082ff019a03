/**
 * The access log: one line per request with its method, route, model, status and duration.
 *
 * @module
 */
import type { Ctx } from "./types.ts";

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
