/**
 * Gradio's streamed outputs: with protocol `sse_v2` and later, the first `process_generating` of
 * an event carries whole output values and the later ones one list of diff operations per output
 * (`[action, path, value]` with `replace`, `append`, `add`, `delete`), as gradio's own client
 * applies them (`client/js/src/utils/stream.ts`).
 *
 * @module
 */
import { snippet } from "./http.ts";

/** One diff operation of a streamed output: `[action, path, value]`. */
export type DiffOp = [string, (string | number)[], unknown];

/**
 * Applies gradio's diff operations to a value and returns the new value (the input may be
 * changed in place): `replace` and `append` (string concatenation) at any path, `add` (insert
 * into a list, or set a key) and `delete` (remove from a list or an object) below the root.
 */
export function applyDiff(value: unknown, ops: readonly DiffOp[]): unknown {
  let out = value;
  for (const op of ops) {
    if (!Array.isArray(op) || op.length < 2 || !Array.isArray(op[1])) {
      throw new Error(`not a diff operation: ${snippet(JSON.stringify(op), 80)}`);
    }
    out = applyEdit(out, op[1], op[0], op[2]);
  }
  return out;
}

function applyEdit(
  target: unknown,
  path: readonly (string | number)[],
  action: string,
  value: unknown,
): unknown {
  if (path.length === 0) {
    if (action === "replace") return value;
    if (action === "append") return appendTo(target, value);
    throw new Error(`unsupported diff action at the root: ${action}`);
  }
  let current = target as Record<string | number, unknown>;
  for (let i = 0; i < path.length - 1; i++) {
    current = current?.[path[i]] as Record<string | number, unknown>;
    if (current == null || typeof current !== "object") {
      throw new Error(`diff path ${JSON.stringify(path)} does not exist`);
    }
  }
  if (current == null || typeof current !== "object") {
    throw new Error(`diff path ${JSON.stringify(path)} does not exist`);
  }
  const last = path[path.length - 1];
  switch (action) {
    case "replace":
      current[last] = value;
      break;
    case "append":
      current[last] = appendTo(current[last], value);
      break;
    case "add":
      if (Array.isArray(current)) current.splice(Number(last), 0, value);
      else current[last] = value;
      break;
    case "delete":
      if (Array.isArray(current)) current.splice(Number(last), 1);
      else delete current[last];
      break;
    default:
      throw new Error(`unknown diff action: ${action}`);
  }
  return target;
}

function appendTo(target: unknown, value: unknown): unknown {
  if (typeof target === "string" && typeof value === "string") return target + value;
  if (Array.isArray(target) && Array.isArray(value)) return [...target, ...value];
  if (target == null) return value;
  throw new Error("append to a value that is not a string or list");
}

/**
 * Keeps the whole output values of one event while it streams: the first `process_generating`
 * carries values, later ones carry one list of diff operations per output.
 */
export class OutputTracker {
  #values: unknown[] | undefined;

  /** The whole output list after a `process_generating` message's `output.data`. */
  generating(data: unknown[]): unknown[] {
    if (this.#values === undefined) {
      this.#values = structuredClone(data);
    } else {
      this.#values = this.#values.map((v, i) => {
        const ops = data[i];
        if (!Array.isArray(ops)) return v;
        return applyDiff(v, ops as DiffOp[]);
      });
      // Outputs beyond the first message's count are taken as they come.
      for (let i = this.#values.length; i < data.length; i++) this.#values.push(data[i]);
    }
    return this.#values;
  }

  /** Whole values seen so far (undefined before the first). */
  get values(): unknown[] | undefined {
    return this.#values;
  }
}
