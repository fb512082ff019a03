/**
 * What the gateway sends on Copilot's chat socket (reference section 1, request flow step 5):
 * the `setOptions` and `reportLocalConsents` handshake frames, then the `send` frame
 * (`toCopilotRequest`) with the conversation id, the content parts (uploaded images, then the
 * text) and the mode. The socket has no roles: the conversation is flattened into the one text
 * part (`promptOf`).
 *
 * @module
 */
import type { ChatRequest } from "../../openai/schema.ts";
import { countTokens } from "../../util/tokens.ts";
import { renderTurns, ROLE_TAGS, toTurns, type Turn, withCharSequences } from "../combine.ts";
import type { ChatContext } from "../types.ts";
import type { CopilotMode } from "./models.ts";

/**
 * The first handshake frame: what the client can render. The lists describe a UI; a text answer
 * streams as `appendText` whatever they say. `partial-generated-images` and the `image` card are
 * kept so that image generation is offered (Windows-Copilot-API `copilot/protocol.py`).
 */
export const SET_OPTIONS = {
  event: "setOptions",
  supportedFeatures: ["partial-generated-images"],
  supportedCards: ["image"],
  supportedUIComponents: {},
  ads: { supportedTypes: [] },
  supportedActions: [],
};

/** The second handshake frame: no consents granted locally. */
export const REPORT_CONSENTS = { event: "reportLocalConsents", grantedConsents: [] };

/** One content part of a `send` frame. */
export type CopilotPart =
  | { type: "text"; text: string }
  | { type: "image"; url: string };

/** The `send` frame. */
export interface CopilotSend {
  event: "send";
  conversationId: string;
  content: CopilotPart[];
  mode: CopilotMode;
  context: Record<string, never>;
}

/** Builds the `send` frame: image parts (already uploaded) first, then the text. */
export function toCopilotRequest(o: {
  conversationId: string;
  text: string;
  mode: CopilotMode;
  images?: readonly string[];
}): CopilotSend {
  return {
    event: "send",
    conversationId: o.conversationId,
    content: [
      ...(o.images ?? []).map((url) => ({ type: "image" as const, url })),
      { type: "text", text: o.text },
    ],
    mode: o.mode,
    context: {},
  };
}

/** The flattened conversation of a request. */
export interface CopilotPrompt {
  /** The text part. */
  text: string;
  /** Images of the last user turn (data: or http(s) URLs), to upload. */
  images: string[];
  /** Tokens of `text`. */
  tokens: number;
}

/**
 * Flattens the conversation into the one text part: a lone user turn (with system text before
 * it) goes as written; a longer conversation as `<|role|>` blocks ending with the assistant's
 * prefix (or the `<char_sequences>` of the request). Images come from the last user turn.
 */
export function promptOf(req: ChatRequest, ctx: ChatContext): CopilotPrompt {
  const turns = toTurns(req.messages);
  const last = turns.findLast((t) => t.role === "user");
  const text = plain(turns)
    ? turns.map((t) => t.text).filter(Boolean).join("\n\n")
    : renderTurns(turns, withCharSequences(ROLE_TAGS, ctx.flags.charSequences));
  return { text, images: last?.images ?? [], tokens: countTokens(text) };
}

/** True when the conversation is system text and one user turn, nothing else. */
function plain(turns: readonly Turn[]): boolean {
  const users = turns.filter((t) => t.role === "user").length;
  return users === 1 && turns.every((t) => t.role !== "assistant") &&
    turns[turns.length - 1]?.role === "user";
}
