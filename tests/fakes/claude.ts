/**
 * A fake of claude.ai's web API as the reference describes it: `GET /api/organizations` (JSON
 * array), `GET /api/bootstrap/:org/statsig` (JSON with the default model and the Pro flag),
 * `POST /api/organizations/:org/chat_conversations` (201 with the new `uuid`),
 * `POST .../:conv/completion` (`text/event-stream`, either the original `event: completion`
 * format or the newer message-style events) and `DELETE .../:conv` (200 JSON; the old spelling
 * without the slash after `organizations` too).
 *
 * It checks what claude.ai checks: the `sessionKey` cookie (403 `permission_error` otherwise), that
 * the organization belongs to the account, that the conversation exists and is not deleted (404),
 * the body fields (400), the model (`Invalid model`). Errors use claude.ai's body shape
 * `{"type":"error","error":{"type","message"}}`; a rate limit's message is the JSON claude.ai
 * sends (`{"type":"exceeded_limit","resetsAt":...}`).
 *
 * @module
 */
import { json, type Recorded, serveFake, sleep } from "./serve.ts";

/** One account of the fake. */
export interface ClaudeAccount {
  sessionKey: string;
  org: string;
  defaultModel: string;
  pro: boolean;
}

/** What the fake answers to one completion. */
export interface ClaudeScript {
  text?: string;
  /** Thinking text before the answer (message-style format only). */
  thinking?: string;
  /** `completion` (the original) or `messages` (newer). Default `completion`. */
  format?: "completion" | "messages";
  /** Characters per delta (default 3). */
  pieceSize?: number;
  /** Milliseconds between events. */
  delayMs?: number;
  /** Stop reason at the end (default `stop_sequence` / `end_turn`). */
  stopReason?: string;
  /** Answer with this status and claude.ai error body instead of a stream. */
  error?: { status: number; type: string; message: string; headers?: Record<string, string> };
  /** Answer with a raw body (a Cloudflare page, garbage). */
  raw?: { status: number; body: string; contentType: string; headers?: Record<string, string> };
  /** After the text, keep the stream open (until the client goes away). */
  hang?: boolean;
  /** After the text, send an `error` event with this error object. */
  streamError?: { type: string; message: string };
}

/** A completion as the fake received it. */
export interface CompletionCall {
  sessionKey: string;
  org: string;
  conv: string;
  body: {
    prompt: string;
    model: string;
    timezone: string;
    rendering_mode: string;
    attachments: {
      extracted_content: string;
      file_name: string;
      file_size: number;
      file_type: string;
    }[];
    files: unknown[];
  };
  rec: Recorded;
}

/** A running fake. */
export interface FakeClaude {
  origin: string;
  requests: Recorded[];
  accounts: ClaudeAccount[];
  /** Conversations by id. */
  conversations: Map<string, { org: string; sessionKey: string; model?: string; deleted: boolean }>;
  completions: CompletionCall[];
  /** Ids of deleted conversations, in order. */
  deleted: string[];
  /** Completions running right now, and the most at once. */
  active: number;
  maxActive: number;
  /** Decides each completion's answer (default: a short greeting). */
  respond: (call: CompletionCall) => ClaudeScript;
  close(): Promise<void>;
}

/** Models the fake knows. */
export const CLAUDE_FAKE_MODELS = [
  "claude-3-haiku-20240307",
  "claude-3-sonnet-20240229",
  "claude-3-5-sonnet-20240620",
  "claude-3-opus-20240229",
];

function claudeErrorBody(type: string, message: string) {
  return { type: "error", error: { type, message } };
}

/** The body claude.ai sends with a 429: the message is JSON naming when the limit resets. */
export function rateLimitMessage(resetsAt: number | null): string {
  return JSON.stringify({
    type: "exceeded_limit",
    resetsAt,
    remaining: null,
    perModelLimit: false,
  });
}

