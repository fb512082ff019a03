/**
 * The conversation as claude.ai receives it: OpenAI messages flattened into `Human:` /
 * `Assistant:` turns (or the `<char_sequences>` prefixes), optionally padded with junk text for
 * `<pad />`, sent as the `paste.txt` attachment of one completion.
 *
 * @module
 */
import type { RequestFlags } from "../../flags/types.ts";
import type { Message } from "../../openai/schema.ts";
import { randomAlnum } from "../../util/id.ts";
import { countTokens } from "../../util/tokens.ts";
import { HUMAN_ASSISTANT, renderTurns, toTurns, withCharSequences } from "../combine.ts";

/** Flattens the conversation; the tail invites the answer unless the last turn is the assistant's. */
export function flattenConversation(messages: readonly Message[], flags: RequestFlags): string {
  const turns = toTurns(messages);
  const style = withCharSequences(HUMAN_ASSISTANT, flags.charSequences);
  const last = turns[turns.length - 1];
  // A trailing assistant turn is a prefill the model should continue, not answer again.
  return renderTurns(turns, style, last?.role !== "assistant");
}

/**
 * Puts random letters and digits (100-character lines) before `prompt` until the whole text has
 * at least `targetTokens` tokens, then three line ends and the prompt. A prompt already that long
 * is returned as it is.
 */
export function padPrompt(prompt: string, targetTokens: number): string {
  let total = countTokens(prompt);
  if (targetTokens <= 0 || total >= targetTokens) return prompt;
  const junk: string[] = [];
  // Pieces are counted one by one, but tokens can merge across their joins: recount the whole
  // text and top up until it really reaches the target.
  while (total < targetTokens) {
    let tokens = total;
    while (tokens < targetTokens) {
      const piece = randomAlnum(100);
      tokens += countTokens(piece);
      junk.push(piece);
    }
    total = countTokens(junk.join("") + "\n\n\n" + prompt);
  }
  return junk.join("") + "\n\n\n" + prompt;
}

/** The text claude.ai receives as `paste.txt` for `messages`. */
export function claudeConversation(
  messages: readonly Message[],
  flags: RequestFlags,
  padTokens: number,
): string {
  const text = flattenConversation(messages, flags);
  return flags.pad ? padPrompt(text, padTokens) : text;
}
