/**
 * A fake open-interpreter 0.4 server (`interpreter --server`; upstreams-2026 section 10, oi-main
 * `interpreter/core/async_core.py` and `docs/server/usage.mdx`):
 *
 * - Every HTTP route but `/heartbeat` needs `X-API-KEY: <INTERPRETER_API_KEY>` when a key is set:
 *   403 `{"detail":"Authentication failed"}` otherwise.
 * - `POST /openai/chat/completions` (`{model, messages, max_tokens, temperature, stream}`,
 *   validated as pydantic does: 422): only the last message counts and must be the user's (a
 *   `ValueError`, 500 "Internal Server Error"); image parts must be `data:` URLs (500). The
 *   server keeps the conversation. With `stream`, `data: {chat.completion.chunk}` lines labelled
 *   `application/x-ndjson`: the assistant's message text, code as inline fences (the opening
 *   `` ```<lang>\n `` and closing `` \n```\n `` each a chunk), no console output, no `[DONE]`: the
 *   body just ends. Control strings (`{AUTO_RUN_ON}`, `{STOP}`, ...) answer a JSON `null`.
 * - `GET /heartbeat`: `{"status":"alive"}`, never behind the key.
 * - `GET /settings/<name>`: the setting as FastAPI renders the server's `json.dumps({name: value})`
 *   (a JSON string holding JSON); an unknown one is the tuple `(json.dumps({"error": ...}), 404)`
 *   rendered as a JSON list with status 200, as the 0.4 server does.
 * - The websocket at `/`: until a frame `{"auth": <key>}` authenticates, every frame gets
 *   `{"auth": false}` and is dropped (`requireAuth: false` skips that); then LMC input chunks
 *   (a content chunk before any `start` is an error frame), `end` runs the message's script:
 *   its chunks, then `{"role":"server","type":"status","content":"complete"}` (an error frame
 *   first when the script fails). A `stop` command stops the run (no `complete`).
 *   `requireAck` puts an `id` on each output and re-sends it until `{"ack": id}` arrives.
 *
 * @module
 */
import { json, type Recorded, serveFake, sleep } from "./serve.ts";

/** One LMC chunk the interpreter streams. */
export interface OiChunk {
  role: string;
  type: string;
  format?: string;
  content?: string | null;
  start?: boolean;
  end?: boolean;
}

/** What the interpreter "does" for one user message. */
export interface OiScript {
  chunks: OiChunk[];
  delayMs?: number;
  /** Stop sending after this many chunks (and keep the connection open). */
  stallAfter?: number;
  /** After the chunks, fail with this traceback (websocket: an error frame; HTTP: a cut body). */
  error?: string;
  /** Websocket: close the connection after the chunks, without `complete`. */
  hangUp?: boolean;
}

/** A conversation step as open-interpreter streams it: text, code, its output, text. */
export function defaultScript(message: string): OiScript {
  return {
    chunks: [
      { role: "assistant", type: "message", start: true },
      { role: "assistant", type: "message", content: "Let me " },
      { role: "assistant", type: "message", content: `compute ${message}.` },
      { role: "assistant", type: "message", end: true },
      { role: "assistant", type: "code", format: "python", start: true },
      { role: "assistant", type: "code", format: "python", content: "print(6*7)" },
      { role: "assistant", type: "code", format: "python", end: true },
      { role: "computer", type: "console", start: true },
      { role: "computer", type: "console", format: "active_line", content: "1" },
      { role: "computer", type: "console", format: "output", content: "42\n" },
      { role: "computer", type: "console", format: "active_line", content: null },
      { role: "computer", type: "console", end: true },
      { role: "assistant", type: "message", start: true },
      { role: "assistant", type: "message", content: "The answer is 42." },
      { role: "assistant", type: "message", end: true },
    ],
  };
}

/** Options of the fake. */
export interface FakeInterpreterOptions {
  /** `INTERPRETER_API_KEY` (unset: any key, and the websocket still wants its auth frame). */
  apiKey?: string;
  /** `INTERPRETER_REQUIRE_AUTH` (default true). */
  requireAuth?: boolean;
  /** `INTERPRETER_REQUIRE_ACKNOWLEDGE`. */
  requireAck?: boolean;
}

/** A running fake interpreter. */
export interface FakeInterpreter {
  origin: string;
  requests: Recorded[];
  /** The conversation the server keeps (LMC messages, user and assistant). */
  messages: Record<string, unknown>[];
  /** Websocket frames received, parsed, per connection. */
  frames: Record<string, unknown>[][];
  /** Websocket connections closed so far. */
  closedSockets: number;
  /** Runs stopped by a `stop` command. */
  stops: number;
  /** Chunks sent again because no acknowledgement came. */
  resent: number;
  respond: (message: string) => OiScript;
  close(): Promise<void>;
}

