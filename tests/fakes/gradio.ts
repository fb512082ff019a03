/**
 * A fake gradio app as gradio 3, 4, 5 and 6 serve it (reference: upstreams-2026 section 8,
 * gradio `routes.py`), plus an LMSYS arena ("Direct Chat") built on it. The image spaces are in
 * `gradio_spaces.ts`.
 *
 * Paths: `GET /config` stays at the root; every other route lives under the API prefix, which is
 * `/gradio_api` on Gradio 5 and 6 (and then the un-prefixed `/queue/join`, `/queue/data`,
 * `/info`, `/call/...`, `/upload` and `/file=` answer 404 `{"detail":"Not Found"}`) and empty on
 * Gradio 4. `/config` tells `version`, `api_prefix` (5+), `protocol` (`sse_v3`) and the
 * `dependencies` (`id` = fn_index, `targets` = `[[trigger_id, "click"]]`, `api_name`).
 *
 * Queue (`POST <prefix>/queue/join`, `GET <prefix>/queue/data?session_hash=`): a join without a
 * session hash is 400 `{"detail":"Session hash not found."}`, an unknown `fn_index` 400, data
 * that is not a list 422, a full queue 503 `{"detail":"Queue is full."}`, else `{"event_id"}`.
 * The data stream carries, per event, `estimation`, `process_starts`, `process_generating` (the
 * first with whole output values, then one list of diff operations per output, computed as
 * gradio's `utils.diff` does), `process_completed` (whole values; `success:false` with
 * `output.error` when the function raises, hidden unless `showError`; a ZeroGPU quota error is
 * always shown), `heartbeat` every `heartbeatMs` while idle, and `close_stream` once the session
 * has no pending event. An unknown session gets one `unexpected_error` ("404: Session not
 * found.").
 *
 * Simple REST (`POST <prefix>/call/<api_name>` `{data}` → `{event_id}`, `GET
 * <prefix>/call/<api_name>/<event_id>`): `event: generating | complete | error | heartbeat` with
 * whole values, the error output, or the message of an unknown event. An unknown api name is 500
 * (gradio's uncaught `FnIndexInferError`).
 *
 * `GET <prefix>/info` lists the named endpoints and their parameters; `POST <prefix>/upload`
 * (multipart `files`) stores files and answers their paths, served at `<prefix>/file=<path>`.
 *
 * Gradio 3 (websocket `/queue/join`): `send_hash` -> `{fn_index, session_hash}` -> `estimation`,
 * `send_data` -> `{data, fn_index, session_hash}` -> `process_starts`, `process_generating`
 * (whole values), `process_completed`, then the server closes.
 *
 * A private space (`token`) answers 401 without `Authorization: Bearer <token>`. As gradio's
 * `clean_events`, a client that drops a session's data stream (or its socket) before the end
 * cancels that session's running events. `close()` cancels what still runs and waits for it.
 *
 * Like lmarena behind HAProxy, the app may run as several backends (`servers`): `GET /info`
 * sets `SERVERID=<name>|<stamp>`, requests are routed by that cookie, and without it to the next
 * backend (which also sets the cookie), so a session started on one backend is unknown to
 * another. A backend listed in `downServers` answers 503.
 *
 * @module
 */
import { linkedController } from "../../src/util/signal.ts";
import { type Fake, json, type Recorded, serveFake } from "./serve.ts";

/** Resolves after `ms`, or at once when `signal` aborts (a cancelled event stops waiting). */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

/** A JSON response carrying `extra` headers (cookies) too. */
function reply(body: unknown, status: number, extra: Headers): Response {
  const headers = new Headers(extra);
  headers.set("content-type", "application/json");
  return new Response(JSON.stringify(body), { status, headers });
}

/** What a fake function receives. */
export interface FnContext {
  /** State kept per session hash (gradio's `gr.State` of that user). */
  state: Map<string, unknown>;
  /** The backend that runs the call. */
  server: string;
  /** Stores a file and returns its `FileData` (served at `<prefix>/file=`). */
  addFile(bytes: Uint8Array, mime: string, name?: string): Record<string, unknown>;
  /** The origin of the fake (`http://127.0.0.1:<port>`). */
  origin: string;
  /** Aborts when the event is cancelled (its client left, or the fake closes). */
  signal: AbortSignal;
}

