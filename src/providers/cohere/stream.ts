/**
 * Cohere v1 answers (NDJSON stream events of `/v1/chat` and `/v1/generate`) as `ChatEvent`s.
 *
 * @module
 */
import { upstreamFailed } from "../../openai/errors.ts";
import { toolCallId } from "../../util/id.ts";
import type { ToolNames } from "../gemini/names.ts";
import type { ChatEvent, FinishReason } from "../types.ts";

/** One stream event (chat or generate). */
export interface CohereEvent {
  event_type?: string;
  is_finished?: boolean;
  text?: string;
  tool_calls?: { name: string; parameters?: unknown }[];
  tool_call_delta?: { index?: number; name?: string; parameters?: string; text?: string };
  finish_reason?: string;
  err?: string;
  response?: {
    text?: string;
    meta?: {
      billed_units?: { input_tokens?: number; output_tokens?: number };
      tokens?: { input_tokens?: number; output_tokens?: number };
    };
  };
}

const FINISH: Record<string, FinishReason> = {
  COMPLETE: "stop",
  STOP_SEQUENCE: "stop",
  USER_CANCEL: "stop",
  MAX_TOKENS: "length",
  ERROR_LIMIT: "length",
  ERROR_TOXIC: "content_filter",
};

/** Maps Cohere's finish reason to OpenAI's. */
export function mapFinish(reason: string): FinishReason {
  return FINISH[reason] ?? "stop";
}

/** Turns one answer's events into `ChatEvent`s. */
export class CohereMapper {
  #plan = false;
  #calls = 0;

  constructor(readonly names: ToolNames) {}

  /** The events of one stream event; `stream-error` and an ERROR finish throw. */
  *map(ev: CohereEvent): Generator<ChatEvent> {
    switch (
      ev.event_type ?? (typeof ev.text === "string" && !ev.is_finished ? "text-generation" : "")
    ) {
      case "text-generation":
        if (ev.text) yield { type: "text", text: ev.text };
        break;
      case "tool-calls-chunk":
        // The plan the model writes before its calls; the calls come whole below.
        if (ev.tool_call_delta?.text) {
          this.#plan = true;
          yield { type: "text", text: ev.tool_call_delta.text };
        }
        break;
      case "tool-calls-generation":
        if (!this.#plan && ev.text) yield { type: "text", text: ev.text };
        for (const tc of ev.tool_calls ?? []) {
          yield {
            type: "tool_call",
            index: this.#calls++,
            id: toolCallId(),
            name: this.names.client(tc.name),
            arguments: JSON.stringify(tc.parameters ?? {}),
          };
        }
        break;
      case "stream-error":
        throw upstreamFailed(
          "cohere",
          `the generation failed: ${ev.err ?? ev.finish_reason ?? "unknown error"}`,
        );
      case "stream-end": {
        const reason = ev.finish_reason ?? "COMPLETE";
        if (reason === "ERROR") {
          throw upstreamFailed(
            "cohere",
            `the generation failed (finish_reason ERROR)${
              ev.response?.text ? `: ${ev.response.text}` : ""
            }`,
          );
        }
        const meta = ev.response?.meta;
        const units = meta?.billed_units ?? meta?.tokens;
        if (units && (units.input_tokens !== undefined || units.output_tokens !== undefined)) {
          yield {
            type: "usage",
            prompt_tokens: units.input_tokens ?? 0,
            completion_tokens: units.output_tokens ?? 0,
          };
        }
        yield { type: "finish", reason: mapFinish(reason) };
        break;
      }
    }
  }
}
