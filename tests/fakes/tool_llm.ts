/**
 * A scripted fake LLM without native tools, behind the fake OpenAI-compatible API: it refuses
 * requests that carry `tools` (as a model server without tool support does when asked for them)
 * and messages it cannot render (a `tool` or `function` turn, an assistant turn with
 * `tool_calls` or `function_call`),
 * reads the gateway's emulation prompt the way a model would (the `<tools>` list in the system
 * message, `<tool_call>` blocks in assistant turns, `<tool_result name="...">` blocks in user
 * turns), and answers with text in that format, streamed in small pieces. What it says is decided
 * by a script per test; the default script is a small weather and time agent.
 *
 * @module
 */
import { type ChatBody, type FakeOpenAi, type Script, startFakeOpenAi } from "./openai.ts";
import type { Recorded } from "./serve.ts";

/** A tool as the fake read it from the prompt. */
export interface SeenTool {
  name: string;
  description?: string;
  parameters: Record<string, unknown>;
}

/** The conversation as the fake model understood it. */
export interface PromptView {
  /** Tools listed in the system message's `<tools>` block. */
  tools: SeenTool[];
  /** The system message text. */
  system: string;
  /** Every message as role + text. */
  messages: { role: string; text: string }[];
  /** The text of the last user message, without tool results and the reminder. */
  lastUser: string;
  /** Tool results in the last user message, in order. */
  results: { name: string; content: string }[];
  /** Tool calls written in assistant messages, in order. */
  calls: { name: string; arguments: unknown }[];
  /** The reminder line at the end of the last user message, if any. */
  reminder?: string;
  /** How many requests the fake answered before this one. */
  turn: number;
}

/** What the script answers: the text (or a full fake script, e.g. an error). */
export type ToolScript = (view: PromptView, body: ChatBody) => string | Script;

/** A running fake tool LLM. */
export interface FakeToolLlm extends Omit<FakeOpenAi, "respond"> {
  /** Decides each answer. */
  script: ToolScript;
  /** The prompts seen, in order. */
  views: PromptView[];
}

function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) {
    return content.filter((p) => p?.type === "text").map((p) => String(p.text)).join("\n");
  }
  return "";
}

/** Reads the emulation prompt of one request. */
export function readPrompt(body: ChatBody, turn: number): PromptView {
  const messages = body.messages.map((m) => ({ role: m.role, text: textOf(m.content) }));
  const system = messages.filter((m) => m.role === "system").map((m) => m.text).join("\n");
  const tools: SeenTool[] = [];
  const block = /<tools>\n([\s\S]*?)\n<\/tools>/.exec(system);
  for (const line of (block?.[1] ?? "").split("\n")) {
    if (line.trim() === "") continue;
    tools.push(JSON.parse(line));
  }
  const calls: PromptView["calls"] = [];
  for (const m of messages) {
    if (m.role !== "assistant") continue;
    for (const c of m.text.matchAll(/<tool_call>\n([\s\S]*?)\n<\/tool_call>/g)) {
      const v = JSON.parse(c[1]);
      calls.push({ name: v.name, arguments: v.arguments });
    }
  }
  const lastUserMsg = [...messages].reverse().find((m) => m.role === "user")?.text ?? "";
  const results: PromptView["results"] = [];
  for (
    const r of lastUserMsg.matchAll(/<tool_result name="([^"]*)">\n([\s\S]*?)\n<\/tool_result>/g)
  ) {
    results.push({ name: r[1], content: r[2] });
  }
  let lastUser = lastUserMsg.replace(/<tool_result name="[^"]*">\n[\s\S]*?\n<\/tool_result>/g, "");
  let reminder: string | undefined;
  const rem = /\n*(\((?:To use a tool|Now call)[^\n]*\))\s*$/.exec(lastUser);
  if (rem) {
    reminder = rem[1];
    lastUser = lastUser.slice(0, rem.index);
  }
  return { tools, system, messages, lastUser: lastUser.trim(), results, calls, reminder, turn };
}

/** A `<tool_call>` block as a well-behaved model writes it. */
export function callText(name: string, args: Record<string, unknown>): string {
  return `<tool_call>\n${JSON.stringify({ name, arguments: args })}\n</tool_call>`;
}

const WEATHER: Record<string, string> = {
  paris: "18°C, light rain",
  tokyo: "24°C, sunny",
  berlin: "12°C, cloudy",
};

/**
 * The default script: asks `get_weather` for each city it knows in the question (several calls
 * at once), `get_time` when asked the time, and answers from the tool results once they came.
 */
export const weatherAgent: ToolScript = (view) => {
  if (view.results.length > 0) {
    return `Here is what I found: ${
      view.results.map((r) => `${r.name} says ${r.content}`).join("; ")
    }.`;
  }
  const names = new Set(view.tools.map((t) => t.name));
  const q = view.lastUser.toLowerCase();
  const cities = Object.keys(WEATHER).filter((c) => q.includes(c));
  const calls: string[] = [];
  if (names.has("get_weather") && q.includes("weather")) {
    for (const c of cities) {
      calls.push(callText("get_weather", { city: c[0].toUpperCase() + c.slice(1) }));
    }
  }
  if (names.has("get_time") && q.includes("time")) {
    calls.push(callText("get_time", { timezone: "Europe/Paris" }));
  }
  if (calls.length === 0) return "I can answer that without tools: hello!";
  return `Let me look that up.\n${calls.join("\n")}`;
};

/** What the weather tool "returns" for a city (for tests that run the tool). */
export function weatherOf(city: string): string {
  return WEATHER[city.toLowerCase()] ?? "unknown";
}

/** Starts the fake tool LLM (an OpenAI-compatible API on 127.0.0.1). */
export async function startFakeToolLlm(
  options: { keys?: string[]; models?: string[]; pieceSize?: number; delayMs?: number } = {},
): Promise<FakeToolLlm> {
  const api = await startFakeOpenAi({ keys: options.keys, models: options.models });
  const views: PromptView[] = [];
  const state: { script: ToolScript } = { script: weatherAgent };
  api.respond = (body: ChatBody, _rec: Recorded): Script => {
    if (body.tools !== undefined || body.tool_choice !== undefined) {
      return {
        error: {
          status: 400,
          message:
            '"auto" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set',
        },
      };
    }
    // Nor does its chat template know tool turns: the gateway must have written them as text.
    const toolTurn = body.messages.findIndex((m) =>
      m.role === "tool" || m.role === "function" ||
      (m.role === "assistant" &&
        ((Array.isArray(m.tool_calls) && m.tool_calls.length > 0) ||
          (m as Record<string, unknown>).function_call != null))
    );
    if (toolTurn >= 0) {
      const m = body.messages[toolTurn];
      return {
        error: {
          status: 400,
          message: m.role === "assistant"
            ? `messages[${toolTurn}]: this model's chat template does not support 'tool_calls' or 'function_call' in assistant messages`
            : "Conversation roles must alternate user/assistant/user/assistant/...",
        },
      };
    }
    const view = readPrompt(body, views.length);
    views.push(view);
    const out = state.script(view, body);
    const script: Script = typeof out === "string" ? { text: out } : out;
    return { pieceSize: options.pieceSize ?? 3, delayMs: options.delayMs, ...script };
  };
  const { respond: _r, ...rest } = api;
  return {
    ...rest,
    chatBodies: api.chatBodies,
    close: api.close,
    get script() {
      return state.script;
    },
    set script(fn) {
      state.script = fn;
    },
    views,
  };
}