/**
 * One function of the app: yields whole output lists while generating; its return value is the
 * final output list (the last yielded one when it returns nothing). Throwing fails the event.
 */
export type FakeFn = (
  data: unknown[],
  ctx: FnContext,
) => AsyncGenerator<unknown[], unknown[] | void> | Promise<unknown[]>;

/** A parameter of a named endpoint, as `/info` lists it. */
export interface FakeParameter {
  name: string;
  /** The default value (the parameter is then optional). */
  default?: unknown;
}

/** Options of a fake gradio app. */
export interface FakeGradioOptions {
  /** The functions by `fn_index`. */
  fns: Record<number, FakeFn>;
  /** Number of inputs each function takes (a call with another count fails the event). */
  inputs?: Record<number, number>;
  /** Gradio's major version: 3 (websocket queue), 4 (no prefix, default), 5 or 6 (`/gradio_api`). */
  version?: 3 | 4 | 5 | 6;
  /** Named endpoints: api name (without `/`) -> fn_index. */
  apiNames?: Record<string, number>;
  /** The parameters `/info` lists per api name. */
  parameters?: Record<string, FakeParameter[]>;
  /** Trigger ids by fn_index, as `/config` lists them (default fn_index + 100). */
  triggers?: Record<number, number>;
  /** Backend names for sticky routing; none = one backend, no SERVERID. */
  servers?: string[];
  /** Backends that answer 503 (e.g. `S0`). */
  downServers?: string[];
  /** SERVERID values `/info` hands out in order (then round-robin over `servers`). */
  infoSequence?: string[];
  /** Gradio 3 websocket instead of the HTTP queue (same as `version: 3`). */
  websocket?: boolean;
  /** Show function errors to clients (`show_error=True`). */
  showError?: boolean;
  /** Milliseconds between heartbeats while idle (gradio: 15 s). */
  heartbeatMs?: number;
  /** Milliseconds between two streamed outputs. */
  stepMs?: number;
  /** Answer joins with 503 "Queue is full.". */
  queueFull?: boolean;
  /** Every event fails with this ZeroGPU quota message (shown whatever `showError` says). */
  quotaError?: string;
  /** A private space: every route but `/config`'s 404 needs `Authorization: Bearer <token>`. */
  token?: string;
  /**
   * A cookie (`name`) the front set on the first join, required on every later queue request
   * (as a bot-management cookie is): requests without it get 403.
   */
  stepCookie?: string;
}

/** A running fake gradio app. */
export interface FakeGradio extends Fake {
  options: FakeGradioOptions;
  /** The API prefix it serves under (`/gradio_api` or ""). */
  prefix: string;
  /** Queue joins received (parsed bodies) with the backend that took them. */
  joins: { body: Record<string, unknown>; server: string; cookie: string }[];
  /** Simple REST calls received: api name and body. */
  calls: { apiName: string; body: Record<string, unknown> }[];
  /** Websocket messages received from clients. */
  socketMessages: Record<string, unknown>[];
  /** Number of `/info` calls. */
  infoCalls: number;
  /** Number of `/config` calls. */
  configCalls: number;
  /** Stored files (`/file=` path -> bytes and type). */
  files: Map<string, { bytes: Uint8Array; mime: string }>;
}

interface Backend {
  sessions: Map<string, SessionQueue>;
  state: Map<string, Map<string, unknown>>;
}

interface SessionQueue {
  messages: Record<string, unknown>[];
  pending: Set<string>;
  wake?: () => void;
  /** Cancels the session's running events (replaced by a fresh one once used). */
  stop: AbortController;
}

const NOT_FOUND = { detail: "Not Found" };

