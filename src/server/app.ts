/**
 * The HTTP application: routes and aliases of the interface contract, CORS, request ids, the
 * password gate, body limits and one access-log line per request.
 *
 * @module
 */
import { Hono } from "npm:hono@^4.13.19";
import { bodyLimit } from "npm:hono@^4.13.19/body-limit";
import { cors } from "npm:hono@^4.13.19/cors";
import { requestId } from "npm:hono@^4.13.19/request-id";
import { GatewayError, logDetail, toGatewayError } from "../openai/errors.ts";
import { requestId as newRequestId } from "../util/id.ts";
import { loadTokenizer } from "../util/tokens.ts";
import { credentialOf, passwordMatches } from "./auth.ts";
import { handleChat } from "./chat.ts";
import { handleEmbeddings } from "./embeddings.ts";
import { handleFile, handleImages } from "./images.ts";
import { handleModels, handlePool, handleWelcome } from "./info.ts";
import {
  handleCreateResponse,
  handleDeleteResponse,
  handleGetResponse,
  handleInputItems,
} from "./responses.ts";
import { accessLog } from "./access_log.ts";
import type { AppDeps, Ctx, Vars } from "./types.ts";
import { errorFor } from "./errors.ts";
import { handleCountTokens, handleMessages } from "./messages.ts";

export type { AppDeps, Ctx, Vars } from "./types.ts";

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
const MESSAGES = ["/v1/messages", "/anthropic/v1/messages"];
const COUNT_TOKENS = ["/v1/messages/count_tokens", "/anthropic/v1/messages/count_tokens"];

function methodNotAllowed(allowed: string) {
  return (c: Ctx) =>
    errorFor(
      c,
      new GatewayError(
        405,
        `Method ${c.req.method} is not allowed on ${c.req.path}; use ${allowed}`,
        "invalid_request_error",
        "method_not_allowed",
      ),
      { allow: allowed },
    );
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
    allowMethods: ["GET", "POST", "DELETE", "OPTIONS"],
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
      return errorFor(
        c,
        new GatewayError(
          401,
          credential === undefined
            ? "This server requires a password: send it as 'Authorization: Bearer <password>' or 'x-api-key: <password>'"
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
      onError: (c) =>
        errorFor(
          c,
          new GatewayError(
            413,
            `Request body too large: the limit is ${mib} MiB (server.body-limit)`,
            "invalid_request_error",
            "request_too_large",
          ),
        ),
    })(c, next);
  });

  // Requests that may count tokens load the tokenizer first (once; an idle server never does).
  app.use(async (c, next) => {
    if (c.req.method === "POST") await loadTokenizer();
    await next();
  });

  app.get("/health", (c) => c.json({ status: "ok" }));
  app.get("/", handleWelcome);
  for (const p of MODELS) app.get(p, handleModels);
  for (const p of CHAT) app.post(p, handleChat);
  for (const p of EMBEDDINGS) app.post(p, handleEmbeddings);
  for (const p of IMAGES) app.post(p, handleImages);
  for (const p of MESSAGES) app.post(p, handleMessages);
  for (const p of COUNT_TOKENS) app.post(p, handleCountTokens);
  for (const p of [...CHAT, ...EMBEDDINGS, ...IMAGES, ...MESSAGES, ...COUNT_TOKENS]) {
    app.all(p, methodNotAllowed("POST"));
  }
  for (const p of MODELS) app.all(p, methodNotAllowed("GET"));
  app.post("/v1/responses", handleCreateResponse);
  app.all("/v1/responses", methodNotAllowed("POST"));
  app.get("/v1/responses/:id", handleGetResponse);
  app.delete("/v1/responses/:id", handleDeleteResponse);
  // Other methods on /v1/responses/{x} (`POST /v1/responses/compact`, ...) are unknown routes.
  app.get("/v1/responses/:id/input_items", handleInputItems);
  app.get("/v1/pool", handlePool);
  app.get("/file/*", handleFile);
  // Routes providers serve besides the API (e.g. a socket an upstream connects to).
  for (const route of deps.registry.routes()) {
    app.all(route.path, (c) => route.handle(c.req.raw, deps.store.current));
  }

  app.notFound((c) =>
    errorFor(
      c,
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
    if (e.status >= 500) deps.log.error(`[${c.get("requestId")}] ${logDetail(e)}`);
    return errorFor(c, e);
  });
  return app;
}
