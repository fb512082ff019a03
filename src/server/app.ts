/**
 * The HTTP application: routes and aliases of the interface contract, CORS, request ids, the
 * password gate, body limits and one access-log line per request.
 *
 * @module
 */
import { Hono } from "npm:hono@^4.13.19";
import type { Context } from "npm:hono@^4.13.19";
import { bodyLimit } from "npm:hono@^4.13.19/body-limit";
import { cors } from "npm:hono@^4.13.19/cors";
import { requestId } from "npm:hono@^4.13.19/request-id";
import type { ConfigStore } from "../config/mod.ts";
import { GatewayError, toGatewayError } from "../openai/errors.ts";
import type { PoolSet } from "../pool/mod.ts";
import { handleSocketIo } from "../providers/interpreter/bridge.ts";
import type { Logger } from "../util/log.ts";
import { requestId as newRequestId } from "../util/id.ts";
import { credentialOf, passwordMatches } from "./auth.ts";
import { handleChat } from "./chat.ts";
import { handleEmbeddings } from "./embeddings.ts";
import { handleFile, handleImages } from "./images.ts";
import { handleModels, handlePool, handleWelcome } from "./info.ts";
import { errorResponse } from "./writer.ts";

/** What the routes need from the running server. */
export interface AppDeps {
  store: ConfigStore;
  log: Logger;
  pools: PoolSet;
}

/** Per-request values shared by middleware and handlers. */
export type Vars = {
  requestId: string;
  /** The upstream credential (undefined when none, or when the password gate consumed it). */
  token: string | undefined;
  /** The model of the request, for the access log. */
  model: string | undefined;
  /** Set by handlers that write the access log themselves (streams end after the handler). */
  logDeferred: boolean;
  deps: AppDeps;
};

/** A Hono context with this server's variables. */
export type Ctx = Context<{ Variables: Vars }>;

const CHAT = ["/v1/chat/completions", "/v1/object/completions", "/proxies/v1/chat/completions"];
const IMAGES = [
  "/v1/images/generations",
  "/v1/chat/generations",
  "/v1/object/generations",
  "/proxies/v1/chat/generations",
  "/proxies/v1/images/generations",
];
const EMBEDDINGS = ["/v1/embeddings", "/proxies/v1/embeddings"];
const MODELS = ["/v1/models", "/proxies/v1/models"];

/** Writes the access-log line of a request: method, route, model, status, duration. */
export function accessLog(
  c: Ctx,
  status: number,
  started: number,
  note = "",
): void {
  const { log } = c.get("deps");
  const model = c.get("model");
  const ms = Math.round(performance.now() - started);
  const line = `${c.req.method} ${c.req.path}${model ? ` model=${model}` : ""} ${status} ${ms}ms${
    note ? ` ${note}` : ""
  }`;
  const l = log.child(`[${c.get("requestId")}]`);
  if (status >= 500) l.error(line);
  else if (status >= 400 && status !== 499) l.warn(line);
  else l.info(line);
}

function methodNotAllowed(allowed: string) {
  return (c: Ctx) => {
    const res = errorResponse(
      new GatewayError(
        405,
        `Method ${c.req.method} is not allowed on ${c.req.path}; use ${allowed}`,
        "invalid_request_error",
        "method_not_allowed",
      ),
    );
    res.headers.set("allow", allowed);
    return res;
  };
}

/** Builds the application. */
export function createApp(deps: AppDeps): Hono<{ Variables: Vars }> {
  const app = new Hono<{ Variables: Vars }>();

  app.use(requestId({ generator: () => newRequestId() }));
  app.use(async (c, next) => {
    c.set("deps", deps);
    c.set("logDeferred", false);
    const started = performance.now();
    try {
      await next();
    } finally {
      if (!c.get("logDeferred")) accessLog(c, c.res.status, started);
    }
  });
  app.use(cors({
    origin: "*",
    allowMethods: ["GET", "POST", "OPTIONS"],
    exposeHeaders: ["X-Request-Id"],
    maxAge: 86400,
  }));

  // The password gate: every route but /health, and never a preflight.
  app.use(async (c, next) => {
    const passwords = deps.store.current.server.password;
    const credential = credentialOf(c.req.raw.headers);
    if (passwords.length === 0 || c.req.path === "/health") {
      c.set("token", credential);
      return await next();
    }
    if (!passwordMatches(credential, passwords)) {
      return errorResponse(
        new GatewayError(
          401,
          credential === undefined
            ? "This server requires a password: send it as 'Authorization: Bearer <password>'"
            : "Incorrect password",
          "authentication_error",
          "invalid_api_key",
        ),
      );
    }
    // The password is not an upstream credential: pools in config serve this request.
    c.set("token", undefined);
    await next();
  });

  app.use(async (c, next) => {
    const mib = deps.store.current.server["body-limit"];
    return await bodyLimit({
      maxSize: Math.floor(mib * 1024 * 1024),
      onError: () =>
        errorResponse(
          new GatewayError(
            413,
            `Request body too large: the limit is ${mib} MiB (server.body-limit)`,
            "invalid_request_error",
            "request_too_large",
          ),
        ),
    })(c, next);
  });

  app.get("/health", (c) => c.json({ status: "ok" }));
  app.get("/", handleWelcome);
  for (const p of MODELS) app.get(p, handleModels);
  for (const p of CHAT) app.post(p, handleChat);
  for (const p of EMBEDDINGS) app.post(p, handleEmbeddings);
  for (const p of IMAGES) app.post(p, handleImages);
  for (const p of [...CHAT, ...EMBEDDINGS, ...IMAGES]) app.all(p, methodNotAllowed("POST"));
  for (const p of MODELS) app.all(p, methodNotAllowed("GET"));
  app.get("/v1/pool", handlePool);
  app.get("/file/*", handleFile);
  app.all("/socket.io/*", (c) => handleSocketIo(c.req.raw, c.get("deps")));

  app.notFound((c) =>
    errorResponse(
      new GatewayError(
        404,
        `Unknown route: ${c.req.method} ${c.req.path}`,
        "invalid_request_error",
        "unknown_url",
      ),
    )
  );
  app.onError((err, c) => {
    const e = toGatewayError(err);
    if (e.status >= 500) deps.log.error(`[${c.get("requestId")}] ${e.message}`);
    return errorResponse(e);
  });
  return app;
}