/** Starts a fake gradio app. */
export async function startFakeGradio(options: FakeGradioOptions): Promise<FakeGradio> {
  const version = options.websocket ? 3 : options.version ?? 4;
  const socketQueue = version === 3;
  const prefix = version >= 5 ? "/gradio_api" : "";
  const servers = options.servers ?? ["main"];
  const backends = new Map<string, Backend>(
    servers.map((s) => [s, { sessions: new Map(), state: new Map() }]),
  );
  let roundRobin = 0;
  let infoIndex = 0;
  const files = new Map<string, { bytes: Uint8Array; mime: string }>();
  const joins: FakeGradio["joins"] = [];
  const calls: FakeGradio["calls"] = [];
  const socketMessages: Record<string, unknown>[] = [];
  const issuedStepCookies = new Set<string>();
  let origin = "";
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const sticky = options.servers !== undefined;
  /** Aborted by `close()`: every event still running is cancelled. */
  const shutdown = new AbortController();
  const running = new Set<Promise<void>>();

  const nextServer = () => servers[roundRobin++ % servers.length];
  const route = (req: Request): { server: string; setCookie?: string } => {
    if (!sticky) return { server: servers[0] };
    const cookie = cookieOf(req, "SERVERID");
    const name = cookie?.split("|")[0];
    if (name && backends.has(name)) return { server: name };
    const server = nextServer();
    return { server, setCookie: serverCookie(server) };
  };

  const storeFile = (bytes: Uint8Array, mime: string, name: string) => {
    const path = `/tmp/gradio/${crypto.randomUUID().replaceAll("-", "")}/${name}`;
    files.set(path, { bytes, mime });
    return path;
  };

  const ctxFor = (server: string, session: string, signal: AbortSignal): FnContext => {
    const backend = backends.get(server)!;
    let state = backend.state.get(session);
    if (!state) backend.state.set(session, state = new Map());
    return {
      state,
      server,
      origin,
      signal,
      addFile(bytes, mime, name = "image.png") {
        const path = storeFile(bytes, mime, name);
        return {
          path,
          url: `${origin}${prefix}/file=${path}`,
          size: bytes.length,
          orig_name: name,
          mime_type: mime,
          is_stream: false,
          meta: { _type: "gradio.FileData" },
        };
      },
    };
  };

  /** Runs an event in the background; `cancel` (or `close()`) stops it without a result. */
  const startEvent = (
    server: string,
    session: string,
    eventId: string,
    fnIndex: number,
    data: unknown[],
    emit: (m: Record<string, unknown>) => void,
    incremental: boolean,
    cancel: AbortSignal,
  ) => {
    const signal = linkedController([cancel, shutdown.signal]).signal;
    const run = runEvent(server, session, eventId, fnIndex, data, emit, incremental, signal);
    running.add(run);
    run.finally(() => running.delete(run));
  };

  const runEvent = async (
    server: string,
    session: string,
    eventId: string,
    fnIndex: number,
    data: unknown[],
    emit: (m: Record<string, unknown>) => void,
    incremental: boolean,
    signal: AbortSignal,
  ) => {
    const started = performance.now();
    emit({ msg: "estimation", event_id: eventId, rank: 0, queue_size: 1, rank_eta: 0.5 });
    emit({ msg: "process_starts", event_id: eventId, eta: 0.5, progress_data: null });
    const fn = options.fns[fnIndex];
    let last: unknown[] | undefined;
    try {
      if (options.quotaError) throw new QuotaError(options.quotaError);
      const expected = options.inputs?.[fnIndex];
      if (expected !== undefined && data.length !== expected) {
        throw new Error(
          `An event handler (fn ${fnIndex}) didn't receive enough input values (needed: ${expected}, got: ${data.length}).`,
        );
      }
      const result = fn(data, ctxFor(server, session, signal));
      if (result instanceof Promise) {
        last = await result;
        if (signal.aborted) return;
      } else {
        let previous: unknown[] | undefined;
        while (true) {
          const step = await result.next();
          if (step.done) {
            if (Array.isArray(step.value)) last = step.value;
            break;
          }
          if (options.stepMs) await pause(options.stepMs, signal);
          if (signal.aborted) {
            await result.return(undefined);
            return;
          }
          const whole = structuredClone(step.value);
          const out = incremental && previous ? whole.map((v, i) => diff(previous![i], v)) : whole;
          emit({
            msg: "process_generating",
            event_id: eventId,
            output: { data: out, is_generating: true, changed_state_ids: [] },
            success: true,
          });
          previous = whole;
          last = whole;
        }
      }
      const duration = (performance.now() - started) / 1000;
      emit({
        msg: "process_completed",
        event_id: eventId,
        output: {
          data: last ?? [],
          is_generating: false,
          duration,
          average_duration: duration,
          render_config: null,
          changed_state_ids: [],
        },
        success: true,
        title: null,
      });
    } catch (err) {
      if (signal.aborted) return;
      const shown = options.showError || err instanceof QuotaError;
      emit({
        msg: "process_completed",
        event_id: eventId,
        output: { error: shown ? (err as Error).message : null },
        success: false,
        title: shown ? "Error" : null,
      });
    }
  };

  /** The session's queue on `backend`, made on first use. */
  const sessionOf = (backend: Backend, session: string): SessionQueue => {
    let q = backend.sessions.get(session);
    if (!q) {
      q = { messages: [], pending: new Set(), stop: new AbortController() };
      backend.sessions.set(session, q);
    }
    return q;
  };

  /** Queues an event on a session and returns its id. */
  const enqueue = (
    backend: Backend,
    server: string,
    session: string,
    fnIndex: number,
    data: unknown[],
    incremental: boolean,
  ): string => {
    const q = sessionOf(backend, session);
    const eventId = crypto.randomUUID().replaceAll("-", "");
    q.pending.add(eventId);
    startEvent(
      server,
      session,
      eventId,
      fnIndex,
      data,
      (m) => {
        q.messages.push(m);
        q.wake?.();
      },
      incremental,
      q.stop.signal,
    );
    return eventId;
  };

  /**
   * The SSE stream of a session's messages; `render` turns a message into the bytes to send (or
   * nothing). Ends after the last pending event completed; a client that leaves before cancels
   * the session's events.
   */
  const sessionStream = (
    q: SessionQueue | undefined,
    rec: Recorded,
    render: (m: Record<string, unknown>) => string | undefined,
    extra: Headers,
  ): Response => {
    const headers = new Headers(extra);
    headers.set("content-type", "text/event-stream; charset=utf-8");
    headers.set("cache-control", "no-cache");
    const enc = new TextEncoder();
    const send = (c: ReadableStreamDefaultController<Uint8Array>, m: Record<string, unknown>) => {
      const text = render(m);
      if (text !== undefined) c.enqueue(enc.encode(text));
    };
    const body = new ReadableStream<Uint8Array>({
      async start(controller) {
        let ended = false;
        try {
          if (!q) {
            send(controller, {
              msg: "unexpected_error",
              message: "404: Session not found.",
              success: false,
              session_not_found: true,
            });
            controller.close();
            return;
          }
          let lastBeat = performance.now();
          while (!rec.wasAborted) {
            const m = q.messages.shift();
            if (!m) {
              await new Promise<void>((r) => {
                const t = setTimeout(r, Math.min(50, heartbeatMs));
                q.wake = () => {
                  clearTimeout(t);
                  r();
                };
              });
              q.wake = undefined;
              if (performance.now() - lastBeat > heartbeatMs) {
                send(controller, { msg: "heartbeat" });
                lastBeat = performance.now();
              }
              continue;
            }
            send(controller, m);
            if (m.msg === "process_completed") {
              q.pending.delete(m.event_id as string);
              if (q.pending.size === 0) {
                send(controller, { msg: "close_stream" });
                controller.close();
                ended = true;
                return;
              }
            }
          }
        } catch {
          // The client went away.
        } finally {
          if (q && !ended) {
            // The client left before the end: its events are cancelled.
            q.stop.abort();
            q.stop = new AbortController();
          }
        }
      },
    });
    return new Response(body, { headers });
  };

  const fnsWithApi = new Map(Object.entries(options.apiNames ?? {}).map(([k, v]) => [v, k]));
  const configBody = () => {
    const last = Math.max(-1, ...Object.keys(options.fns).map(Number));
    const dependencies = Array.from({ length: last + 1 }, (_, id) => {
      const trigger = options.triggers?.[id] ?? id + 100;
      const dep: Record<string, unknown> = {
        targets: version === 3 ? [trigger] : [[trigger, "click"]],
        api_name: fnsWithApi.get(id) ?? null,
        queue: true,
      };
      if (version > 3) dep.id = id;
      return dep;
    });
    const config: Record<string, unknown> = {
      version: { 3: "3.50.2", 4: "4.44.1", 5: "5.49.1", 6: "6.25.0" }[version],
      mode: "blocks",
      app_id: 1234567890,
      components: [],
      dependencies,
    };
    if (version >= 4) config.protocol = "sse_v3";
    if (prefix) config.api_prefix = prefix;
    return config;
  };

  const fake = await serveFake(async (req: Request, rec: Recorded) => {
    const url = new URL(req.url);
    if (options.token && req.headers.get("authorization") !== `Bearer ${options.token}`) {
      return json({ error: "Invalid credentials in Authorization header" }, 401);
    }
    if (url.pathname === "/config" && req.method === "GET") {
      fakeState.configCalls++;
      return json(configBody());
    }
    if (prefix && !url.pathname.startsWith(`${prefix}/`)) return json(NOT_FOUND, 404);
    const path = url.pathname.slice(prefix.length);

    if (path === "/info" && req.method === "GET") {
      fakeState.infoCalls++;
      const headers = new Headers({ "content-type": "application/json" });
      if (sticky) {
        const name = options.infoSequence?.[infoIndex++] ?? nextServer();
        headers.append("set-cookie", serverCookie(name));
      }
      const named: Record<string, unknown> = {};
      for (const name of Object.keys(options.apiNames ?? {})) {
        named[`/${name}`] = {
          parameters: (options.parameters?.[name] ?? []).map((p) => ({
            label: p.name,
            parameter_name: p.name,
            parameter_has_default: "default" in p,
            parameter_default: p.default ?? null,
            type: {},
            python_type: { type: "Any", description: "" },
            component: "Textbox",
            example_input: null,
          })),
          returns: [],
          show_api: true,
        };
      }
      return new Response(
        JSON.stringify({ named_endpoints: named, unnamed_endpoints: {} }),
        { headers },
      );
    }
    if (path.startsWith("/file=") && req.method === "GET") {
      const f = files.get(decodeURIComponent(path.slice("/file=".length)));
      if (!f) return json({ detail: "File not found" }, 404);
      return new Response(f.bytes as Uint8Array<ArrayBuffer>, {
        headers: { "content-type": f.mime, "content-length": String(f.bytes.length) },
      });
    }
    if (path === "/upload" && req.method === "POST") {
      if (!url.searchParams.get("upload_id")) return json({ detail: "upload_id missing" }, 422);
      let form: FormData;
      try {
        form = await new Response(rec.body, {
          headers: { "content-type": req.headers.get("content-type") ?? "" },
        }).formData();
      } catch {
        return json({ detail: "There was an error parsing the body" }, 400);
      }
      const parts = form.getAll("files").filter((f): f is File => f instanceof File);
      if (parts.length === 0) return json({ detail: "No files" }, 422);
      const paths: string[] = [];
      for (const f of parts) {
        paths.push(storeFile(new Uint8Array(await f.arrayBuffer()), f.type, f.name));
      }
      return json(paths);
    }

    const call = /^\/call\/([^/]+)(?:\/([^/]+))?\/?$/.exec(path);
    if (call && !socketQueue) {
      const [, apiName, eventId] = call;
      const backend = backends.get(servers[0])!;
      if (req.method === "POST" && !eventId) {
        const fnIndex = options.apiNames?.[apiName];
        if (fnIndex === undefined) {
          return new Response("Internal Server Error", {
            status: 500,
            headers: { "content-type": "text/plain" },
          });
        }
        const body = rec.json as Record<string, unknown> | undefined;
        if (!body || !Array.isArray(body.data)) {
          return json({
            detail: [{ type: "missing", loc: ["body", "data"], msg: "Field required" }],
          }, 422);
        }
        calls.push({ apiName, body });
        if (options.queueFull) return json({ detail: "Queue is full." }, 503);
        // Without a session hash of its own, the event's id is its session (gradio's `Event`).
        const session = crypto.randomUUID().replaceAll("-", "");
        const id = enqueue(backend, servers[0], session, fnIndex, body.data, false);
        backend.sessions.set(id, backend.sessions.get(session)!);
        return json({ event_id: id });
      }
      if (req.method === "GET" && eventId) {
        return sessionStream(backend.sessions.get(eventId), rec, renderCall, new Headers());
      }
      return json({ detail: "Method Not Allowed" }, 405);
    }

    if (!path.startsWith("/queue/")) return json(NOT_FOUND, 404);

    const { server, setCookie } = route(req);
    if (options.downServers?.includes(server)) {
      return new Response("<html><body><h1>503 Service Unavailable</h1></body></html>", {
        status: 503,
        headers: { "content-type": "text/html" },
      });
    }
    const extra = new Headers();
    if (setCookie) extra.append("set-cookie", setCookie);
    if (options.stepCookie) {
      const have = cookieOf(req, options.stepCookie);
      const firstJoin = issuedStepCookies.size === 0 && path === "/queue/join";
      if (!firstJoin && (!have || !issuedStepCookies.has(have))) {
        return new Response("<html><title>Just a moment...</title></html>", {
          status: 403,
          headers: { "content-type": "text/html" },
        });
      }
      if (firstJoin) {
        const value = crypto.randomUUID();
        issuedStepCookies.add(value);
        extra.append("set-cookie", `${options.stepCookie}=${value}; Path=/; HttpOnly; Secure`);
      }
    }
    const backend = backends.get(server)!;

    if (path === "/queue/join" && socketQueue) {
      if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") {
        return json({ detail: "Method Not Allowed" }, 405);
      }
      const { socket, response } = Deno.upgradeWebSocket(req);
      serveSocket(socket, server);
      return response;
    }

    if (path === "/queue/join" && req.method === "POST") {
      const body = rec.json as Record<string, unknown> | undefined;
      if (!body || typeof body !== "object") {
        return reply(
          { detail: [{ type: "json_invalid", loc: ["body"], msg: "JSON decode error" }] },
          422,
          extra,
        );
      }
      if (typeof body.session_hash !== "string") {
        return reply({ detail: "Session hash not found." }, 400, extra);
      }
      if (options.queueFull) return reply({ detail: "Queue is full." }, 503, extra);
      const fnIndex = body.fn_index;
      if (typeof fnIndex !== "number" || !(fnIndex in options.fns)) {
        return reply({ detail: `Function index ${fnIndex} not found.` }, 400, extra);
      }
      if (!Array.isArray(body.data)) {
        return reply(
          {
            detail: [{
              type: "list_type",
              loc: ["body", "data"],
              msg: "Input should be a valid list",
            }],
          },
          422,
          extra,
        );
      }
      joins.push({ body, server, cookie: req.headers.get("cookie") ?? "" });
      const eventId = enqueue(backend, server, body.session_hash, fnIndex, body.data, true);
      return reply({ event_id: eventId }, 200, extra);
    }

    if (path === "/queue/data" && req.method === "GET") {
      const session = url.searchParams.get("session_hash");
      if (!session) {
        return reply(
          { detail: [{ type: "missing", loc: ["query", "session_hash"], msg: "Field required" }] },
          422,
          extra,
        );
      }
      return sessionStream(
        backend.sessions.get(session),
        rec,
        (m) => `data: ${JSON.stringify(m)}\n\n`,
        extra,
      );
    }
    return reply({ detail: "Method Not Allowed" }, 405, extra);
  });

  function serveSocket(socket: WebSocket, server: string) {
    let session = "";
    let fnIndex = -1;
    // A socket closing cancels its event (after completion this changes nothing).
    const stop = new AbortController();
    socket.addEventListener("close", () => stop.abort());
    const send = (m: unknown) => {
      if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(m));
    };
    socket.onopen = () => send({ msg: "send_hash" });
    socket.onmessage = (e) => {
      let m: Record<string, unknown>;
      try {
        m = JSON.parse(String(e.data));
      } catch {
        socket.close(1003, "bad json");
        return;
      }
      socketMessages.push(m);
      if (!session) {
        if (typeof m.session_hash !== "string" || typeof m.fn_index !== "number") {
          socket.close(1008, "expected {fn_index, session_hash}");
          return;
        }
        session = m.session_hash;
        fnIndex = m.fn_index;
        if (options.queueFull) {
          send({ msg: "queue_full" });
          socket.close();
          return;
        }
        send({
          msg: "estimation",
          rank: 0,
          queue_size: 1,
          avg_event_process_time: 1,
          avg_event_concurrent_process_time: 1,
          rank_eta: 1,
          queue_eta: 1,
        });
        send({ msg: "send_data" });
        return;
      }
      if (!Array.isArray(m.data) || m.fn_index !== fnIndex || m.session_hash !== session) {
        socket.close(1008, "expected {data, fn_index, session_hash}");
        return;
      }
      if (!(fnIndex in options.fns)) {
        send({ msg: "process_completed", output: { error: null }, success: false });
        socket.close();
        return;
      }
      const eventId = crypto.randomUUID().replaceAll("-", "");
      startEvent(
        server,
        session,
        eventId,
        fnIndex,
        m.data,
        (out) => {
          // Gradio 3 sends neither event ids nor estimation twice over the socket.
          if (out.msg === "estimation") return;
          const { event_id: _e, ...rest } = out;
          send(rest);
          if (out.msg === "process_completed") socket.close();
        },
        false,
        stop.signal,
      );
    };
  }

  const fakeState: FakeGradio = {
    ...fake,
    async close() {
      shutdown.abort();
      await Promise.all(running);
      await fake.close();
    },
    options,
    prefix,
    joins,
    calls,
    socketMessages,
    infoCalls: 0,
    configCalls: 0,
    files,
  };
  origin = fake.origin;
  return fakeState;
}

