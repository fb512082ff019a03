/**
 * The tools of a Responses request as the internal (Chat Completions) request offers them:
 *
 * - function tools pass as they are; `namespace` tools are flattened into their functions (a
 *   name that two of them share becomes `<namespace>__<name>`);
 * - custom (freeform) tools become functions of one string parameter, `input`;
 * - OpenAI's hosted tools (web_search, file_search, code_interpreter, ...) are left out: no
 *   upstream here can run them. Only a `tool_choice` that forces one is refused.
 *
 * `ToolMap` remembers what each name the upstream sees stands for, so that calls are written
 * back as the client declared them (`namespace`, `custom_tool_call`).
 *
 * @module
 */
import { invalidRequest } from "../openai/errors.ts";
import type { Tool, ToolChoice } from "../openai/schema.ts";
import type { ResponsesTool, ResponsesToolChoice } from "./schema.ts";

/** What one tool name the upstream sees stands for. */
export interface ToolRef {
  /** The name the client declared. */
  name: string;
  /** The namespace it was declared in. */
  namespace?: string;
  /** A custom (freeform) tool: its calls carry `input` text instead of JSON arguments. */
  custom: boolean;
}

/** The names the upstream sees and what they stand for. */
export class ToolMap {
  readonly #refs = new Map<string, ToolRef>();

  /** The declaration behind an upstream name (undefined for a name no tool declared). */
  get(upstream: string): ToolRef | undefined {
    return this.#refs.get(upstream);
  }

  /** The upstream name of a client's tool (its own name when no tool declares it). */
  upstreamName(name: string, namespace?: string): string {
    for (const [up, ref] of this.#refs) {
      if (ref.name === name && ref.namespace === namespace) return up;
    }
    return name;
  }

  /** Adds a declaration; returns the upstream name it got. */
  add(ref: ToolRef): string {
    let up = ref.name;
    if (this.#refs.has(up) && ref.namespace) up = `${ref.namespace}__${ref.name}`;
    if (!this.#refs.has(up)) this.#refs.set(up, ref);
    return up;
  }

  /** The upstream names, in declaration order. */
  names(): string[] {
    return [...this.#refs.keys()];
  }
}

/** The tool fields of the internal request. */
export interface TranslatedTools {
  tools?: Tool[];
  tool_choice?: ToolChoice;
  map: ToolMap;
  /** The hosted tools left out, by type. */
  dropped: string[];
}

const EMPTY_PARAMETERS = { type: "object", properties: {} };

/** The parameters of a custom tool as a function: its whole input as one string. */
function customParameters(): Record<string, unknown> {
  return {
    type: "object",
    properties: { input: { type: "string", description: "The whole input of the tool." } },
    required: ["input"],
    additionalProperties: false,
  };
}

function customDescription(t: {
  description?: string | null;
  format?: { type: string; [k: string]: unknown } | null;
}): string {
  const parts = [t.description ?? ""];
  const f = t.format;
  if (f && f.type === "grammar" && typeof f.definition === "string") {
    parts.push(`The input must match this ${String(f.syntax ?? "")} grammar:\n${f.definition}`);
  }
  return parts.filter(Boolean).join("\n\n");
}

type Declared = Extract<ResponsesTool, { type: "function" | "custom" }>;

function toChatTool(t: Declared, up: string): Tool {
  if (t.type === "custom") {
    return {
      type: "function",
      function: { name: up, description: customDescription(t), parameters: customParameters() },
    };
  }
  const fn: Tool["function"] = { name: up, parameters: t.parameters ?? EMPTY_PARAMETERS };
  if (t.description) fn.description = t.description;
  if (typeof t.strict === "boolean") fn.strict = t.strict;
  return { type: "function", function: fn };
}

/** The internal request's tools and tool choice for the Responses request's. */
export function translateTools(
  tools: readonly ResponsesTool[] | null | undefined,
  choice: ResponsesToolChoice | null | undefined,
): TranslatedTools {
  const map = new ToolMap();
  const dropped: string[] = [];
  const out: Tool[] = [];
  const declare = (t: Declared, namespace?: string) => {
    const up = map.add({ name: t.name, namespace, custom: t.type === "custom" });
    out.push(toChatTool(t, up));
  };
  for (const t of tools ?? []) {
    if (t.type === "function" || t.type === "custom") declare(t as Declared);
    else if (t.type === "namespace") {
      const ns = t as Extract<ResponsesTool, { type: "namespace" }>;
      for (const inner of ns.tools) declare(inner as Declared, ns.name);
    } else dropped.push(t.type);
  }
  let kept = out;
  let toolChoice: ToolChoice | undefined;
  if (typeof choice === "string") toolChoice = choice;
  else if (choice) {
    const c = choice as { type: string; name?: string; mode?: string; tools?: unknown[] };
    if (c.type === "function" || c.type === "custom") {
      const up = [...map.names()].find((n) => {
        const ref = map.get(n)!;
        return ref.name === c.name && ref.custom === (c.type === "custom");
      });
      if (!up) {
        throw invalidRequest(
          `tool_choice names the ${c.type} tool '${c.name}', which is not among the tools`,
          "tool_choice.name",
        );
      }
      toolChoice = { type: "function", function: { name: up } };
    } else if (c.type === "allowed_tools") {
      const allowed = new Set(
        (c.tools as { type: string; name?: string }[]).map((a) => a.name ?? a.type),
      );
      kept = out.filter((t) => allowed.has(map.get(t.function.name)!.name));
      toolChoice = c.mode as "auto" | "required";
    } else {
      throw invalidRequest(
        `tool_choice forces the hosted tool '${c.type}', which no upstream of this server can run`,
        "tool_choice",
      );
    }
  }
  if (kept.length === 0) {
    if (toolChoice === "required" || typeof toolChoice === "object") {
      throw invalidRequest(
        "tool_choice requires a tool call, but no function or custom tool is offered" +
          (dropped.length > 0 ? ` (hosted tools left out: ${dropped.join(", ")})` : ""),
        "tool_choice",
      );
    }
    return { map, dropped };
  }
  return { tools: kept, tool_choice: toolChoice, map, dropped };
}
