/**
 * The evaluation arena.ai creates for one request (reference section 4, gpt4free `LMArena.py`):
 * `POST /nextjs-api/stream/create-evaluation` with client-made UUIDv7 ids (`id` of the evaluation,
 * `userMessageId`, `modelAMessageId`), `mode: "direct-battle"` with `modelAId`, the user message
 * `{content, experimental_attachments, metadata}`, `modality: "chat"` and a fresh reCAPTCHA v3
 * token.
 *
 * Only the last user message travels (the site keeps history under the evaluation's `id`), so the
 * whole conversation is flattened into that one message and each request is a new evaluation.
 *
 * @module
 */
import type { RequestFlags } from "../../flags/types.ts";
import type { Message } from "../../openai/schema.ts";
import { renderTurns, ROLE_TAGS, toTurns, withCharSequences } from "../combine.ts";

/** The body of `create-evaluation`. */
export interface ArenaRequest {
  id: string;
  mode: "direct-battle";
  modelAId: string;
  userMessageId: string;
  modelAMessageId: string;
  userMessage: {
    content: string;
    experimental_attachments: { name: string; contentType: string; url: string }[];
    metadata: Record<string, never>;
  };
  modality: "chat";
  recaptchaV3Token: string;
}

/**
 * A UUID version 7 (RFC 9562): 48 bits of Unix milliseconds, the version, 74 random bits with the
 * variant, as the site's own client makes them.
 */
export function uuid7(now = Date.now()): string {
  const b = crypto.getRandomValues(new Uint8Array(16));
  let ms = now;
  for (let i = 5; i >= 0; i--) {
    b[i] = ms % 256;
    ms = Math.floor(ms / 256);
  }
  b[6] = (b[6] & 0x0f) | 0x70;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${
    hex.slice(20)
  }`;
}

/** What the conversation becomes: one message, and whether images had to be left out. */
export interface ArenaPrompt {
  content: string;
  droppedImages: number;
}

/**
 * The conversation as one message: a lone user message as it is; anything more (a system
 * prompt, earlier turns) flattened with role tags, ending with the assistant's tag.
 */
export function arenaPrompt(messages: readonly Message[], flags: RequestFlags): ArenaPrompt {
  const turns = toTurns(messages);
  const droppedImages = turns.reduce((n, t) => n + t.images.length, 0);
  const content = turns.length === 1 && turns[0].role === "user" && !flags.charSequences
    ? turns[0].text
    : renderTurns(turns, withCharSequences(ROLE_TAGS, flags.charSequences));
  return { content, droppedImages };
}

/** The body of a new evaluation of `modelId` for `content`. */
export function toArenaRequest(content: string, modelId: string, token: string): ArenaRequest {
  return {
    id: uuid7(),
    mode: "direct-battle",
    modelAId: modelId,
    userMessageId: uuid7(),
    modelAMessageId: uuid7(),
    userMessage: { content, experimental_attachments: [], metadata: {} },
    modality: "chat",
    recaptchaV3Token: token,
  };
}
