/**
 * A fake OpenAI-compatible API (`/v1/chat/completions`, `/v1/embeddings`, `/v1/models`) that
 * answers like the real one: it checks the key and the body as OpenAI does, streams
 * `chat.completion.chunk`s (a role chunk, content pieces, tool-call chunks with `index` whose
 * first delta carries id, type and name, a finish chunk, a usage chunk when asked, `[DONE]`) and
 * sends OpenAI's error bodies with their real statuses. What the model "says" is scripted per test.
 *
 * @module
 */
import { json, type Recorded, serveFake, sleep, streamParts } from "./serve.ts";
import { loadTokenizer } from "../../src/util/tokens.ts";

// Counting tokens needs the tokenizer loaded (the server loads it on its first request).
await loadTokenizer();

/** What the fake model answers to one request. */
export interface Script {
  text?: string;
  reasoning?: string;
  toolCalls?: { name: string; arguments: string | Record<string, unknown>; id?: string }[];
  finish?: "stop" | "length" | "tool_calls" | "content_filter";
  /** Answer with this status and OpenAI error body instead. */
  error?: { status: number; message: string; type?: string; code?: string | null };
  /** Answer with this raw body, status and content type (garbage, HTML). */
  raw?: { status: number; body: string; contentType: string };
  /** Milliseconds between streamed chunks. */
  delayMs?: number;
  /** Never send response headers. */
  hang?: boolean;
  /** Stop sending (but keep the connection) after this many stream chunks. */
  stallAfter?: number;
  /** Split text into pieces of this many characters (default 4). */
  pieceSize?: number;
  /** Send an error object inside the stream after the content. */
  streamError?: string;
}

/** Options of the fake. */
export interface FakeOpenAiOptions {
  /** Accepted API keys; empty accepts requests without a key. */
  keys?: string[];
  /** Models that exist. */
  models?: string[];
  /** Refuse `stream_options` with 400, as some compatible servers do. */
  rejectStreamOptions?: boolean;
  /** Keep the requests it received (default true; benchmarks turn it off). */
  record?: boolean;
}

/** A running fake OpenAI API. */
export interface FakeOpenAi {
  /** The API root including `/v1`, as SDKs take it. */
  baseUrl: string;
  origin: string;
  requests: Recorded[];
  /** Chat requests only (parsed bodies). */
  chatBodies(): Record<string, unknown>[];
  /** Decides each answer; the default says `Hello! You said: <last user text>`. */
  respond: (body: ChatBody, rec: Recorded) => Script;
  close(): Promise<void>;
}

/** The parts of a chat body the fake reads. */
export interface ChatBody {
  model: string;
  messages: { role: string; content?: unknown; tool_calls?: unknown[]; tool_call_id?: string }[];
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  tools?: { type: string; function: { name: string } }[];
  n?: number;
  [k: string]: unknown;
}

const DEFAULT_MODELS = ["gpt-4o-mini", "gpt-4.1", "text-embedding-3-small"];

function errorBody(
  message: string,
  type = "invalid_request_error",
  code: string | null = null,
  param: string | null = null,
) {
  return { error: { message, type, param, code } };
}

/** Whether a `content-type` names JSON (`application/json`, any parameters). */
function isJsonContentType(value: string | null): boolean {
  return (value ?? "").split(";")[0].trim().toLowerCase() === "application/json";
}

const ROLES = ["system", "assistant", "user", "function", "tool", "developer"];

/**
 * The checks OpenAI makes on `messages`, with its error bodies: every role is a known one; a
 * `tool` message carries `tool_call_id` and answers a call of the assistant message with
 * `tool_calls` right before it (or before the tool messages that follow that one); an assistant
 * message with `tool_calls` is followed by a tool message for each call id.
 */
