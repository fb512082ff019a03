/**
 * A fake of Cohere's v2 API, written from the reference (upstreams-2026.md section 6) and
 * Cohere's OpenAPI file and streaming examples:
 *
 * - `Authorization: Bearer <key>`; none or a wrong one is 401 `{"message", "id"}`.
 * - `POST /v2/chat`: the body checked as the API checks it (`cohere_rules.ts`); with `stream`
 *   an SSE stream of typed events (`event: <type>` and `data: {"type": ...}`: `message-start`,
 *   `content-start/delta/end` for thinking and text, `citation-start/end`, `tool-plan-delta`,
 *   `tool-call-start/delta/end`, `message-end` with finish reason and usage), then
 *   `data: [DONE]`; without, one `ChatResponseV2`.
 * - `POST /v2/embed` (`texts`, `input_type`, `embedding_types` float/base64, `output_dimension`),
 *   `GET /v1/models?endpoint=chat`.
 * - `/v1/generate` and every other path: 404. Errors are `{"message", "id"}`.
 *
 * @module
 */
import { CHAT_MODELS, EMBED_MODELS, Refused, validateChat, validateEmbed } from "./cohere_rules.ts";
import { json, type Recorded, serveFake, sleep } from "./serve.ts";

/** What the fake model answers to one request. */
export interface CohereScript {
  text?: string;
  /** Thinking text (a `thinking` content block before the text). */
  thinking?: string;
  /** The tool plan, then the calls. */
  plan?: string;
  toolCalls?: { name: string; arguments: Record<string, unknown>; id?: string }[];
  /** Sources cited for the whole text. */
  citations?: { url?: string; title?: string }[];
  finishReason?: string;
  /** `delta.error` of `message-end`. */
  endError?: string;
  /** Answer with this status and message instead. */
  error?: { status: number; message: string };
  /** End the stream without `message-end` (and without `[DONE]`). */
  noEnd?: boolean;
  /** Characters per streamed piece (default 5). */
  pieceSize?: number;
  delayMs?: number;
  /** Never answer (until the client leaves). */
  hang?: boolean;
  cachedTokens?: number;
}

/** A running fake Cohere API. */
export interface FakeCohere {
  origin: string;
  requests: Recorded[];
  /** Parsed bodies of `/v2/chat` requests. */
  bodies(): Record<string, unknown>[];
  respond: (body: Record<string, unknown>, rec: Recorded) => CohereScript;
  close(): Promise<void>;
}

