/**
 * The `interpreter` provider: an open-interpreter 0.4 server (`interpreter --server`) as an
 * upstream, over one of its two routes (upstreams-2026 section 10):
 *
 * - `POST <base-url>/openai/chat/completions` (`interpreter.ws: false`, the default): streamed
 *   `chat.completion.chunk`s. The 0.4 server ends the stream by ending the body (no `[DONE]`; a
 *   later server may send one): a body that ends cleanly is the end of the answer, a body that
 *   breaks off is an error.
 * - The websocket `<base-url>/` (`interpreter.ws: true`, or model `open-interpreter-ws`): LMC
 *   chunks until `status: complete` (`socket.ts`).
 *
 * `interpreter.api-key` (the server's `INTERPRETER_API_KEY`) goes as `X-API-KEY` and in the
 * websocket's auth frame; without it the client's key is sent. The server holds one
 * conversation, so requests take turns (a request waits up to 30 s, then 429).
 *
 * The 2024 route (`POST /settings` + `POST /chat` of a patched pre-0.4 server) and the socket.io
 * bridge are gone: no released open-interpreter serves them.
 *
 * @module
 */
import { readSse } from "../../net/sse.ts";
import { GatewayError, upstreamFailed } from "../../openai/errors.ts";
import type { ChatRequest } from "../../openai/schema.ts";
import { Background } from "../../util/background.ts";
import { pause } from "../../util/signal.ts";
import type { ChatContext, ChatEvent, Provider, ProviderDeps } from "../types.ts";
import { type InterpreterInput, toInterpreterInput, toLmc, toOpenAiRoute } from "./request.ts";
import { InterpreterProbe } from "./probe.ts";
import { drainAndClose, InterpreterSocket, runOverSocket } from "./socket.ts";
import { deltaOf, InlineCodeFilter, LmcMapper } from "./stream.ts";

const MODELS = ["open-interpreter", "open-interpreter-ws"];

/** How long a request waits for the interpreter to finish another one. */
const TURN_WAIT_MS = 30_000;
/** After a run the client left: the silence that ends it, and the longest wait for it. */
const DRAIN_QUIET_MS = 1_000;
const DRAIN_MAX_MS = 15_000;

/** One request at a time: the interpreter has one conversation and one output queue. */
class Turns {
  #busy = false;
  #waiters: (() => void)[] = [];

