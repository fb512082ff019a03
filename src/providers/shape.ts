/**
 * Upstream JSON read against the fields a reader uses. An upstream's event is untrusted input:
 * `null` where an object goes, a number where text goes or an object where a list goes would
 * otherwise throw a TypeError (an internal 500) or let a number through as the answer's text.
 * Readers describe the fields they read with a loose zod schema (other fields pass untouched,
 * absent and `null` fields are allowed) and get the value back typed, or a 502 naming the field.
 *
 * @module
 */
import type { z } from "npm:zod@^4.6.7";
import { snippet } from "../net/http.ts";
import { upstreamFailed } from "../openai/errors.ts";
import { keyPath } from "../util/key_path.ts";

/**
 * `value` checked against `schema`; otherwise a 502 of `provider` saying which field of `what`
 * (e.g. "stream event") has the wrong type, quoting the start of `raw` (the text it came from).
 */
export function readShape<T>(
  provider: string,
  schema: z.ZodType<T>,
  value: unknown,
  what: string,
  raw?: string,
): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const field = keyPath(issue.path);
  const quoted = snippet(raw ?? JSON.stringify(value) ?? String(value));
  throw upstreamFailed(
    provider,
    `${what} ${
      field ? `with '${field}'` : "that is"
    } not as documented (${issue.message}): ${quoted}`,
  );
}
