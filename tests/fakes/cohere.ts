/**
 * A fake of Cohere's v1 API (`POST /v1/chat`, `POST /v1/generate`) that answers like the real
 * one:
 *
 * - `Authorization: Bearer <key>`; none or a wrong one is 401 `{"message":"..."}`.
 * - Streams are newline-delimited JSON with `content-type: application/stream+json`: chat events
 *   `stream-start`, `text-generation`, `tool-calls-chunk`, `tool-calls-generation`, `stream-end`
 *   (with `finish_reason` and the whole `response` including `meta.billed_units`); generate events
 *   `text-generation`, `stream-end`, `stream-error`. Without `stream` one JSON answer.
 * - The body is checked as the API checks it: known fields only, `message` or `tool_results`,
 *   `chat_history` items with an upper-case `role` (USER/CHATBOT/SYSTEM/TOOL) and `message`, tool
 *   names, `parameter_definitions` types, `tool_results` outputs as lists of objects,
 *   `safety_mode` only for models that take it. Errors are `{"message": ...}` with the API's
 *   statuses (400, 401, 404, 429, 498, 500).
 *
 * @module
 */
import { json, type Recorded, serveFake, sleep } from "./serve.ts";

/** What the fake model answers to one request. */
export interface CohereScript {
  text?: string;
  /** Tool calls; `plan` is the text the model writes before them. */
  toolCalls?: { name: string; parameters: Record<string, unknown> }[];
  plan?: string;
  finishReason?: string;
  /** Answer with this status and message instead. */
  error?: { status: number; message: string };
  /** Characters per streamed text piece (default 5). */
  pieceSize?: number;
  delayMs?: number;
  /** Never answer (until the client leaves). */
  hang?: boolean;
}

/** A running fake Cohere API. */
export interface FakeCohere {
  origin: string;
  requests: Recorded[];
  /** Parsed bodies of `/v1/chat` and `/v1/generate` requests. */
  bodies(): Record<string, unknown>[];
  respond: (body: Record<string, unknown>, rec: Recorded) => CohereScript;
  close(): Promise<void>;
}

const MODELS = [
  "command",
  "command-r",
  "command-light",
  "command-light-nightly",
  "command-nightly",
  "command-r-plus",
  "command-r-08-2024",
  "command-r-plus-08-2024",
  "command-r7b-12-2024",
  "command-a-03-2025",
];
const SAFETY_MODELS = /08-2024|r7b|command-a/;

const CHAT_FIELDS = new Set([
  "message",
  "model",
  "stream",
  "preamble",
  "chat_history",
  "conversation_id",
  "prompt_truncation",
  "connectors",
  "search_queries_only",
  "documents",
  "citation_quality",
  "temperature",
  "max_tokens",
  "max_input_tokens",
  "k",
  "p",
  "seed",
  "stop_sequences",
  "frequency_penalty",
  "presence_penalty",
  "raw_prompting",
  "tools",
  "tool_results",
  "force_single_step",
  "response_format",
  "safety_mode",
]);
const GENERATE_FIELDS = new Set([
  "prompt",
  "model",
  "num_generations",
  "stream",
  "max_tokens",
  "truncate",
  "temperature",
  "seed",
  "preset",
  "end_sequences",
  "stop_sequences",
  "k",
  "p",
  "frequency_penalty",
  "presence_penalty",
  "return_likelihoods",
  "raw_prompting",
]);
const PY_TYPE = /^(str|int|float|bool|Dict|List|object|(List|Dict)\[.+\])$/;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

class Invalid extends Error {}

function check(cond: unknown, message: string): void {
  if (!cond) throw new Invalid(`invalid request: ${message}`);
}