function checkMessages(messages: unknown[]): ReturnType<typeof errorBody> | undefined {
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i] as Record<string, unknown> | null;
    if (m === null || typeof m !== "object" || Array.isArray(m)) {
      return errorBody(
        `Invalid type for 'messages[${i}]': expected an object, but got ${
          Array.isArray(m) ? "an array" : m === null ? "null" : `a ${typeof m}`
        } instead.`,
        "invalid_request_error",
        "invalid_type",
        `messages[${i}]`,
      );
    }
    if (m.role === undefined) {
      return errorBody(
        `Missing required parameter: 'messages[${i}].role'.`,
        "invalid_request_error",
        "missing_required_parameter",
        `messages[${i}].role`,
      );
    }
    if (typeof m.role !== "string" || !ROLES.includes(m.role)) {
      return errorBody(
        `Invalid value: '${
          String(m.role)
        }'. Supported values are: 'system', 'assistant', 'user', 'function', 'tool', and 'developer'.`,
        "invalid_request_error",
        "invalid_value",
        `messages[${i}].role`,
      );
    }
    if (m.role === "tool" && m.tool_call_id === undefined) {
      return errorBody(
        `Missing required parameter: 'messages[${i}].tool_call_id'.`,
        "invalid_request_error",
        "missing_required_parameter",
        `messages[${i}].tool_call_id`,
      );
    }
  }
  // The tool calls still waiting for their tool messages, and the assistant message that made them.
  let open: { index: number; ids: string[]; pending: Set<string> } | undefined;
  const unanswered = () =>
    errorBody(
      `An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: ${
        [...open!.pending].join(", ")
      }`,
      "invalid_request_error",
      null,
      `messages.[${open!.index}].role`,
    );
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i] as { role: string; tool_calls?: unknown; tool_call_id?: unknown };
    if (m.role === "tool") {
      if (!open) {
        return errorBody(
          "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.",
          "invalid_request_error",
          null,
          `messages.[${i}].role`,
        );
      }
      const id = String(m.tool_call_id);
      if (!open.ids.includes(id)) {
        return errorBody(
          `Invalid parameter: 'tool_call_id' of '${id}' not found in 'tool_calls' of previous message.`,
          "invalid_request_error",
          null,
          `messages.[${i}].tool_call_id`,
        );
      }
      open.pending.delete(id);
      continue;
    }
    if (open && open.pending.size > 0) return unanswered();
    open = undefined;
    if (m.role === "assistant" && Array.isArray(m.tool_calls) && m.tool_calls.length > 0) {
      const ids = m.tool_calls.map((c) => String((c as { id?: unknown })?.id));
      open = { index: i, ids, pending: new Set(ids) };
    }
  }
  if (open && open.pending.size > 0) return unanswered();
  return undefined;
}

function lastUserText(body: ChatBody): string {
  for (let i = body.messages.length - 1; i >= 0; i--) {
    const m = body.messages[i];
    if (m.role !== "user") continue;
    if (typeof m.content === "string") return m.content;
    if (Array.isArray(m.content)) {
      return m.content.filter((p) => p?.type === "text").map((p) => p.text).join(" ");
    }
  }
  return "";
}