function cookieValue(header: string | null, name: string): string | undefined {
  for (const part of (header ?? "").split(";")) {
    const i = part.indexOf("=");
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}

function pieces(text: string, size: number): string[] {
  const out: string[] = [];
  const chars = [...text];
  for (let i = 0; i < chars.length; i += size) out.push(chars.slice(i, i + size).join(""));
  return out;
}

function sse(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** The events of an answer in the original format. */
function completionEvents(s: ClaudeScript, model: string): string[] {
  const id = `chatcompl_${crypto.randomUUID().replaceAll("-", "").slice(0, 24)}`;
  const base = {
    type: "completion",
    id,
    model,
    stop: null,
    log_id: id,
    messageLimit: { type: "within_limit" },
  };
  const out = [sse("ping", { type: "ping" })];
  for (const p of pieces(s.text ?? "", s.pieceSize ?? 3)) {
    out.push(sse("completion", { ...base, completion: p, stop_reason: null }));
  }
  if (s.streamError) out.push(sse("error", { type: "error", error: s.streamError }));
  else if (!s.hang) {
    out.push(
      sse("completion", { ...base, completion: "", stop_reason: s.stopReason ?? "stop_sequence" }),
    );
  }
  return out;
}

/** The events of an answer in the message-style format. */
function messageEvents(s: ClaudeScript): string[] {
  const out = [sse("message_start", {
    type: "message_start",
    message: {
      id: `chatcompl_${crypto.randomUUID().slice(0, 8)}`,
      type: "message",
      role: "assistant",
      model: "",
      content: [],
      stop_reason: null,
      stop_sequence: null,
    },
  })];
  let index = 0;
  if (s.thinking) {
    out.push(sse("content_block_start", {
      type: "content_block_start",
      index,
      content_block: { type: "thinking", thinking: "", summaries: [] },
    }));
    for (const p of pieces(s.thinking, s.pieceSize ?? 3)) {
      out.push(sse("content_block_delta", {
        type: "content_block_delta",
        index,
        delta: { type: "thinking_delta", thinking: p },
      }));
    }
    out.push(sse("content_block_stop", { type: "content_block_stop", index }));
    index++;
  }
  out.push(sse("content_block_start", {
    type: "content_block_start",
    index,
    content_block: { type: "text", text: "", citations: [] },
  }));
  for (const p of pieces(s.text ?? "", s.pieceSize ?? 3)) {
    out.push(sse("content_block_delta", {
      type: "content_block_delta",
      index,
      delta: { type: "text_delta", text: p },
    }));
  }
  if (s.streamError) {
    out.push(sse("error", { type: "error", error: s.streamError }));
    return out;
  }
  if (s.hang) return out;
  out.push(sse("content_block_stop", { type: "content_block_stop", index }));
  out.push(sse("message_delta", {
    type: "message_delta",
    delta: { stop_reason: s.stopReason ?? "end_turn", stop_sequence: null },
  }));
  out.push(sse("message_limit", {
    type: "message_limit",
    message_limit: { type: "within_limit", resetsAt: null, remaining: null, perModelLimit: null },
  }));
  out.push(sse("message_stop", { type: "message_stop" }));
  return out;
}

/**
 * claude.ai reads its JSON endpoints' bodies only when they are sent as `application/json`; any
 * other body does not validate as the object it expects (a 400 in its usual error shape).
 */
function notJson(req: Request): Response | undefined {
  const type = (req.headers.get("content-type") ?? "").split(";")[0].trim().toLowerCase();
  if (type === "application/json") return undefined;
  return json(
    claudeErrorBody(
      "invalid_request_error",
      "Input should be a valid dictionary or object to extract fields from",
    ),
    400,
  );
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** Starts the fake with `accounts`. */
export async function startFakeClaude(
  accounts: Partial<ClaudeAccount>[] = [{}],
): Promise<FakeClaude> {
  const full: ClaudeAccount[] = accounts.map((a, i) => ({
    sessionKey: a.sessionKey ?? `sk-ant-sid01-fake-session-key-${i}-${"x".repeat(20)}`,
    org: a.org ?? crypto.randomUUID(),
    defaultModel: a.defaultModel ?? "claude-3-5-sonnet-20240620",
    pro: a.pro ?? false,
  }));
  const state = {
    conversations: new Map<
      string,
      { org: string; sessionKey: string; model?: string; deleted: boolean }
    >(),
    completions: [] as CompletionCall[],
    deleted: [] as string[],
    active: 0,
    maxActive: 0,
  };
  const fake = {
    respond: (_call: CompletionCall): ClaudeScript => ({ text: "Hello from claude.ai!" }),
  };

  const server = await serveFake((req, rec) => {
    const account = full.find((a) =>
      a.sessionKey === cookieValue(req.headers.get("cookie"), "sessionKey")
    );
    if (!account) {
      return json(claudeErrorBody("permission_error", "Invalid authorization"), 403);
    }
    const p = rec.path;
    let m: RegExpExecArray | null;
    if (req.method === "GET" && p === "/api/organizations") {
      return json([{
        uuid: account.org,
        name: "fake@example.com's Organization",
        settings: {},
        capabilities: account.pro ? ["chat", "claude_pro"] : ["chat"],
        active_flags: [],
      }]);
    }
    if (req.method === "GET" && (m = /^\/api\/bootstrap\/([^/]+)\/statsig$/.exec(p))) {
      if (m[1] !== account.org) return json(claudeErrorBody("permission_error", "Forbidden"), 403);
      return json({
        user: { userID: "user-1", custom: { orgType: "claude_free" } },
        custom: { isPro: account.pro, orgType: account.pro ? "claude_pro" : "claude_free" },
        values: {
          dynamic_configs: {
            "1234567": { name: "claude_default_model", value: { model: account.defaultModel } },
          },
        },
      });
    }
    if (
      req.method === "POST" &&
      (m = /^\/api\/organizations\/([^/]+)\/chat_conversations$/.exec(p))
    ) {
      if (m[1] !== account.org) return json(claudeErrorBody("permission_error", "Forbidden"), 403);
      const refused = notJson(req);
      if (refused) return refused;
      const body = rec.json as { uuid?: unknown; name?: unknown; model?: unknown } | undefined;
      if (
        !body || typeof body.uuid !== "string" || !UUID.test(body.uuid) ||
        typeof body.name !== "string"
      ) {
        return json(claudeErrorBody("invalid_request_error", "uuid: Invalid UUID"), 400);
      }
      state.conversations.set(body.uuid, {
        org: m[1],
        sessionKey: account.sessionKey,
        model: typeof body.model === "string" ? body.model : undefined,
        deleted: false,
      });
      return json({
        uuid: body.uuid,
        name: body.name,
        summary: "",
        model: body.model ?? null,
        created_at: new Date().toISOString(),
        updated_at: new Date().toISOString(),
      }, 201);
    }
    if (
      req.method === "POST" &&
      (m = /^\/api\/organizations\/([^/]+)\/chat_conversations\/([^/]+)\/completion$/.exec(p))
    ) {
      const conv = state.conversations.get(m[2]);
      if (m[1] !== account.org) return json(claudeErrorBody("permission_error", "Forbidden"), 403);
      if (!conv || conv.deleted || conv.org !== m[1]) {
        return json(claudeErrorBody("not_found_error", "Not found"), 404);
      }
      const refusedBody = notJson(req);
      if (refusedBody) return refusedBody;
      const body = rec.json as CompletionCall["body"] | undefined;
      if (!body || typeof body.prompt !== "string" || body.prompt === "") {
        return json(
          claudeErrorBody(
            "invalid_request_error",
            "prompt: String should have at least 1 character",
          ),
          400,
        );
      }
      if (
        !Array.isArray(body.attachments) ||
        body.attachments.some((a) =>
          typeof a.extracted_content !== "string" || typeof a.file_name !== "string" ||
          typeof a.file_size !== "number" || typeof a.file_type !== "string"
        )
      ) {
        return json(claudeErrorBody("invalid_request_error", "attachments: invalid"), 400);
      }
      if (!CLAUDE_FAKE_MODELS.includes(body.model)) {
        return json(claudeErrorBody("invalid_request_error", "Invalid model"), 400);
      }
      const call: CompletionCall = {
        sessionKey: account.sessionKey,
        org: m[1],
        conv: m[2],
        body,
        rec,
      };
      state.completions.push(call);
      const script = fake.respond(call);
      if (script.error) {
        return json(
          claudeErrorBody(script.error.type, script.error.message),
          script.error.status,
          script.error.headers,
        );
      }
      if (script.raw) {
        return new Response(script.raw.body, {
          status: script.raw.status,
          headers: { "content-type": script.raw.contentType, ...script.raw.headers },
        });
      }
      const events = script.format === "messages"
        ? messageEvents(script)
        : completionEvents(script, body.model);
      const encoder = new TextEncoder();
      state.active++;
      state.maxActive = Math.max(state.maxActive, state.active);
      let finished = false;
      const finish = () => {
        if (!finished) state.active--;
        finished = true;
      };
      rec.aborted.then(finish);
      const stream = new ReadableStream<Uint8Array>({
        async start(controller) {
          try {
            for (const e of events) {
              if (script.delayMs) await sleep(script.delayMs);
              if (rec.wasAborted) return;
              controller.enqueue(encoder.encode(e));
            }
            if (script.hang) {
              await rec.aborted;
              return;
            }
            controller.close();
          } catch {
            // The client went away.
          } finally {
            finish();
          }
        },
      });
      return new Response(stream, {
        headers: {
          "content-type": "text/event-stream; charset=utf-8",
          "cache-control": "no-cache",
        },
      });
    }
    if (
      req.method === "DELETE" &&
      (m = /^\/api\/organizations\/?([^/]+)\/chat_conversations\/([^/]+)$/.exec(p))
    ) {
      const conv = state.conversations.get(m[2]);
      if (!conv || conv.deleted || conv.org !== m[1] || conv.sessionKey !== account.sessionKey) {
        return json(claudeErrorBody("not_found_error", "Not found"), 404);
      }
      conv.deleted = true;
      state.deleted.push(m[2]);
      return json({});
    }
    return json(claudeErrorBody("not_found_error", "Not found"), 404);
  });

  return {
    origin: server.origin,
    requests: server.requests,
    accounts: full,
    get conversations() {
      return state.conversations;
    },
    get completions() {
      return state.completions;
    },
    get deleted() {
      return state.deleted;
    },
    get active() {
      return state.active;
    },
    get maxActive() {
      return state.maxActive;
    },
    get respond() {
      return fake.respond;
    },
    set respond(fn) {
      fake.respond = fn;
    },
    close: () => server.close(),
  };
}
