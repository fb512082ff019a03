/**
 * The prompt-to-tags step: before a stable-diffusion space draws, an LLM (`images.llm.*`, any
 * model of this server or an OpenAI-compatible endpoint) turns the request's text into prompt
 * keywords, written between `"""` fences. Markers in the prompt steer it:
 *
 * - `<tag />` (or the original's `<tag llm=false />`) skips the LLM: the text is used as it is;
 * - `<tag content="a, b" />` adds literal keywords (the LLM still runs on the remaining text).
 *
 * Without a configured LLM the text is used as it is.
 *
 * @module
 */
import { GatewayError, upstreamFailed } from "../openai/errors.ts";
import type { RequestContext } from "../providers/types.ts";

/** Asks the configured LLM within the request `ctx`; resolves with its answer text. */
export type Complete = (instruction: string, ctx: RequestContext) => Promise<string>;

/** The chat request the prompt-to-tags LLM gets, however it is reached. */
export function tagsRequest(model: string, instruction: string) {
  return {
    model,
    messages: [{ role: "user" as const, content: instruction }],
    temperature: 0.8,
    max_tokens: 1024,
  };
}

/** `images.llm` on an OpenAI-compatible root (`base-url`), with `token` as its bearer key. */
export function remoteComplete(base: string, model: string, token?: string): Complete {
  return async (instruction, ctx) => {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (token) headers.authorization = `Bearer ${token}`;
    const body = await ctx.upstream("images-llm").json<
      { choices?: { message?: { content?: unknown } }[] }
    >(`${base}/chat/completions`, {
      method: "POST",
      headers,
      body: JSON.stringify({ ...tagsRequest(model, instruction), stream: false }),
    });
    const content = body?.choices?.[0]?.message?.content;
    if (typeof content !== "string") {
      throw upstreamFailed("images-llm", "the prompt-to-tags LLM answered without content");
    }
    return content;
  };
}

/** Instruction for keyword prompts (stable-diffusion checkpoints). */
function keywordInstruction(text: string): string {
  return [
    "You write prompts for Stable Diffusion image models.",
    "Turn the description below into one prompt of comma-separated English keywords: subject,",
    "composition, viewpoint, appearance, background, colours, lighting, style, quality words.",
    "Earlier keywords weigh more; braces like {{keyword}} raise a keyword's weight.",
    "Use at most 30 keywords and no sentences. Reply with the prompt only, between lines of",
    'three double quotes, like:\n"""\nkeyword, keyword, keyword\n"""',
    "",
    `Description:\n${text}`,
  ].join("\n");
}

/** Instruction for the dalle-like spaces, which read natural phrases better. */
function phraseInstruction(text: string): string {
  return [
    "You write prompts for text-to-image models.",
    "Turn the description below into one vivid English prompt of short phrases separated by",
    "commas or '|': subject, setting, style, lighting, camera or medium, quality words.",
    "Reply with the prompt only, between lines of three double quotes, like:",
    '"""\nphrase, phrase, phrase\n"""',
    "",
    `Description:\n${text}`,
  ].join("\n");
}

/** The keywords in an LLM's answer: between `"""` fences, before a trailing `"""`, or in ``` . */
export function extractTags(answer: string): string | undefined {
  const text = answer.trim();
  const pick = (open: string) => {
    const l = text.indexOf(open);
    const r = text.lastIndexOf(open);
    return l > -1 && l < r ? text.slice(l + open.length, r) : undefined;
  };
  let tags = pick('"""');
  if (tags === undefined && text.endsWith('"""')) tags = text.slice(0, -3);
  if (tags === undefined) tags = pick("```");
  if (tags === undefined) return undefined;
  tags = tags.replace(/^[a-z]*\n/i, (m) => (m.trim().includes(" ") ? m : ""))
    .replaceAll('"', "")
    .replace(/\s*\n\s*/g, " ")
    .trim();
  return tags === "" ? undefined : tags;
}

/**
 * The prompt a space draws: markers applied, the LLM asked unless skipped or not configured.
 * `phrases` asks for natural phrases instead of keywords.
 */
export async function promptToTags(
  prompt: string,
  complete: ((instruction: string) => Promise<string>) | undefined,
  phrases = false,
): Promise<string> {
  const literal: string[] = [];
  let text = prompt.replace(/<tag\s+content="([^"]*)"\s*\/>/g, (_, c: string) => {
    if (c.trim()) literal.push(c.trim());
    return "";
  });
  let skip = false;
  text = text.replace(/<tag(\s+llm=(false|"false"))?\s*\/>/g, () => {
    skip = true;
    return "";
  }).trim();
  if (text === "") {
    if (literal.length > 0) return literal.join(", ");
    throw new GatewayError(
      400,
      "The prompt is empty once its <tag /> markers are removed",
      "invalid_request_error",
      null,
      "prompt",
    );
  }
  if (skip || !complete) return [...literal, text].join(", ");
  const answer = await complete(phrases ? phraseInstruction(text) : keywordInstruction(text));
  const tags = extractTags(answer);
  if (!tags) {
    throw upstreamFailed(
      "images",
      `the prompt-to-tags LLM (images.llm.model) answered without a prompt between """ fences: ${
        answer.replace(/\s+/g, " ").trim().slice(0, 160) || "(empty)"
      }`,
    );
  }
  return [...literal, tags].join(", ");
}