const COMPLETE = { role: "server", type: "status", content: "complete" };

/** Settings `GET /settings/<name>` reads (attributes of the server's interpreter). */
const SETTINGS: Record<string, unknown> = { auto_run: true, offline: false, verbose: false };

/** Starts the fake on 127.0.0.1. */
export async function startFakeInterpreter(
  options: FakeInterpreterOptions = {},
): Promise<FakeInterpreter> {
  const state = {
    messages: [] as Record<string, unknown>[],
    frames: [] as Record<string, unknown>[][],
    closedSockets: 0,
    stops: 0,
    resent: 0,
    respond: defaultScript,
  };
  const authenticate = (key: unknown) => options.apiKey === undefined || key === options.apiKey;
  /** The text of the last user message, as the scripts take it. */
  const lastUserText = () => {
    const last = [...state.messages].reverse().find((m) =>
      m.role === "user" && m.type === "message"
    );
    return String(last?.content ?? "");
  };

  const fake = await serveFake((req, rec) => {
    const url = new URL(req.url);
    if (url.pathname === "/heartbeat") return json({ status: "alive" });
    if (url.pathname === "/" && req.headers.get("upgrade")?.toLowerCase() === "websocket") {
      // Starlette's HTTP middleware does not see websockets: the auth frame is their check.
      const { socket, response } = Deno.upgradeWebSocket(req);
      serveSocket(socket);
      return response;
    }
    if (!authenticate(req.headers.get("x-api-key") ?? undefined)) {
      return json({ detail: "Authentication failed" }, 403);
    }
    if (url.pathname === "/openai/chat/completions" && req.method === "POST") {
      return chatCompletion(rec);
    }
    const setting = /^\/settings\/([^/]+)$/.exec(url.pathname)?.[1];
    if (setting && req.method === "GET") {
      if (setting in SETTINGS) return json(JSON.stringify({ [setting]: SETTINGS[setting] }));
      return json([JSON.stringify({ error: "Setting not found" }), 404]);
    }
    return json({ detail: "Not Found" }, 404);
  });

  function chatCompletion(rec: Recorded): Response {
    const body = rec.json as Record<string, unknown> | undefined;
    const messages = body?.messages;
    if (!body || !Array.isArray(messages) || messages.length === 0) {
      return json({
        detail: [{ type: "missing", loc: ["body", "messages"], msg: "Field required" }],
      }, 422);
    }
    for (const [i, m] of messages.entries()) {
      const ok = m && typeof m.role === "string" &&
        (typeof m.content === "string" || Array.isArray(m.content));
      if (!ok) {
        return json({
          detail: [{ type: "string_type", loc: ["body", "messages", i], msg: "Invalid message" }],
        }, 422);
      }
    }
    const last = messages[messages.length - 1] as { role: string; content: unknown };
    const crash = () =>
      new Response("Internal Server Error", {
        status: 500,
        headers: { "content-type": "text/plain" },
      });
    if (last.role !== "user") return crash(); // ValueError("Last message must be from the user.")
    if (typeof last.content === "string" && /^\{[A-Z_]+\}$/.test(last.content)) {
      return json(null);
    }
    if (typeof last.content === "string") {
      state.messages.push({ role: "user", type: "message", content: last.content });
    } else {
      for (const part of last.content as Record<string, unknown>[]) {
        if (part.type === "text") {
          // The 0.4 server stores `str(content)`: the whole part, as Python prints a dict.
          const repr = `{'type': 'text', 'text': '${String(part.text)}'}`;
          state.messages.push({ role: "user", type: "message", content: repr });
        } else if (part.type === "image_url") {
          const u = (part.image_url as { url?: string } | undefined)?.url ?? "";
          if (!u.includes("base64,")) return crash();
          const format = "base64." + u.split(";")[0].split("/")[1];
          state.messages.push({
            role: "user",
            type: "image",
            format,
            content: u.split("base64,")[1],
          });
        }
      }
    }
    const script = state.respond(lastUserText());
    if (!body.stream) {
      const text = script.chunks.filter((c) => c.type === "message" && c.content).map((c) =>
        c.content
      )
        .join("");
      return json({
        id: "200",
        object: "chat.completion",
        created: Date.now() / 1000,
        model: body.model ?? "default-model",
        choices: [{ message: { role: "assistant", content: text } }],
      });
    }
    const encoder = new TextEncoder();
    const stream = new ReadableStream<Uint8Array>({
      async start(controller) {
        try {
          for (const [i, c] of script.chunks.entries()) {
            if (script.stallAfter !== undefined && i >= script.stallAfter) {
              await rec.aborted;
              controller.close();
              return;
            }
            if (script.delayMs) await sleep(script.delayMs);
            let out: string | undefined;
            if (c.type === "message" && c.content) out = c.content;
            if (c.type === "code" && c.start) out = "```" + c.format + "\n";
            if (c.type === "code" && c.content) out = c.content;
            if (c.type === "code" && c.end) out = "\n```\n";
            if (!out) continue;
            const chunk = {
              id: i,
              object: "chat.completion.chunk",
              created: Date.now() / 1000,
              model: "open-interpreter",
              choices: [{ delta: { content: out } }],
            };
            controller.enqueue(encoder.encode(`data: ${JSON.stringify(chunk)}\n\n`));
          }
          // A failing generator: uvicorn drops the connection in the middle of the body.
          if (script.error) controller.error(new Error(script.error));
          else controller.close();
          state.messages.push({ role: "assistant", type: "message", content: "(answer)" });
        } catch {
          // The client went away.
        }
      },
    });
    return new Response(stream, { headers: { "content-type": "application/x-ndjson" } });
  }

  function serveSocket(socket: WebSocket) {
    const frames: Record<string, unknown>[] = [];
    state.frames.push(frames);
    let authenticated = options.requireAuth === false;
    let run: AbortController | undefined;
    const acked = new Set<string>();
    const send = (m: unknown) => {
      if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(m));
    };
    const output = async (m: Record<string, unknown>) => {
      if (!options.requireAck) return send(m);
      const id = crypto.randomUUID();
      for (let attempt = 0; attempt < 4; attempt++) {
        if (attempt > 0) state.resent++;
        send({ ...m, id });
        await sleep(100);
        if (acked.has(id) || socket.readyState !== WebSocket.OPEN) return;
      }
    };
    socket.onclose = () => {
      state.closedSockets++;
      run?.abort();
    };
    socket.onmessage = async (e) => {
      let data: Record<string, unknown>;
      try {
        data = JSON.parse(String(e.data));
      } catch {
        send({ role: "server", type: "error", content: "JSONDecodeError: Expecting value" });
        send(COMPLETE);
        return;
      }
      frames.push(data);
      if (!authenticated) {
        if ("auth" in data && authenticate(data.auth)) {
          authenticated = true;
          send({ auth: true });
        } else send({ auth: false });
        return;
      }
      if (options.requireAck && "ack" in data) {
        acked.add(String(data.ack));
        return;
      }
      if ("start" in data) {
        // A new message stops the run in progress.
        run?.abort();
        state.messages.push({ ...data, start: undefined, content: "" });
        return;
      }
      if ("content" in data) {
        const last = state.messages.at(-1);
        if (!last) {
          send({
            role: "server",
            type: "error",
            content: "Exception: You must send a 'start: True' chunk first to create this message.",
          });
          send(COMPLETE);
          return;
        }
        if (last.type === undefined || last.type === data.type) {
          last.type ??= data.type;
          last.content = String(last.content ?? "") + String(data.content);
        } else state.messages.push({ ...data });
        return;
      }
      if ("end" in data) {
        const last = state.messages.at(-1);
        if (last?.type === "command") {
          state.messages.pop();
          if (last.content === "stop") {
            state.stops++;
            run?.abort();
          }
          return;
        }
        run?.abort();
        const mine = new AbortController();
        run = mine;
        const script = state.respond(lastUserText());
        for (const [i, c] of script.chunks.entries()) {
          if (mine.signal.aborted) return;
          if (script.stallAfter !== undefined && i >= script.stallAfter) return;
          if (script.delayMs) await sleep(script.delayMs);
          if (mine.signal.aborted) return;
          await output(c as unknown as Record<string, unknown>);
        }
        if (mine.signal.aborted) return;
        if (script.hangUp) return socket.close();
        if (script.error) await output({ role: "server", type: "error", content: script.error });
        state.messages.push({ role: "assistant", type: "message", content: "(answer)" });
        await output(COMPLETE);
      }
    };
  }

  return {
    origin: fake.origin,
    requests: fake.requests,
    get messages() {
      return state.messages;
    },
    frames: state.frames,
    get closedSockets() {
      return state.closedSockets;
    },
    get stops() {
      return state.stops;
    },
    get resent() {
      return state.resent;
    },
    get respond() {
      return state.respond;
    },
    set respond(fn) {
      state.respond = fn;
    },
    close: fake.close,
  };
}
