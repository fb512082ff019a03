/**
 * The emulation's prompt: the request an upstream without native tools receives. The tools
 * (compacted: names kept, descriptions and schemas shortened, `compact.ts`) and the rules go into
 * the system message; earlier assistant tool calls are
 * written back as the same `<tool_call>` blocks the model is asked to write; tool results become
 * `<tool_result name="...">` blocks in a user message, matched to their calls by `tool_call_id`;
 * a short reminder ends the last user message. English only: nothing depends on the user's
 * language. The format is documented in docs/toolcall.md.
 *
 * @module
 */
import type { ChatRequest, Message, Tool } from "../openai/schema.ts";
import { callNames, contentText } from "../openai/response.ts";
import { compactTool } from "./compact.ts";
import { LooseJsonError, parseLooseJson } from "./json.ts";

/** What the model is asked for in this turn. */
export type Choice =
  | { kind: "none" }
  | { kind: "auto" }
  | { kind: "required" }
  | { kind: "named"; name: string };

/** A planned sub-task of tasks mode. */
export interface PlannedTask {
  tool: string;
  task: string;
}

/** Everything that shapes the emulation of one request. */
export interface EmulationPlan {
  tools: Tool[];
  choice: Choice;
  /** Several calls in one answer allowed. */
  parallel: boolean;
  /** A tool called (with `{}`) when the answer has no call (`toolcall.id`, `<tool id>`). */
  defaultTool?: string;
  /** Tasks mode: ask for a plan, or carry on with a stored one. */
  tasks?:
    | { stage: "plan" }
    | { stage: "next"; plan: PlannedTask[]; done: number };
}

/** The `<tool_call>` block of one call, as the model is asked to write it. */
export function callBlock(name: string, args: string): string {
  let parsed: unknown = args;
  try {
    parsed = parseLooseJson(args);
  } catch (err) {
    if (!(err instanceof LooseJsonError)) throw err;
  }
  return `<tool_call>\n${JSON.stringify({ name, arguments: parsed })}\n</tool_call>`;
}

/** A tool result block. */
export function resultBlock(name: string, content: string): string {
  return `<tool_result name=${JSON.stringify(name)}>\n${content}\n</tool_result>`;
}

function toolLine(t: Tool): string {
  return JSON.stringify(compactTool(t));
}

function choiceRule(plan: EmulationPlan): string {
  const c = plan.choice;
  switch (c.kind) {
    case "required":
      return "In this answer you must call at least one tool.";
    case "named":
      return `In this answer you must call the tool "${c.name}".`;
    default:
      return plan.defaultTool
        ? `Call a tool when it helps to answer. When no other tool fits, call the tool "${plan.defaultTool}".`
        : "Call a tool only when it helps to answer. When no tool is needed, answer the user directly, without any <tool_call> block.";
  }
}

function tasksRule(plan: EmulationPlan): string | undefined {
  const t = plan.tasks;
  if (!t) return undefined;
  if (t.stage === "plan") {
    return [
      "If the request needs several tool steps (at most 3), first write the plan as",
      '<tasks>[{"tool": "tool_name", "task": "what this step does"}, ...]</tasks>',
      "then call only the tool of the first task. The next tasks are done in the following turns, one tool call per turn.",
    ].join("\n");
  }
  const lines = t.plan.map((p, i) =>
    `${i + 1}. ${
      i < t.done ? "(done)" : i === t.done ? "(next)" : "(later)"
    } ${p.task} [tool: ${p.tool}]`
  );
  return `The planned tasks are:\n${lines.join("\n")}\nNow do the next task.`;
}

/** The instructions and tool list added to the system message. */
export function systemText(plan: EmulationPlan): string {
  const tools = plan.tools.map(toolLine).join("\n");
  if (plan.choice.kind === "none") {
    return [
      "# Tools",
      "",
      "These tools exist in this conversation. They are listed for context only: do not call any tool now, answer in plain text.",
      "",
      `<tools>\n${tools}\n</tools>`,
      "",
      'Earlier tool calls appear as <tool_call> blocks, and their results as <tool_result name="..."> blocks.',
    ].join("\n");
  }
  const rules = [
    '"name" must be one of the tool names above, spelled exactly.',
    '"arguments" must be a JSON object that matches the tool\'s parameters schema: every required argument, the right types, only argument names from the schema.',
    "Write strict JSON: double quotes, no comments, no trailing commas.",
    plan.parallel
      ? "To call several tools at once, write one <tool_call> block per call, one after another."
      : "Call at most one tool per answer.",
    'After your last </tool_call>, stop and end your answer. Never write a tool\'s result yourself: it comes in the next message inside a <tool_result name="..."> block, and then you continue.',
    "You may write a short sentence before the tool call. Do not put the block in a code fence.",
    choiceRule(plan),
  ];
  const tasks = tasksRule(plan);
  if (tasks) rules.push(tasks);
  return [
    "# Tools",
    "",
    "You can call the tools listed below. Each line inside <tools></tools> is one tool: its name, what it does, and the JSON Schema of its arguments.",
    "",
    `<tools>\n${tools}\n</tools>`,
    "",
    "# How to call a tool",
    "",
    'To call a tool, write a <tool_call> block holding one JSON object with the tool\'s "name" and its "arguments":',
    "",
    '<tool_call>\n{"name": "tool_name", "arguments": {"argument_name": "value"}}\n</tool_call>',
    "",
    "Rules:",
    ...rules.map((r, i) => `${i + 1}. ${r}`),
  ].join("\n");
}

