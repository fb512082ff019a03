/**
 * Tasks mode (`<tool tasks />`): the model plans up to 3 sub-tasks in its first answer, and the
 * following requests carry the plan on, one tool call per turn. A plan is stored under the id of
 * the tool call that was answered with it: ids are random (`call_` + 24 characters) and come back
 * in the client's next request, so two conversations never share a plan (the original keyed plans
 * by the last user texts, which collided).
 *
 * @module
 */
import type { Message, Tool } from "../openai/schema.ts";
import type { PlannedTask } from "./prompt.ts";
import { isObject } from "./schema.ts";

/** The most tasks a plan keeps. */
export const MAX_TASKS = 3;

/** How long a plan waits for the next turn. */
const TTL_MS = 30 * 60_000;
/** Plans kept at most (the oldest go first). */
const MAX_PLANS = 10_000;

interface Stored {
  plan: PlannedTask[];
  /** Tasks whose tool was called, counting the call stored under this id. */
  done: number;
  at: number;
}

/**
 * The plans of one server, by tool call id, oldest first (a Map keeps insertion order); bounded
 * in age and count.
 */
export class TaskPlans {
  #plans = new Map<string, Stored>();

  #sweep(now: number): void {
    for (const [id, s] of this.#plans) {
      if (now - s.at <= TTL_MS && this.#plans.size <= MAX_PLANS) break;
      this.#plans.delete(id);
    }
  }

  /** Stores the plan state reached by the call `id`. */
  remember(id: string, plan: PlannedTask[], done: number): void {
    const now = Date.now();
    this.#sweep(now);
    this.#plans.set(id, { plan, done, at: now });
  }

  /**
   * The stored plan this request continues: the last assistant message must have tool calls,
   * answered by tool results only since. Returns undefined when there is none.
   */
  planFor(messages: readonly Message[]): { plan: PlannedTask[]; done: number } | undefined {
    this.#sweep(Date.now());
    for (let i = messages.length - 1; i >= 0; i--) {
      const m = messages[i];
      if (m.role === "tool" || m.role === "function") continue;
      if (m.role !== "assistant") return undefined;
      for (const tc of m.tool_calls ?? []) {
        const s = tc.id ? this.#plans.get(tc.id) : undefined;
        if (s) return { plan: s.plan, done: s.done };
      }
      return undefined;
    }
    return undefined;
  }
}

/** The valid tasks of a `<tasks>` value: declared tools, a text each, at most 3. */
export function readPlan(
  value: unknown,
  resolve: (name: string) => string | undefined,
): PlannedTask[] {
  const list = Array.isArray(value)
    ? value
    : isObject(value) && Array.isArray(value.tasks)
    ? value.tasks
    : [];
  const out: PlannedTask[] = [];
  for (const item of list) {
    if (!isObject(item)) continue;
    const rawName = item.tool ?? item.name ?? item.toolId;
    const task = item.task ?? item.description;
    const tool = typeof rawName === "string" ? resolve(rawName) : undefined;
    if (tool && typeof task === "string" && task.trim() !== "") {
      out.push({ tool, task: task.trim() });
    }
    if (out.length === MAX_TASKS) break;
  }
  return out;
}

/**
 * The arguments to call a tool with directly, without asking the model, when it takes none (or
 * only parameters whose description is `$`, which receive the task text, as the original did).
 */
export function directArguments(tool: Tool, task: string): Record<string, string> | undefined {
  const p = tool.function.parameters;
  const props = isObject(p) && isObject(p.properties) ? p.properties : {};
  const out: Record<string, string> = {};
  for (const [k, s] of Object.entries(props)) {
    if (!isObject(s) || s.description !== "$") return undefined;
    out[k] = task;
  }
  return out;
}