function validateChat(b: Record<string, unknown>): void {
  for (const k of Object.keys(b)) {
    check(CHAT_FIELDS.has(k), `unknown field: parameter ${k} is not a valid field`);
  }
  const results = b.tool_results as unknown[] | undefined;
  check(
    (typeof b.message === "string" && b.message.trim() !== "") ||
      (Array.isArray(results) && results.length > 0),
    "message must be at least 1 token long or tool results must be specified.",
  );
  const history = (b.chat_history ?? []) as Record<string, unknown>[];
  check(Array.isArray(history), "chat_history must be a list");
  history.forEach((h, i) => {
    check(typeof h.role === "string", `chat_history[${i}].role is required`);
    check(
      ["USER", "CHATBOT", "SYSTEM", "TOOL"].includes(String(h.role)),
      `chat_history[${i}].role must be one of USER, CHATBOT, SYSTEM, TOOL`,
    );
    if (h.role === "TOOL") checkResults(h.tool_results, `chat_history[${i}].tool_results`);
    else check(typeof h.message === "string", `chat_history[${i}].message is required`);
    for (const tc of (h.tool_calls ?? []) as Record<string, unknown>[]) {
      check(
        typeof tc.name === "string" && typeof tc.parameters === "object",
        `chat_history[${i}].tool_calls must have name and parameters`,
      );
    }
  });
  for (const [i, t] of ((b.tools ?? []) as Record<string, unknown>[]).entries()) {
    check(
      NAME.test(String(t.name)),
      `tools[${i}].name must contain only a-z, A-Z, 0-9, _ and must not begin with a digit`,
    );
    check(typeof t.description === "string", `tools[${i}].description is required`);
    for (
      const [p, d] of Object.entries(
        (t.parameter_definitions ?? {}) as Record<string, Record<string, unknown>>,
      )
    ) {
      check(
        PY_TYPE.test(String(d.type)),
        `tools[${i}].parameter_definitions.${p}.type '${d.type}' is not a valid type`,
      );
      check(
        d.required === undefined || typeof d.required === "boolean",
        `tools[${i}].parameter_definitions.${p}.required must be a boolean`,
      );
    }
  }
  if (results) checkResults(results, "tool_results");
  if (b.p !== undefined) {
    check(typeof b.p === "number" && b.p >= 0.01 && b.p <= 0.99, "p must be between 0.01 and 0.99");
  }
  if (b.k !== undefined) {
    check(
      Number.isInteger(b.k) && Number(b.k) >= 0 && Number(b.k) <= 500,
      "k must be between 0 and 500",
    );
  }
  if (b.safety_mode !== undefined) {
    check(
      ["CONTEXTUAL", "STRICT", "NONE"].includes(String(b.safety_mode)),
      "safety_mode must be one of CONTEXTUAL, STRICT, NONE",
    );
    check(SAFETY_MODELS.test(String(b.model)), `safety_mode is not supported for model ${b.model}`);
  }
}

function checkResults(results: unknown, at: string): void {
  check(Array.isArray(results), `${at} must be a list`);
  for (const [i, r] of (results as Record<string, unknown>[]).entries()) {
    const call = r.call as Record<string, unknown> | undefined;
    check(
      call && typeof call.name === "string" && typeof call.parameters === "object",
      `${at}[${i}].call must have name and parameters`,
    );
    check(
      Array.isArray(r.outputs) &&
        r.outputs.every((o) => o && typeof o === "object" && !Array.isArray(o)),
      `${at}[${i}].outputs must be a list of objects`,
    );
  }
}