/** The reminder appended to the last user message. */
export function reminderText(plan: EmulationPlan): string | undefined {
  const c = plan.choice;
  switch (c.kind) {
    case "none":
      return undefined;
    case "required":
      return "(Now call a tool: reply with <tool_call> block(s).)";
    case "named":
      return `(Now call the tool "${c.name}": reply with <tool_call>{"name": "${c.name}", "arguments": {...}}</tool_call>.)`;
    default:
      return '(To use a tool, reply with <tool_call>{"name": ..., "arguments": {...}}</tool_call> and stop there; otherwise answer directly.)';
  }
}

function withText(m: Message, extra: string, where: "start" | "end"): Message {
  const join = (a: string, b: string) => (a === "" ? b : b === "" ? a : `${a}\n\n${b}`);
  if (typeof m.content === "string" || m.content == null) {
    const text = m.content ?? "";
    return { ...m, content: where === "end" ? join(text, extra) : join(extra, text) } as Message;
  }
  const part = { type: "text" as const, text: extra };
  const parts = where === "end" ? [...m.content, part] : [part, ...m.content];
  return { ...m, content: parts } as Message;
}

/**
 * The conversation rewritten for an upstream without tools: tool calls and results as text,
 * same as the format the model writes, plus the instructions.
 */
export function renderMessages(messages: readonly Message[], plan: EmulationPlan): Message[] {
  const names = callNames(messages);
  const out: Message[] = [];
  /** Results waiting to be put in a user message. */
  let results: string[] = [];
  const flushResults = (next?: Message) => {
    if (results.length === 0) return next;
    const text = results.join("\n\n");
    results = [];
    if (next && next.role === "user") return withText(next, text, "start");
    out.push({ role: "user", content: text });
    return next;
  };
  for (const m of messages) {
    if (m.role === "tool") {
      results.push(resultBlock(names.get(m.tool_call_id) ?? "unknown", contentText(m.content)));
      continue;
    }
    if (m.role === "function") {
      results.push(resultBlock(m.name, m.content ?? ""));
      continue;
    }
    const next = flushResults(m)!;
    if (next.role === "assistant") {
      const calls = (next.tool_calls ?? []).map((tc) =>
        callBlock(tc.function.name, tc.function.arguments)
      );
      if (next.function_call) {
        calls.push(callBlock(next.function_call.name, next.function_call.arguments));
      }
      const {
        tool_calls: _tc,
        function_call: _fc,
        reasoning_content: _rc,
        ...rest
      } = next;
      const text = [contentText(next.content), ...calls].filter((s) => s.trim() !== "")
        .join("\n\n");
      out.push({ ...rest, content: text } as Message);
      continue;
    }
    out.push(next);
  }
  flushResults();

  // The instructions: appended to the leading system message, or a new one first.
  const system = systemText(plan);
  const first = out[0];
  if (first && (first.role === "system" || first.role === "developer")) {
    out[0] = withText(first, system, "end");
  } else {
    out.unshift({ role: "system", content: system });
  }
  // The reminder ends the last user message, also when system messages follow it (Claude Code
  // sends its environment as a system message after the user's).
  const reminder = reminderText(plan);
  let i = out.length - 1;
  while (i > 0 && (out[i].role === "system" || out[i].role === "developer")) i--;
  if (reminder && out[i].role === "user") out[i] = withText(out[i], reminder, "end");
  return out;
}

/** The request the upstream receives: messages rewritten, no tool fields, no `stop`. */
export function renderRequest(req: ChatRequest, plan: EmulationPlan): ChatRequest {
  const {
    tools: _tools,
    tool_choice: _choice,
    parallel_tool_calls: _parallel,
    stop: _stop,
    ...rest
  } = req;
  return { ...rest, messages: renderMessages(req.messages, plan) } as ChatRequest;
}