  /** Waits for the turn (429 after `TURN_WAIT_MS`, or when the client leaves). */
  async take(signal: AbortSignal): Promise<void> {
    const deadline = Date.now() + TURN_WAIT_MS;
    while (this.#busy) {
      if (Date.now() >= deadline || signal.aborted) {
        throw new GatewayError(
          429,
          "the interpreter is busy with another request; try again shortly",
          "rate_limit_error",
          "interpreter_busy",
          null,
          { retryAfter: 5 },
        );
      }
      await pause(Math.max(1, deadline - Date.now()), signal, this.#waiters);
    }
    this.#busy = true;
  }

  /** Gives the turn to the next waiter. */
  release(): void {
    this.#busy = false;
    this.#waiters[0]?.();
  }
}

/** The key sent to the interpreter: the configured one, else the client's. */
function keyOf(ctx: ChatContext): string | undefined {
  return ctx.config.interpreter["api-key"] ?? ctx.token;
}

async function* overHttp(
  input: InterpreterInput,
  ctx: ChatContext,
): AsyncGenerator<ChatEvent> {
  const c = ctx.config.interpreter;
  const key = keyOf(ctx);
  const headers: Record<string, string> = {
    "content-type": "application/json",
    accept: "text/event-stream",
  };
  if (key) headers["x-api-key"] = key;
  const wait = c["ws-timeout"];
  const res = await ctx.upstream("interpreter", c.proxies).ok(
    `${c["base-url"]}/openai/chat/completions`,
    {
      method: "POST",
      headers,
      body: JSON.stringify(toOpenAiRoute(input, ctx.route.model)),
      // The interpreter may run code for a long time between two chunks.
      timeouts: { "first-byte": wait, idle: wait },
    },
  );
  const filter = new InlineCodeFilter(c["echo-code"]);
  const type = res.headers.get("content-type") ?? "";
  if (type.includes("application/json")) {
    // The control strings ({AUTO_RUN_ON}, {STOP}, ...) are answered with a JSON `null`.
    const body = await res.json().catch(() => null) as
      | { choices?: { message?: { content?: unknown } }[] }
      | null;
    const text = body?.choices?.[0]?.message?.content;
    if (typeof text === "string" && text) yield { type: "text", text };
    yield { type: "finish", reason: "stop" };
    return;
  }
  // The 0.4 server labels its SSE lines `application/x-ndjson`: read them as SSE either way.
  try {
    for await (const ev of readSse(res.body!)) {
      const data = ev.data.trim();
      if (data === "") continue;
      if (data === "[DONE]") break;
      const text = filter.push(deltaOf(data));
      if (text) yield { type: "text", text };
    }
  } catch (err) {
    if (err instanceof GatewayError || ctx.signal.aborted) throw err;
    // The server's generator failed: the connection dropped before the body's end.
    throw upstreamFailed(
      "interpreter",
      `the stream broke off before its end: ${(err as Error).message}`,
      err,
    );
  }
  const rest = filter.end();
  if (rest) yield { type: "text", text: rest };
  yield { type: "finish", reason: "stop" };
}

async function* overSocket(
  input: InterpreterInput,
  ctx: ChatContext,
  background: Background,
  turns: Turns,
): AsyncGenerator<ChatEvent> {
  const c = ctx.config.interpreter;
  const key = keyOf(ctx);
  const url = `${c["base-url"].replace(/^http/i, "ws")}/`;
  const http = ctx.upstream("interpreter", c.proxies);
  const mapper = new LmcMapper({ code: c["echo-code"], console: c["echo-console"] });
  let socket: InterpreterSocket | undefined;
  let completed = false;
  try {
    socket = new InterpreterSocket(
      url,
      key ? { "x-api-key": key } : {},
      http.clientFor(new URL(url)),
    );
    for await (
      const chunk of runOverSocket({
        socket,
        key: key ?? "none",
        frames: toLmc(input),
        signal: ctx.signal,
        idleMs: c["ws-timeout"] * 1000,
      })
    ) {
      yield* mapper.map(chunk);
    }
    completed = true;
    yield* mapper.end();
    yield { type: "finish", reason: "stop" };
  } finally {
    if (!socket || completed || socket.ws.readyState !== WebSocket.OPEN) {
      await socket?.close();
      turns.release();
    } else {
      // The run goes on inside the interpreter: stop it and drop its rest before the next turn.
      background.track(
        drainAndClose(socket, DRAIN_QUIET_MS, DRAIN_MAX_MS).finally(() => turns.release()),
      );
    }
  }
}

/** Creates the `interpreter` provider. */
export function createInterpreterProvider(deps: ProviderDeps): Provider {
  const background = new Background();
  const turns = new Turns();
  const probe = new InterpreterProbe(deps.http);
  return {
    id: "interpreter",

    // Ready when an interpreter answers at the base URL (the default one is only a guess).
    readiness: (config) => probe.check(config),

    models() {
      return MODELS.map((id) => ({ id, owned_by: "interpreter" }));
    },

    resolve(model) {
      return MODELS.includes(model) ? { upstreamModel: model, toolMode: "emulated" } : undefined;
    },

    async *chat(req: ChatRequest, ctx: ChatContext): AsyncGenerator<ChatEvent> {
      const input = toInterpreterInput(req);
      const ws = ctx.route.model === "open-interpreter-ws" || ctx.config.interpreter.ws;
      await turns.take(ctx.signal);
      if (ws) {
        // The socket releases the turn itself (after a drain when the client left).
        yield* overSocket(input, ctx, background, turns);
        return;
      }
      try {
        yield* overHttp(input, ctx);
      } finally {
        turns.release();
      }
    },

    renderPrompt(req: ChatRequest): string {
      const input = toInterpreterInput(req);
      return JSON.stringify(toLmc(input), null, 2);
    },

    settled: () => background.settled(),
    close: async () => {
      await background.settled();
      deps.log.debug("interpreter: closed");
    },
  };
}
