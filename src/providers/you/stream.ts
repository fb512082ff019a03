/**
 * Reads the event stream of you.com's `POST /v1/agents/runs` (`id:`, `event:` and `data:` lines;
 * `data` is `{seq_id, type, response}` with `type` the event's name; you-ts/you-py models):
 *
 * - `response.output_text.delta` (`response.type: message.answer`, `response.delta`): text;
 * - `response.output_content.full` (`response.type: web_search.results`, `response.full[]` with
 *   `url`, `title`, `snippet`, `citation_uri`): the sources, numbered 1, 2, ... in the order they
 *   come (the answer's inline `[[n]](url)` links follow that order), as citation events;
 * - `response.done` (`response.finished`, `run_time_ms`): the end. A stream without it is an
 *   error, never a finished answer;
 * - `response.created`, `response.starting`, `response.output_item.added` / `.done`: progress;
 * - `error` (or a `response.failed`): the run failed.
 *
 * @module
 */
import type { SseEvent } from "../../net/sse.ts";
import { upstreamFailed } from "../../openai/errors.ts";
import type { ChatEvent } from "../types.ts";
import { youErrorMessage } from "./errors.ts";

interface RunEventData {
  type?: string;
  response?: {
    type?: string;
    delta?: unknown;
    full?: { url?: unknown; citation_uri?: unknown; title?: unknown }[];
    finished?: unknown;
  };
}

/** Turns an agent run's events into `ChatEvent`s, ending with `finish` at `response.done`. */
export async function* fromYouStream(events: AsyncIterable<SseEvent>): AsyncGenerator<ChatEvent> {
  const cited = new Map<string, number>();
  for await (const ev of events) {
    const name = ev.event ?? "message";
    if (name === "error" || name === "response.failed" || name === "response.error") {
      let said: string | undefined;
      try {
        said = youErrorMessage(JSON.parse(ev.data)) ??
          youErrorMessage(JSON.parse(ev.data).response);
      } catch {
        said = undefined;
      }
      throw upstreamFailed("you", `the run failed: ${said ?? ev.data.slice(0, 300)}`);
    }
    if (!name.startsWith("response.")) continue;
    let data: RunEventData;
    try {
      data = JSON.parse(ev.data);
    } catch {
      throw upstreamFailed("you", `unreadable ${name} event: ${ev.data.slice(0, 200)}`);
    }
    const r = data?.response;
    switch (name) {
      case "response.output_text.delta":
        if (typeof r?.delta === "string" && r.delta !== "" && r.type !== "web_search.results") {
          yield { type: "text", text: r.delta };
        }
        break;
      case "response.output_content.full": {
        // Sources are extras: a `full` that is not a list gives none, the answer goes on.
        const full = r?.type === "web_search.results" && Array.isArray(r.full) ? r.full : [];
        for (const item of full) {
          const url = typeof item?.url === "string" ? item.url : item?.citation_uri;
          if (typeof url !== "string" || url === "" || cited.has(url)) continue;
          const index = cited.size + 1;
          cited.set(url, index);
          const title = typeof item.title === "string" && item.title !== ""
            ? item.title
            : undefined;
          yield { type: "citation", index, url, ...(title ? { title } : {}) };
        }
        break;
      }
      case "response.done":
        yield { type: "finish", reason: "stop" };
        return;
    }
  }
  throw upstreamFailed("you", "the run's stream ended without its response.done event");
}
