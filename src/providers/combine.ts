/**
 * The message combiner for providers that take a conversation as text (web chat upstreams):
 * OpenAI messages become turns of three roles with same-role neighbours merged, and turns become
 * one prompt with role markers. Text passes through untouched (`%` included).
 *
 * @module
 */
import type { Message } from "../openai/schema.ts";
import { callNames, contentText } from "../openai/response.ts";
import type { TurnMarkers } from "./types.ts";

/** One turn of a flattened conversation. */
export interface Turn {
  role: "system" | "user" | "assistant";
  text: string;
  /** Image URLs (data: or http:) of user content parts, in order. */
  images: string[];
}

/** Options of `toTurns`. */
export interface TurnOptions {
  /** Merge consecutive turns of the same role (default true). */
  merge?: boolean;
  /** Separator of merged texts (default a blank line). */
  separator?: string;
}

/**
 * Turns OpenAI messages into turns: system and developer -> system; user -> user (text parts
 * joined, images collected); assistant -> assistant (tool calls written as text); tool and
 * function results -> user turns naming the tool. Empty texts are dropped.
 */
export function toTurns(messages: readonly Message[], options: TurnOptions = {}): Turn[] {
  const merge = options.merge ?? true;
  const sep = options.separator ?? "\n\n";
  const names = callNames(messages);
  const turns: Turn[] = [];
  for (const m of messages) {
    let role: Turn["role"];
    let text: string;
    const images: string[] = [];
    switch (m.role) {
      case "system":
      case "developer":
        role = "system";
        text = contentText(m.content);
        break;
      case "user":
        role = "user";
        text = contentText(m.content);
        if (Array.isArray(m.content)) {
          for (const p of m.content) if (p.type === "image_url") images.push(p.image_url.url);
        }
        break;
      case "assistant": {
        role = "assistant";
        const calls = (m.tool_calls ?? []).map((tc) =>
          `[called tool ${tc.function.name} with arguments ${tc.function.arguments}]`
        );
        text = [contentText(m.content), ...calls].filter((s) => s.trim() !== "").join("\n");
        break;
      }
      case "tool":
        role = "user";
        text = `[result of tool ${names.get(m.tool_call_id) ?? m.tool_call_id}]\n${
          contentText(m.content)
        }`;
        break;
      case "function":
        role = "user";
        text = `[result of tool ${m.name}]\n${m.content ?? ""}`;
        break;
    }
    text = text.trim();
    if (text === "" && images.length === 0) continue;
    const last = turns[turns.length - 1];
    if (merge && last && last.role === role) {
      last.text = last.text && text ? `${last.text}${sep}${text}` : last.text || text;
      last.images.push(...images);
    } else {
      turns.push({ role, text, images });
    }
  }
  return turns;
}

/** How turns are written as one prompt. */
export interface PromptStyle {
  /** Written before a turn of each role. */
  prefix: Record<Turn["role"], string>;
  /** Written after every turn. */
  suffix: string;
  /** Between turns. */
  separator: string;
  /** Written at the very end (e.g. the assistant's prefix, inviting the answer). */
  tail: string;
}

/** `Human: ` / `Assistant: ` turns (claude.ai, you.com). */
export const HUMAN_ASSISTANT: PromptStyle = {
  prefix: { system: "", user: "Human: ", assistant: "Assistant: " },
  suffix: "",
  separator: "\n\n",
  tail: "\n\nAssistant: ",
};

/** `<|user|>` ... `<|end|>` blocks (coze, arena, copilot). */
export const ROLE_TAGS: PromptStyle = {
  prefix: { system: "<|system|>\n", user: "<|user|>\n", assistant: "<|assistant|>\n" },
  suffix: "\n<|end|>",
  separator: "\n\n",
  tail: "\n\n<|assistant|>\n",
};

/** The role markers a model may start writing when it runs on into the next turn. */
export const ROLE_MARKERS = [
  "<|system|>",
  "<|user|>",
  "<|assistant|>",
  "<|function|>",
  "<|tool|>",
  "<|end|>",
];

/**
 * Where an answer to a flattened prompt ends: any role marker of either style (a model may
 * continue in the style of the emulator's prompt as well as its provider's), and the
 * `<|assistant|>` prefix a model may repeat at the start of its answer.
 */
export const FLATTENED_TURNS: TurnMarkers = {
  needles: [...ROLE_MARKERS, "\n\nHuman:"],
  leading: ["<|assistant|>"],
};

/** A style with `<char_sequences>` user/assistant prefixes applied. */
export function withCharSequences(
  style: PromptStyle,
  seq?: { user: string; assistant: string },
): PromptStyle {
  if (!seq) return style;
  const prefix = { ...style.prefix, user: seq.user, assistant: seq.assistant };
  const tail = style.tail.replace(style.prefix.assistant, seq.assistant);
  return { ...style, prefix, tail };
}

/** Writes turns as one prompt in `style`. */
export function renderTurns(turns: readonly Turn[], style: PromptStyle, tail = true): string {
  const body = turns
    .map((t) => `${style.prefix[t.role]}${t.text}${style.suffix}`)
    .join(style.separator);
  return tail ? body + style.tail : body;
}
