/**
 * An OpenAI chat request as open-interpreter input: the history and system text its `/settings`
 * takes, and the last user text `/chat` (or the socket.io `reply` event) takes.
 *
 * @module
 */
import { invalidRequest } from "../../openai/errors.ts";
import type { ChatRequest } from "../../openai/schema.ts";
import { toTurns } from "../combine.ts";

/** One history message as the interpreter's `/settings` takes it. */
export interface InterpreterMessage {
  role: "user" | "assistant";
  type: "message";
  content: string;
}

/** What one request sends to the interpreter. */
export interface InterpreterInput {
  settings: { messages: InterpreterMessage[]; system?: string };
  message: string;
}

function withImages(text: string, images: string[]): string {
  // The interpreter takes text only; linked images are named by URL, inline ones are noted.
  const lines = images.map((u) =>
    /^https?:/i.test(u) ? `*image*: ${u}` : "*image*: (inline image omitted)"
  );
  return [text, ...lines].filter((s) => s !== "").join("\n");
}

/** Splits `req` into the interpreter's settings and message. */
export function toInterpreter(req: ChatRequest): InterpreterInput {
  const turns = toTurns(req.messages);
  const system: string[] = [];
  let i = 0;
  while (i < turns.length && turns[i].role === "system") system.push(turns[i++].text);
  const rest = turns.slice(i).map((t) => ({
    role: t.role === "assistant" ? "assistant" as const : "user" as const,
    text: withImages(t.text, t.images),
  }));
  // Later system turns become user turns; neighbours of one role are merged again.
  const merged: { role: "user" | "assistant"; text: string }[] = [];
  for (const t of rest) {
    const last = merged[merged.length - 1];
    if (last && last.role === t.role) last.text = `${last.text}\n\n${t.text}`;
    else merged.push({ ...t });
  }
  const last = merged.pop();
  if (!last || last.role !== "user") {
    throw invalidRequest("open-interpreter needs the last message to be the user's", "messages");
  }
  const settings: InterpreterInput["settings"] = {
    messages: merged.map((m) => ({ role: m.role, type: "message", content: m.text })),
  };
  if (system.length > 0) settings.system = system.join("\n\n");
  return { settings, message: last.text };
}
