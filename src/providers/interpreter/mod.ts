/**
 * The `interpreter` provider: open-interpreter as an upstream. `open-interpreter` calls its HTTP
 * server (`POST /settings` with the history and system text, then `POST /chat` and its SSE
 * stream); `open-interpreter-ws` talks to an interpreter that connected to this server over
 * socket.io (see `bridge.ts`). Code it runs and console output are shown as fenced blocks when
 * `interpreter.echo-code` is on.
 *
 * @module
 */
import { upstreamFailed } from "../../openai/errors.ts";
import type { ChatRequest } from "../../openai/schema.ts";
import type { ChatContext, ChatEvent, Provider, ProviderDeps } from "../types.ts";
import { handleSocketIo, InterpreterBridge } from "./bridge.ts";
import { toInterpreter } from "./messages.ts";
import { type InterpreterChunk, InterpreterMapper } from "./stream.ts";

const MODELS = ["open-interpreter", "open-interpreter-ws"];

function parse(data: string): InterpreterChunk {
  try {
    const v = JSON.parse(data);
    if (v && typeof v === "object") return v;
  } catch {
    // Reported below.
  }
  throw upstreamFailed("interpreter", `a message that is not a JSON object: ${data.slice(0, 200)}`);
}

async function postSettings(
  ctx: ChatContext,
  settings: unknown,
  bestEffort: boolean,
): Promise<void> {
  const c = ctx.config.interpreter;
  const http = ctx.upstream("interpreter", c.proxies);
  try {
    await (await http.ok(`${c["base-url"]}/settings`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(settings),
      timeouts: bestEffort ? { connect: 5, "first-byte": 5, idle: 5 } : undefined,
    })).body?.cancel();
  } catch (err) {
    if (!bestEffort) throw err;
    // Over socket.io the settings also travel on the socket; the HTTP call is the original's.
    ctx.log.debug(`interpreter: /settings over HTTP failed: ${(err as Error).message}`);
  }
}

async function* overHttp(req: ChatRequest, ctx: ChatContext): AsyncGenerator<ChatEvent> {
  const c = ctx.config.interpreter;
  const input = toInterpreter(req);
  await postSettings(ctx, input.settings, false);
  const http = ctx.upstream("interpreter", c.proxies);
  const events = await http.sse(`${c["base-url"]}/chat`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "text/event-stream" },
    body: JSON.stringify({ message: input.message }),
  });
  const mapper = new InterpreterMapper(c["echo-code"]);
  for await (const ev of events) {
    if (ev.data.trim() === "[DONE]") break;
    if (ev.data.trim() === "") continue;
    yield* mapper.map(parse(ev.data));
  }
  yield* mapper.end();
}

async function* overSocket(
  req: ChatRequest,
  ctx: ChatContext,
  bridge: InterpreterBridge,
): AsyncGenerator<ChatEvent> {
  const c = ctx.config.interpreter;
  const input = toInterpreter(req);
  await postSettings(ctx, input.settings, true);
  const mapper = new InterpreterMapper(c["echo-code"]);
  for await (const m of bridge.run(input, ctx.signal, c["ws-timeout"])) {
    yield* mapper.map(parse(m));
  }
  yield* mapper.end();
}

/** Creates the `interpreter` provider, with the socket.io route its `-ws` model listens on. */
export function createInterpreterProvider(deps: ProviderDeps): Provider {
  const bridge = new InterpreterBridge();
  return {
    id: "interpreter",
    routes: [{
      path: "/socket.io/*",
      handle: (req, config) => handleSocketIo(req, config, bridge, deps.log),
    }],

    models() {
      return MODELS.map((id) => ({ id, owned_by: "interpreter" }));
    },

    resolve(model) {
      return MODELS.includes(model) ? { upstreamModel: model, toolMode: "emulated" } : undefined;
    },

    chat(req: ChatRequest, ctx: ChatContext): AsyncIterable<ChatEvent> {
      return ctx.route.model === "open-interpreter-ws"
        ? overSocket(req, ctx, bridge)
        : overHttp(req, ctx);
    },

    renderPrompt(req: ChatRequest): string {
      return JSON.stringify(toInterpreter(req), null, 2);
    },
  };
}
