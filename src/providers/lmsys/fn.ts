/**
 * Which gradio functions a request calls: `[fn_index, trigger_id]` of the arena's first step.
 * They change whenever the arena is redeployed, so they come from the client's `Authorization`
 * (`[49, 109]`, or a JSON object model -> pair), else from `lmsys.fn` (a pair, or a map model ->
 * pair with `*` as the fallback), else the original's default.
 *
 * @module
 */
import type { Config } from "../../config/schema.ts";
import { invalidRequest } from "../../openai/errors.ts";

/** `[fn_index, trigger_id]`. */
export type FnPair = [number, number];

/** The original's default pair. */
export const DEFAULT_FN: FnPair = [49, 109];

function isPair(v: unknown): v is FnPair {
  return Array.isArray(v) && v.length === 2 && v.every((n) => Number.isInteger(n) && n >= 0);
}

function fromMap(map: Record<string, unknown>, model: string): unknown {
  return map[model] ?? map[`lmsys/${model}`] ?? map["*"];
}

/**
 * The pair for the arena model `model`. A token that is not JSON (any other key a client must
 * send) is ignored; a JSON token of the wrong shape is a 400.
 */
export function resolveFn(model: string, token: string | undefined, config: Config): FnPair {
  const t = token?.trim() ?? "";
  if (t.startsWith("[") || t.startsWith("{")) {
    let value: unknown;
    try {
      value = JSON.parse(t);
    } catch {
      value = undefined;
    }
    if (isPair(value)) return value;
    if (value && typeof value === "object" && !Array.isArray(value)) {
      const entry = fromMap(value as Record<string, unknown>, model);
      if (isPair(entry)) return entry;
      if (entry !== undefined) throw badToken();
    } else {
      throw badToken();
    }
  }
  const fn = config.lmsys.fn;
  if (isPair(fn)) return fn;
  if (fn && typeof fn === "object") {
    const entry = fromMap(fn as Record<string, unknown>, model);
    if (isPair(entry)) return entry;
  }
  return DEFAULT_FN;
}

function badToken() {
  return invalidRequest(
    "For lmsys models, Authorization must be '[fn_index, trigger_id]' (two non-negative integers) " +
      "or a JSON object mapping arena models to such pairs",
    null,
    "invalid_api_key",
  );
}