function lastText(b: Record<string, unknown>): string {
  return String(b.message ?? b.prompt ?? "");
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
export async function startFakeCohere(options: { keys?: string[] } = {}): Promise<FakeCohere> {
  const keys = options.keys ?? ["co-fake-key-000000000001"];
  let seq = 0;
  const state: { respond: FakeCohere["respond"] } = {
    respond: (b) => ({ text: `Hello! You said: ${lastText(b)}` }),
  };
  const fake = await serveFake(async (req, rec) => {
    const auth = req.headers.get("authorization") ?? "";
    if (!auth) return json({ message: "no api key supplied" }, 401);
    if (!keys.includes(auth.replace(/^Bearer\s+/i, ""))) {
      return json({ message: "invalid api token" }, 401);
    }
    const kind = rec.path === "/v1/chat"
      ? "chat"
      : rec.path === "/v1/generate"
      ? "generate"
      : undefined;
    if (req.method !== "POST" || !kind) return json({ message: "Not Found" }, 404);
    if (
      (req.headers.get("content-type") ?? "").split(";")[0].trim().toLowerCase() !==
        "application/json"
    ) {
      return json({ message: "invalid request: content-type must be application/json" }, 400);
    }
    const b = rec.json as Record<string, unknown> | undefined;
    if (!b || typeof b !== "object") return json({ message: "invalid request: invalid json" }, 400);
    const model = String(b.model ?? "command-r");
    if (!MODELS.includes(model)) {
      return json({
        message:
          `model '${model}' not found, make sure the correct model ID was used and that you have access to the model.`,
      }, 404);
    }
    try {
      if (kind === "chat") validateChat(b);
      else {
        for (const k of Object.keys(b)) {
          check(GENERATE_FIELDS.has(k), `unknown field: parameter ${k} is not a valid field`);
        }
        check(
          typeof b.prompt === "string" && b.prompt.trim() !== "",
          "prompt must be at least 1 token long",
        );
      }
    } catch (err) {
      if (err instanceof Invalid) return json({ message: err.message }, 400);
      throw err;
    }
    const s = state.respond(b, rec);
    if (s.hang) {
      await rec.aborted;
      return new Response(null, { status: 499 });
    }
    if (s.error) return json({ message: s.error.message }, s.error.status);
    const id = `fake-gen-${++seq}`;
    const text = s.text ?? "";
    const calls = s.toolCalls ?? [];
    const finish = s.finishReason ?? "COMPLETE";
    const meta = {
      api_version: { version: "1" },
      billed_units: {
        input_tokens: tokensOf(JSON.stringify(b)),
        output_tokens: tokensOf(text + (s.plan ?? "") + JSON.stringify(calls)),
      },
      tokens: { input_tokens: tokensOf(JSON.stringify(b)) + 60, output_tokens: tokensOf(text) + 2 },
    };
    const size = s.pieceSize ?? 5;
    const lines: unknown[] = [];
    let whole: unknown;
    if (kind === "generate") {
      for (const p of pieces(text, size)) {
        lines.push({ text: p, is_finished: false, event_type: "text-generation" });
      }
      if (finish === "ERROR") {
        lines.push({
          is_finished: true,
          event_type: "stream-error",
          finish_reason: "ERROR",
          err: "internal generation error",
        });
      } else {
        const response = {
          id,
          prompt: b.prompt,
          generations: [{ id: `${id}-0`, index: 0, text, finish_reason: finish }],
          meta,
        };
        lines.push({
          is_finished: true,
          event_type: "stream-end",
          finish_reason: finish,
          response,
        });
        whole = response;
      }
    } else {
      const response: Record<string, unknown> = {
        response_id: `resp-${seq}`,
        text: calls.length ? (s.plan ?? "") : text,
        generation_id: id,
        chat_history: [...((b.chat_history ?? []) as unknown[]), {
          role: "USER",
          message: b.message,
        }, { role: "CHATBOT", message: text }],
        finish_reason: finish,
        meta,
      };
      if (calls.length) response.tool_calls = calls;
      lines.push({ is_finished: false, event_type: "stream-start", generation_id: id });
      if (calls.length) {
        for (const p of pieces(s.plan ?? "", size)) {
          lines.push({
            is_finished: false,
            event_type: "tool-calls-chunk",
            tool_call_delta: { text: p },
          });
        }
        calls.forEach((c, index) => {
          lines.push({
            is_finished: false,
            event_type: "tool-calls-chunk",
            tool_call_delta: { index, name: c.name },
          });
          for (const p of pieces(JSON.stringify(c.parameters), 7)) {
            lines.push({
              is_finished: false,
              event_type: "tool-calls-chunk",
              tool_call_delta: { index, parameters: p },
            });
          }
        });
        lines.push({
          is_finished: false,
          event_type: "tool-calls-generation",
          text: s.plan ?? "",
          tool_calls: calls,
        });
      } else {
        for (const p of pieces(text, size)) {
          lines.push({ is_finished: false, event_type: "text-generation", text: p });
        }
      }
      lines.push({ is_finished: true, event_type: "stream-end", finish_reason: finish, response });
      whole = response;
    }
    if (!b.stream) {
      if (finish === "ERROR") {
        return json(
          { message: "internal server error, this has been reported to our developers" },
          500,
        );
      }
      return json(whole);
    }
    const encoder = new TextEncoder();
    const body = new ReadableStream<Uint8Array>({
      async start(controller) {
        try {
          for (const l of lines) {
            if (s.delayMs) await sleep(s.delayMs);
            controller.enqueue(encoder.encode(JSON.stringify(l) + "\n"));
          }
          controller.close();
        } catch {
          // The client went away.
        }
      },
    });
    return new Response(body, { headers: { "content-type": "application/stream+json" } });
  });
  return {
    origin: fake.origin,
    requests: fake.requests,
    bodies: () =>
      fake.requests.filter((r) => r.method === "POST").map((r) =>
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