function pieces(text: string, size: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

function tokensOf(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

/** Starts the fake on 127.0.0.1 with a random port. */
export async function startFakeOpenAi(options: FakeOpenAiOptions = {}): Promise<FakeOpenAi> {
  const models = options.models ?? DEFAULT_MODELS;
  let seq = 0;
  const state: { respond: FakeOpenAi["respond"] } = {
    respond: (body) => ({ text: `Hello! You said: ${lastUserText(body)}` }),
  };

  const fake = await serveFake(async (req, rec) => {
    const auth = req.headers.get("authorization") ?? "";
    if (options.keys?.length) {
      const key = auth.replace(/^Bearer\s+/i, "");
      if (!auth) {
        return json(
          errorBody(
            "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
            "invalid_request_error",
            null,
          ),
          401,
        );
      }
      if (!options.keys.includes(key)) {
        return json(
          errorBody(
            `Incorrect API key provided: ${key.slice(0, 3)}****${key.slice(-4)}.`,
            "invalid_request_error",
            "invalid_api_key",
          ),
          401,
        );
      }
    }
    if (req.method === "GET" && rec.path === "/v1/models") {
      return json({
        object: "list",
        data: models.map((id) => ({
          id,
          object: "model",
          created: 1_715_367_049,
          owned_by: "system",
        })),
      });
    }
    if (req.method !== "POST") {
      return json(errorBody(`Invalid URL (${req.method} ${rec.path})`), 404);
    }
    if (
      (rec.path === "/v1/chat/completions" || rec.path === "/v1/embeddings") &&
      !isJsonContentType(req.headers.get("content-type"))
    ) {
      // OpenAI reads a body sent without `content-type: application/json` as form fields, so it
      // finds no `model` in it (what `curl -d` without the header gets back).
      return json(errorBody("you must provide a model parameter"), 400);
    }
    if (rec.json === undefined || typeof rec.json !== "object") {
      return json(errorBody("We could not parse the JSON body of your request."), 400);
    }
    if (rec.path === "/v1/embeddings") {
      return embeddings(rec.json as Record<string, unknown>, models);
    }
    if (rec.path !== "/v1/chat/completions") {
      return json(errorBody(`Invalid URL (POST ${rec.path})`), 404);
    }

    const body = rec.json as ChatBody;
    if (!Array.isArray(body.messages) || body.messages.length === 0) {
      return json(
        errorBody("[] is too short - 'messages'", "invalid_request_error", null, "messages"),
        400,
      );
    }
    const invalid = checkMessages(body.messages);
    if (invalid) return json(invalid, 400);
    if (!models.includes(body.model)) {
      return json(
        errorBody(
          `The model \`${body.model}\` does not exist or you do not have access to it.`,
          "invalid_request_error",
          "model_not_found",
        ),
        404,
      );
    }
    if (body.stream_options && !body.stream) {
      return json(
        errorBody(
          "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
          "invalid_request_error",
          null,
          "stream_options",
        ),
        400,
      );
    }
    if (body.stream_options && options.rejectStreamOptions) {
      return json(errorBody("Unrecognized request argument supplied: stream_options"), 400);
    }

    const script = state.respond(body, rec);
    if (script.hang) {
      await rec.aborted;
      return new Response(null, { status: 499 });
    }
    if (script.error) {
      const e = script.error;
      const headers: HeadersInit = e.status === 429 ? { "retry-after": "7" } : {};
      return json(
        errorBody(e.message, e.type ?? "invalid_request_error", e.code ?? null),
        e.status,
        headers,
      );
    }
    if (script.raw) {
      return new Response(script.raw.body, {
        status: script.raw.status,
        headers: { "content-type": script.raw.contentType },
      });
    }
    const id = `chatcmpl-fake${++seq}`;
    const created = Math.floor(Date.now() / 1000);
    const promptTokens = tokensOf(JSON.stringify(body.messages));
    const completionTokens = tokensOf((script.text ?? "") + JSON.stringify(script.toolCalls ?? []));
    const usage = {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: promptTokens + completionTokens,
    };
    const calls = (script.toolCalls ?? []).map((c, i) => ({
      id: c.id ?? `call_fake${seq}x${i}`,
      type: "function",
      function: {
        name: c.name,
        arguments: typeof c.arguments === "string" ? c.arguments : JSON.stringify(c.arguments),
      },
    }));
    const finish = script.finish ?? (calls.length > 0 ? "tool_calls" : "stop");

    if (!body.stream) {
      return json({
        id,
        object: "chat.completion",
        created,
        model: body.model,
        choices: [{
          index: 0,
          message: {
            role: "assistant",
            content: script.text ?? null,
            refusal: null,
            // As reasoning models behind OpenAI-compatible servers (DeepSeek, vLLM) give it.
            ...(script.reasoning ? { reasoning_content: script.reasoning } : {}),
            ...(calls.length ? { tool_calls: calls } : {}),
          },
          logprobs: null,
          finish_reason: finish,
        }],
        usage,
        system_fingerprint: "fp_fake",
      });
    }

    const includeUsage = body.stream_options?.include_usage === true;
    const chunk = (delta: unknown, finishReason: string | null = null) =>
      `data: ${
        JSON.stringify({
          id,
          object: "chat.completion.chunk",
          created,
          model: body.model,
          system_fingerprint: "fp_fake",
          choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
          ...(includeUsage ? { usage: null } : {}),
        })
      }\n\n`;
    const events: string[] = [chunk({ role: "assistant", content: "", refusal: null })];
    for (const p of pieces(script.reasoning ?? "", 6)) events.push(chunk({ reasoning_content: p }));
    for (const p of pieces(script.text ?? "", script.pieceSize ?? 4)) {
      events.push(chunk({ content: p }));
    }
    calls.forEach((c, index) => {
      events.push(
        chunk({
          tool_calls: [{
            index,
            id: c.id,
            type: "function",
            function: { name: c.function.name, arguments: "" },
          }],
        }),
      );
      for (const p of pieces(c.function.arguments, 5)) {
        events.push(chunk({ tool_calls: [{ index, function: { arguments: p } }] }));
      }
    });
    if (script.streamError) {
      events.push(`data: ${JSON.stringify(errorBody(script.streamError, "server_error"))}\n\n`);
    } else {
      events.push(chunk({}, finish));
      if (includeUsage) {
        events.push(
          `data: ${
            JSON.stringify({
              id,
              object: "chat.completion.chunk",
              created,
              model: body.model,
              system_fingerprint: "fp_fake",
              choices: [],
              usage,
            })
          }\n\n`,
        );
      }
      events.push("data: [DONE]\n\n");
    }
    const stallAfter = script.stallAfter;
    async function* parts() {
      let n = 0;
      for (const e of events) {
        if (stallAfter !== undefined && n++ >= stallAfter) {
          await rec.aborted;
          return;
        }
        yield e;
      }
    }
    return streamParts(parts(), "text/event-stream; charset=utf-8", script.delayMs ?? 0);
  }, { record: options.record });

  return {
    baseUrl: `${fake.origin}/v1`,
    origin: fake.origin,
    requests: fake.requests,
    chatBodies: () =>
      fake.requests.filter((r) => r.path === "/v1/chat/completions").map((r) =>
        r.json as Record<string, unknown>
      ),
    get respond() {
      return state.respond;
    },
    set respond(fn) {
      state.respond = fn;
    },
    close: fake.close,
  };
}

function embeddings(body: Record<string, unknown>, models: string[]): Response {
  if (!models.includes(String(body.model))) {
    return json(
      errorBody(
        `The model \`${body.model}\` does not exist or you do not have access to it.`,
        "invalid_request_error",
        "model_not_found",
      ),
      404,
    );
  }
  const inputs = Array.isArray(body.input) ? body.input : [body.input];
  if (inputs.length === 0 || inputs.some((i) => i === "")) {
    return json(
      errorBody(
        "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.",
        "invalid_request_error",
        null,
      ),
      400,
    );
  }
  const dims = typeof body.dimensions === "number" ? body.dimensions : 8;
  const data = inputs.map((input, index) => {
    const s = typeof input === "string" ? input : JSON.stringify(input);
    const v = Array.from({ length: dims }, (_, d) => {
      let h = 2166136261 ^ d;
      for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
      return ((h >>> 0) % 2000) / 1000 - 1;
    });
    // The SDKs ask for base64 (little-endian float32) by default.
    const embedding = body.encoding_format === "base64"
      ? btoa(String.fromCharCode(...new Uint8Array(new Float32Array(v).buffer)))
      : v;
    return { object: "embedding", index, embedding };
  });
  const tokens = inputs.reduce((n: number, i) => n + tokensOf(String(i)), 0);
  return json({
    object: "list",
    data,
    model: body.model,
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  });
}

export { sleep };
