/**
 * Reading what a client of each API got: the answer's text and whether it ended cleanly, or the
 * error it carried and whether that error has the API's shape. Shared by the upstream fuzz test
 * and `deno task soak`.
 *
 * @module
 */

/** The APIs a client may speak. */
export type Api = "chat" | "messages" | "responses";

/** The path of each API. */
export const API_PATHS: Record<Api, string> = {
  chat: "/v1/chat/completions",
  messages: "/v1/messages",
  responses: "/v1/responses",
};

/** What a client read. */
export type Read =
  | { kind: "answer"; text: string; finished: boolean }
  | {
    kind: "error";
    /** The error's type or code as the API names it. */
    type: string;
    /** Whether the error has the API's documented shape. */
    shaped: boolean;
    /** The error's message. */
    message: string;
  };

/** True when `body` is an error in `api`'s shape (OpenAI's for chat and responses). */
export function isErrorShape(api: "anthropic" | "openai", body: unknown): boolean {
  const b = body as Record<string, unknown> | null;
  const e = b?.error as Record<string, unknown> | undefined;
  if (api === "anthropic") {
    return b?.type === "error" && typeof e?.type === "string" && typeof e?.message === "string";
  }
  return typeof e?.message === "string" && typeof e?.type === "string" &&
    (e.param === null || typeof e.param === "string" || e.param === undefined) &&
    (e.code === null || typeof e.code === "string" || e.code === undefined);
}

/** One SSE event of a response body. */
export interface WireEvent {
  event?: string;
  data: string;
}

/** The events of an SSE body (comments skipped). */
export function sseEvents(text: string): WireEvent[] {
  const out: WireEvent[] = [];
  for (const block of text.split(/\r?\n\r?\n/)) {
    let event: string | undefined;
    const data: string[] = [];
    for (const line of block.split(/\r?\n/)) {
      if (line.startsWith(":") || line === "") continue;
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (field === "event") event = value;
      else if (field === "data") data.push(value);
    }
    if (data.length > 0 || event !== undefined) out.push({ event, data: data.join("\n") });
  }
  return out;
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The error read from an error response body of `api` (any status but 200). */
export function errorOf(api: Api, body: string): Read {
  const data = parse(body) as { error?: { type?: string; message?: string } } | undefined;
  const shape = api === "messages" ? "anthropic" : "openai";
  return {
    kind: "error",
    type: String(data?.error?.type ?? "none"),
    shaped: isErrorShape(shape, data),
    message: String(data?.error?.message ?? body.slice(0, 200)),
  };
}

/** A body that is not what the API sends at all (not JSON, an event that is not JSON). */
function garbled(what: string, text: string): Read {
  return {
    kind: "error",
    type: "garbled",
    shaped: false,
    message: `${what}: ${text.slice(0, 200)}`,
  };
}

function readChat(stream: boolean, body: string): Read {
  if (!stream) {
    const b = parse(body) as {
      choices?: { message?: { content?: string | null }; finish_reason?: unknown }[];
    };
    const c = b?.choices?.[0];
    if (!c) return garbled("a completion without choices", body);
    return {
      kind: "answer",
      text: c.message?.content ?? "",
      finished: typeof c.finish_reason === "string",
    };
  }
  let text = "";
  let finished = false;
  const events = sseEvents(body);
  for (const [i, ev] of events.entries()) {
    if (ev.data === "[DONE]") {
      // [DONE] ends the stream; anything after it, or a stream without it, was cut.
      return { kind: "answer", text, finished: finished && i === events.length - 1 };
    }
    const data = parse(ev.data) as {
      error?: { type?: string; message?: string };
      choices?: { delta?: { content?: string }; finish_reason?: string | null }[];
    };
    if (data === undefined) return garbled("a chat event that is not JSON", ev.data);
    if (data.error) {
      return {
        kind: "error",
        type: String(data.error.type),
        shaped: isErrorShape("openai", data),
        message: String(data.error.message),
      };
    }
    const c = data.choices?.[0];
    text += c?.delta?.content ?? "";
    if (c?.finish_reason) finished = true;
  }
  return { kind: "answer", text, finished: false };
}

function readMessages(stream: boolean, body: string): Read {
  if (!stream) {
    const b = parse(body) as { content?: { type: string; text?: string }[]; stop_reason?: unknown };
    if (!Array.isArray(b?.content)) return garbled("a message without content", body);
    const text = b.content.filter((c) => c.type === "text").map((c) => c.text ?? "").join("");
    return { kind: "answer", text, finished: typeof b.stop_reason === "string" };
  }
  let text = "";
  let stopped = false;
  let reason = false;
  for (const ev of sseEvents(body)) {
    const data = parse(ev.data) as {
      error?: { type?: string; message?: string };
      delta?: { type?: string; text?: string; stop_reason?: unknown };
    };
    if (data === undefined) return garbled("a messages event that is not JSON", ev.data);
    if (ev.event === "error") {
      return {
        kind: "error",
        type: String(data.error?.type),
        shaped: isErrorShape("anthropic", data),
        message: String(data.error?.message),
      };
    }
    if (ev.event === "content_block_delta" && data.delta?.type === "text_delta") {
      text += data.delta.text ?? "";
    }
    if (ev.event === "message_delta" && typeof data.delta?.stop_reason === "string") reason = true;
    if (ev.event === "message_stop") stopped = true;
  }
  return { kind: "answer", text, finished: stopped && reason };
}

interface ResponseObject {
  status?: string;
  error?: { code?: string; message?: string } | null;
  output?: { type: string; content?: { type: string; text: string }[] }[];
}

/** The text of a response object's message items. */
export function outputText(response: ResponseObject): string {
  return (response.output ?? []).filter((o) => o.type === "message")
    .flatMap((o) => o.content ?? []).filter((c) => c.type === "output_text")
    .map((c) => c.text).join("");
}

function readResponses(stream: boolean, body: string): Read {
  if (!stream) {
    const b = parse(body) as ResponseObject | undefined;
    if (!b || typeof b.status !== "string") return garbled("not a response object", body);
    if (b.status === "failed") {
      return {
        kind: "error",
        type: String(b.error?.code),
        shaped: typeof b.error?.message === "string",
        message: String(b.error?.message),
      };
    }
    return { kind: "answer", text: outputText(b), finished: b.status === "completed" };
  }
  let text = "";
  let completed: ResponseObject | undefined;
  for (const ev of sseEvents(body)) {
    const data = parse(ev.data) as {
      delta?: string;
      code?: string;
      message?: string;
      response?: ResponseObject;
    };
    if (data === undefined) return garbled("a responses event that is not JSON", ev.data);
    if (ev.event === "error") {
      return {
        kind: "error",
        type: String(data.code),
        shaped: typeof data.message === "string",
        message: String(data.message),
      };
    }
    if (ev.event === "response.failed") {
      return {
        kind: "error",
        type: String(data.response?.error?.code),
        shaped: typeof data.response?.error?.message === "string",
        message: String(data.response?.error?.message),
      };
    }
    if (ev.event === "response.output_text.delta") text += data.delta ?? "";
    if (ev.event === "response.completed") completed = data.response;
  }
  if (completed && outputText(completed) !== text) {
    return garbled("a completed response whose output differs from its deltas", text);
  }
  return { kind: "answer", text, finished: completed !== undefined };
}

/** What a 200 response of `api` said. */
export function readAnswer(api: Api, stream: boolean, body: string): Read {
  return api === "chat"
    ? readChat(stream, body)
    : api === "messages"
    ? readMessages(stream, body)
    : readResponses(stream, body);
}