function pieces(text: string, size: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

function tokensOf(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

function lastUserText(b: Record<string, unknown>): string {
  const messages = (b.messages ?? []) as { role: string; content?: unknown }[];
  const user = messages.filter((m) => m.role === "user").at(-1);
  if (!user) return "";
  if (typeof user.content === "string") return user.content;
  return (user.content as { type: string; text?: string }[])
    .filter((p) => p.type === "text").map((p) => p.text).join(" ");
}

function error(status: number, message: string): Response {
  return json({ id: crypto.randomUUID(), message }, status);
}

type Ev = Record<string, unknown>;

/** The typed events of an answer. */
function events(b: Record<string, unknown>, s: CohereScript, id: string): Ev[] {
  const size = s.pieceSize ?? 5;
  const out: Ev[] = [{ type: "message-start", id, delta: { message: { role: "assistant" } } }];
  let index = 0;
  const block = (kind: "thinking" | "text", text: string) => {
    out.push({ type: "content-start", index, delta: { message: { content: { type: kind } } } });
    for (const p of pieces(text, size)) {
      out.push({ type: "content-delta", index, delta: { message: { content: { [kind]: p } } } });
    }
    out.push({ type: "content-end", index });
    index++;
  };
  if (s.thinking) block("thinking", s.thinking);
  const calls = s.toolCalls ?? [];
  if (calls.length > 0) {
    for (const p of pieces(s.plan ?? "", size)) {
      out.push({ type: "tool-plan-delta", delta: { message: { tool_plan: p } } });
    }
    calls.forEach((c, i) => {
      const callId = c.id ?? `${c.name}_${crypto.randomUUID().slice(0, 12)}`;
      out.push({
        type: "tool-call-start",
        index: i,
        delta: {
          message: {
            tool_calls: { id: callId, type: "function", function: { name: c.name, arguments: "" } },
          },
        },
      });
      for (const p of pieces(JSON.stringify(c.arguments), 4)) {
        out.push({
          type: "tool-call-delta",
          index: i,
          delta: { message: { tool_calls: { function: { arguments: p } } } },
        });
      }
      out.push({ type: "tool-call-end", index: i });
    });
  } else if (s.text !== undefined) {
    block("text", s.text);
    (s.citations ?? []).forEach((c, i) => {
      const document: Ev = { id: `doc_${i}`, snippet: "..." };
      if (c.url) document.url = c.url;
      if (c.title) document.title = c.title;
      out.push({
        type: "citation-start",
        index: i,
        delta: {
          message: {
            citations: {
              start: 0,
              end: s.text!.length,
              text: s.text,
              sources: [{ type: "document", id: `doc_${i}`, document }],
              type: "TEXT_CONTENT",
            },
          },
        },
      });
      out.push({ type: "citation-end", index: i });
    });
  }
  out.push({ type: "debug", prompt: "(the fake's prompt)" });
  const finish = s.finishReason ?? (calls.length > 0 ? "TOOL_CALL" : "COMPLETE");
  const produced = (s.thinking ?? "") + (s.text ?? "") + (s.plan ?? "") + JSON.stringify(calls);
  const usage: Ev = {
    billed_units: {
      input_tokens: tokensOf(JSON.stringify(b.messages)),
      output_tokens: tokensOf(produced),
    },
    tokens: {
      input_tokens: tokensOf(JSON.stringify(b)) + 60,
      output_tokens: tokensOf(produced) + 2,
    },
  };
  if (s.cachedTokens !== undefined) usage.cached_tokens = s.cachedTokens;
  const delta: Ev = { finish_reason: finish, usage };
  if (s.endError) delta.error = s.endError;
  if (!s.noEnd) out.push({ type: "message-end", id, delta });
  return out;
}

/** One `ChatResponseV2` from the events. */
function whole(evs: Ev[], id: string): Ev {
  const content: Ev[] = [];
  const toolCalls: Ev[] = [];
  let plan = "";
  let end: Ev = {};
  for (const e of evs) {
    const d = e.delta as { message?: Ev } & Ev | undefined;
    const m = d?.message as Record<string, Ev> | undefined;
    if (e.type === "content-start") {
      content.push({ type: m!.content.type, [String(m!.content.type)]: "" });
    }
    if (e.type === "content-delta") {
      const last = content.at(-1)!;
      const k = String(last.type);
      last[k] = String(last[k]) + String(m!.content[k]);
    }
    if (e.type === "tool-plan-delta") plan += String((m as unknown as Ev).tool_plan);
    if (e.type === "tool-call-start") toolCalls.push(structuredClone(m!.tool_calls));
    if (e.type === "tool-call-delta") {
      const fn = toolCalls.at(-1)!.function as Ev;
      fn.arguments = String(fn.arguments) + String((m!.tool_calls.function as Ev).arguments);
    }
    if (e.type === "message-end") end = d as Ev;
  }
  const message: Ev = { role: "assistant", content };
  if (toolCalls.length) Object.assign(message, { tool_calls: toolCalls, tool_plan: plan });
  return { id, finish_reason: end.finish_reason, message, usage: end.usage };
}

function embed(b: Record<string, unknown>): Response {
  const texts = b.texts as string[];
  const dims = Number(b.output_dimension ?? (String(b.model).startsWith("embed-v4") ? 1536 : 1024));
  const vectors = texts.map((text) =>
    Array.from({ length: dims }, (_, d) => {
      let h = 2166136261 ^ d;
      for (let j = 0; j < text.length; j++) h = Math.imul(h ^ text.charCodeAt(j), 16777619);
      return ((h >>> 0) % 2000) / 1000 - 1;
    })
  );
  const embeddings: Record<string, unknown> = {};
  for (const t of (b.embedding_types ?? ["float"]) as string[]) {
    if (t === "float") embeddings.float = vectors;
    if (t === "base64") {
      embeddings.base64 = vectors.map((v) => {
        const bytes = new Uint8Array(new Float32Array(v).buffer);
        return btoa(String.fromCharCode(...bytes));
      });
    }
  }
  return json({
    id: crypto.randomUUID(),
    texts,
    embeddings,
    meta: {
      api_version: { version: "2" },
      billed_units: { input_tokens: tokensOf(texts.join(" ")) },
    },
    response_type: "embeddings_by_type",
  });
}

/** Starts the fake on 127.0.0.1 with a random port. */
export async function startFakeCohere(options: { keys?: string[] } = {}): Promise<FakeCohere> {
  const keys = options.keys ?? ["CoFakeKey0000000000000000000000000000001"];
  let seq = 0;
  const state: { respond: FakeCohere["respond"] } = {
    respond: (b) => ({ text: `Hello! You said: ${lastUserText(b)}` }),
  };
  const fake = await serveFake(async (req, rec) => {
    const auth = req.headers.get("authorization") ?? "";
    if (!auth) return error(401, "no api key supplied");
    if (!keys.includes(auth.replace(/^Bearer\s+/i, ""))) return error(401, "invalid api token");
    if (req.method === "GET" && rec.path === "/v1/models") {
      const endpoint = rec.query.get("endpoint");
      const names = endpoint === "embed" ? EMBED_MODELS : Object.keys(CHAT_MODELS);
      return json({
        models: names.map((name) => ({
          name,
          endpoints: [endpoint ?? "chat"],
          is_deprecated: false,
          finetuned: false,
          context_length: 128000,
        })),
      });
    }
    const kind = rec.path === "/v2/chat" ? "chat" : rec.path === "/v2/embed" ? "embed" : undefined;
    if (req.method !== "POST" || !kind) return error(404, `${rec.path} not found`);
    if ((req.headers.get("content-type") ?? "").split(";")[0].trim() !== "application/json") {
      return error(400, "invalid request: content-type must be application/json");
    }
    const b = rec.json as Record<string, unknown> | undefined;
    if (!b || typeof b !== "object" || Array.isArray(b)) {
      return error(400, "invalid request: invalid json");
    }
    try {
      if (kind === "embed") {
        validateEmbed(b);
        return embed(b);
      }
      validateChat(b);
    } catch (err) {
      if (err instanceof Refused) return error(err.status, err.message);
      throw err;
    }
    const s = state.respond(b, rec);
    if (s.hang) {
      await rec.aborted;
      return new Response(null, { status: 499 });
    }
    if (s.error) return error(s.error.status, s.error.message);
    const id = `fake-${++seq}`;
    const evs = events(b, s, id);
    if (!b.stream) return json(whole(evs, id));
    const encoder = new TextEncoder();
    const body = new ReadableStream<Uint8Array>({
      async start(controller) {
        try {
          for (const e of evs) {
            if (s.delayMs) await sleep(s.delayMs);
            controller.enqueue(encoder.encode(`event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`));
          }
          if (!s.noEnd) controller.enqueue(encoder.encode("data: [DONE]\n\n"));
          controller.close();
        } catch {
          // The client went away.
        }
      },
    });
    return new Response(body, {
      headers: { "content-type": "text/event-stream", "cache-control": "no-cache" },
    });
  });
  return {
    origin: fake.origin,
    requests: fake.requests,
    bodies: () =>
      fake.requests.filter((r) => r.path === "/v2/chat").map((r) =>
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
