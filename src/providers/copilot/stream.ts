/**
 * Copilot's socket events as the gateway's events (reference section 1, "Stream format"):
 *
 * | event                        | becomes                                                   |
 * | ---------------------------- | --------------------------------------------------------- |
 * | `appendText`, `replaceText`  | text (a replacement cannot undo what was streamed: it is  |
 * |                              | passed on as text, as gpt4free and the original do)       |
 * | `chainOfThought`             | reasoning (`reasoning_content`)                           |
 * | `citation`                   | a `[N]` marker in the text where it arrives and, the      |
 * |                              | first time its URL is cited, a citation numbered N (the   |
 * |                              | writers render the footnotes)                             |
 * | `generatingImage`            | the alt text of the image that follows                    |
 * | `imageGenerated`             | the image, stored and linked as Markdown                  |
 * | `done`                       | the finish (the turn has already checked it came)         |
 *
 * Acknowledgements, titles, follow-ups, previews and unknown events are skipped.
 *
 * @module
 */
import type { ChatEvent } from "../../core/events.ts";
import { upstreamFailed } from "../../openai/errors.ts";
import type { CopilotEvent } from "./socket.ts";

/** Options of `fromCopilotStream`. */
export interface StreamOptions {
  /** Keeps a generated image and returns the URL to link (see `images.ts`). */
  keepImage(url: string): Promise<string>;
  /** Hears of events the gateway does not know. */
  unknown?(event: string): void;
}

/** Markdown alt text: one line, no brackets. */
function altText(prompt: string): string {
  const t = prompt.replace(/\s+/g, " ").replace(/[[\]]/g, "").trim();
  return (t.length > 120 ? `${t.slice(0, 119)}…` : t) || "image";
}

const IGNORED: ReadonlySet<string> = new Set([
  "connected",
  "received",
  "startMessage",
  "titleUpdate",
  "suggestedFollowups",
  "partCompleted",
  "partialImageGenerated",
]);

/** Turns the events of one turn into chat events; a stream without `done` is a 502. */
export async function* fromCopilotStream(
  events: AsyncIterable<CopilotEvent>,
  o: StreamOptions,
): AsyncGenerator<ChatEvent> {
  const cited = new Map<string, number>();
  let imagePrompt = "";
  let done = false;
  for await (const ev of events) {
    const text = typeof ev.text === "string" ? ev.text : "";
    switch (ev.event) {
      case "appendText":
      case "replaceText":
        if (text) yield { type: "text", text };
        break;
      case "chainOfThought":
        if (text) yield { type: "reasoning", text };
        break;
      case "citation": {
        if (typeof ev.url !== "string" || ev.url === "") break;
        let n = cited.get(ev.url);
        const first = n === undefined;
        if (n === undefined) cited.set(ev.url, n = cited.size + 1);
        yield { type: "text", text: `[${n}]` };
        if (first) {
          const title = typeof ev.title === "string" && ev.title ? ev.title : undefined;
          yield { type: "citation", index: n, url: ev.url, ...(title ? { title } : {}) };
        }
        break;
      }
      case "generatingImage":
        imagePrompt = typeof ev.prompt === "string" ? ev.prompt : "";
        break;
      case "imageGenerated": {
        if (typeof ev.url !== "string" || ev.url === "") break;
        const url = await o.keepImage(ev.url);
        yield { type: "text", text: `\n\n![${altText(imagePrompt)}](${url})\n\n` };
        imagePrompt = "";
        break;
      }
      case "done":
        done = true;
        break;
      default:
        if (typeof ev.event === "string" && !IGNORED.has(ev.event)) o.unknown?.(ev.event);
    }
  }
  if (!done) throw upstreamFailed("copilot", "the answer ended without its 'done' event");
  yield { type: "finish", reason: "stop" };
}