/** A ZeroGPU quota refusal (always shown to clients, as `gr.Error` is). */
class QuotaError extends Error {}

/** A queue message as the simple REST stream writes it (gradio's `simple_predict_get`). */
function renderCall(m: Record<string, unknown>): string | undefined {
  const out = (m.output ?? {}) as Record<string, unknown>;
  let event: string;
  let data: unknown;
  switch (m.msg) {
    case "process_completed":
      event = m.success ? "complete" : "error";
      data = m.success ? out.data : out;
      break;
    case "process_generating":
      event = m.success ? "generating" : "error";
      data = m.success ? out.data : out;
      break;
    case "heartbeat":
      event = "heartbeat";
      data = null;
      break;
    case "unexpected_error":
      event = "error";
      data = m.message;
      break;
    default:
      return undefined;
  }
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

function serverCookie(name: string): string {
  return `SERVERID=${name}|${Math.floor(Date.now() / 1000).toString(16)}; path=/`;
}

function cookieOf(req: Request, name: string): string | undefined {
  for (const part of (req.headers.get("cookie") ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** Gradio's `utils.diff`: the edits that turn `old` into `value`. */
export function diff(old: unknown, value: unknown): unknown[] {
  const edits: unknown[] = [];
  const walk = (a: unknown, b: unknown, path: (string | number)[]) => {
    if (JSON.stringify(a) === JSON.stringify(b)) return;
    const ta = a === null ? "null" : Array.isArray(a) ? "list" : typeof a;
    const tb = b === null ? "null" : Array.isArray(b) ? "list" : typeof b;
    if (ta !== tb) {
      edits.push(["replace", path, b]);
      return;
    }
    if (typeof a === "string" && (b as string).startsWith(a)) {
      edits.push(["append", path, (b as string).slice(a.length)]);
      return;
    }
    if (Array.isArray(a) && Array.isArray(b)) {
      const common = Math.min(a.length, b.length);
      for (let i = 0; i < common; i++) walk(a[i], b[i], [...path, i]);
      for (let i = a.length - 1; i >= common; i--) edits.push(["delete", [...path, i], null]);
      for (let i = common; i < b.length; i++) edits.push(["add", [...path, i], b[i]]);
      return;
    }
    if (ta === "object") {
      const oa = a as Record<string, unknown>;
      const ob = b as Record<string, unknown>;
      for (const k of Object.keys(oa)) {
        if (k in ob) walk(oa[k], ob[k], [...path, k]);
        else edits.push(["delete", [...path, k], null]);
      }
      for (const k of Object.keys(ob)) if (!(k in oa)) edits.push(["add", [...path, k], ob[k]]);
      return;
    }
    edits.push(["replace", path, b]);
  };
  walk(old, value, []);
  return edits;
}

// ---------------------------------------------------------------------------------------------
// The LMSYS arena ("Direct Chat" of FastChat's gradio web server)

/** FastChat's texts the arena shows in the chat instead of an answer. */
export const ARENA_TEXTS = {
  moderation: "$MODERATION$ YOUR INPUT VIOLATES OUR CONTENT MODERATION GUIDELINES.",
  rateLimit:
    "**RATE LIMIT OF THIS MODEL IS REACHED. PLEASE COME BACK LATER OR USE BATTLE MODE (the 1st tab).**",
  serverError: "**NETWORK ERROR DUE TO HIGH TRAFFIC. PLEASE REGENERATE OR REFRESH THIS PAGE.**",
};

/** Options of the fake arena. */
export interface FakeArenaOptions {
  /** `fn_index` of `add_text`; `bot_response` is `fn + 1` (two steps) or `fn + 2` (three). */
  fn?: number;
  /** Three-step flow (text as `{text, files}`, a no-input step between). Default true. */
  threeStep?: boolean;
  /** Models the arena serves. */
  models?: string[];
  /** What the model answers: pieces of the answer, streamed cumulatively. */
  answer?: (prompt: string, model: string, params: unknown[]) => string[];
  /** A prompt containing this word is flagged by moderation. */
  flagWord?: string;
  /** Models whose rate limit is reached. */
  limited?: string[];
  /** Extra gradio options (servers, cookies, delays...). */
  gradio?: Partial<FakeGradioOptions>;
}

const CURSOR_HTML = ' <span class="cursor"></span> ';

/** Starts a fake arena: `add_text` -> (three steps: a no-input step) -> `bot_response`. */
export async function startFakeArena(options: FakeArenaOptions = {}): Promise<FakeGradio> {
  const fn = options.fn ?? 49;
  const three = options.threeStep ?? true;
  const models = options.models ?? ["claude-3-5-sonnet-20240620", "gpt-4o-2024-05-13"];
  // By default the model repeats the last user turn of the prompt.
  const answer = options.answer ?? ((p: string) => {
    const last = [...p.matchAll(/<\|user\|>\n([\s\S]*?)\n<\|end\|>/g)].at(-1)?.[1] ?? p;
    return ["Hello", "Hello! You", `Hello! You said: ${last}`];
  });

  // add_text(state, model_selector, textbox[, image]) -> state, chatbot, textbox, buttons...
  const addText: FakeFn = (data, ctx) => {
    const [, model, input] = data;
    const text = three
      ? (input && typeof input === "object" ? (input as { text?: unknown }).text : undefined)
      : input;
    if (typeof text !== "string") {
      return Promise.reject(
        new Error(`textbox value must be ${three ? "{text, files}" : "a string"}`),
      );
    }
    if (typeof model !== "string") return Promise.reject(new Error("no model selected"));
    ctx.state.set("model", model);
    ctx.state.set("prompt", text);
    ctx.state.set("skip", false);
    let bot: string | null = null;
    if (options.flagWord && text.includes(options.flagWord)) {
      bot = ARENA_TEXTS.moderation;
      ctx.state.set("skip", true);
    }
    ctx.state.set("chatbot", [[text, bot]]);
    return Promise.resolve([{ model }, [[text, bot]], "", null, null, null, null, null]);
  };

  // bot_response(state, temperature, top_p, max_new_tokens) -> state, chatbot, buttons...
  const botResponse: FakeFn = async function* (data, ctx) {
    const model = ctx.state.get("model") as string | undefined;
    const prompt = ctx.state.get("prompt") as string | undefined;
    const btn = { __type__: "update", interactive: false };
    if (!model || prompt === undefined) throw new Error("no conversation: add_text first");
    const chatbot = structuredClone(ctx.state.get("chatbot")) as [string, string | null][];
    const last = chatbot[chatbot.length - 1];
    if (ctx.state.get("skip")) {
      yield [{ model }, chatbot, btn, btn, btn, btn, btn];
      return;
    }
    if (options.limited?.includes(model)) {
      last[1] = `${ARENA_TEXTS.rateLimit}\n\nUSER_DAILY_LIMIT (${model}): 5`;
      yield [{ model }, chatbot, btn, btn, btn, btn, btn];
      return;
    }
    if (!models.includes(model)) {
      last[1] = ARENA_TEXTS.serverError;
      yield [{ model }, chatbot, btn, btn, btn, btn, btn];
      return;
    }
    last[1] = CURSOR_HTML;
    yield [{ model }, structuredClone(chatbot), btn, btn, btn, btn, btn];
    const pieces = answer(prompt, model, data.slice(1));
    for (const p of pieces) {
      last[1] = p + "▌";
      yield [{ model }, structuredClone(chatbot), btn, btn, btn, btn, btn];
    }
    last[1] = pieces[pieces.length - 1] ?? "";
    const done = { __type__: "update", interactive: true };
    yield [{ model }, structuredClone(chatbot), done, done, done, done, done];
  };

  const fns: Record<number, FakeFn> = { [fn]: addText };
  const inputs: Record<number, number> = { [fn]: 4 };
  if (three) {
    // The second step only re-enables buttons; it takes no input.
    fns[fn + 1] = () => Promise.resolve([null, null, null, null, null]);
    inputs[fn + 1] = 0;
    fns[fn + 2] = botResponse;
    inputs[fn + 2] = 4;
  } else {
    fns[fn + 1] = botResponse;
    inputs[fn + 1] = 4;
  }
  return await startFakeGradio({ fns, inputs, ...options.gradio });
}
