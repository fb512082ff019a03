/**
 * Informational routes: the welcome page, `/v1/models` and `/v1/pool`.
 *
 * @module
 */
import { upstreamFactory } from "../net/http.ts";
import { GatewayError } from "../openai/errors.ts";
import { imageModelIds } from "../images/mod.ts";
import { NAME, VERSION } from "../version.ts";
import type { Config } from "../config/schema.ts";
import type { Registry } from "../providers/registry.ts";
import type { Ctx } from "./types.ts";

/** One line per provider: ready, or what it lacks (the start-up log, `--check`). */
export function readinessLines(registry: Registry, config: Config): string[] {
  return registry.readiness(config).map(({ id, readiness }) =>
    `provider ${id}: ${readiness.ready ? "ready" : "not ready"}${
      readiness.note ? ` (${readiness.note})` : ""
    }`
  );
}

/**
 * A warning when accounts in config would serve anyone who reaches the port: listening on every
 * interface with pools configured and no `server.password`.
 */
export function exposureWarning(registry: Registry, config: Config): string | undefined {
  const host = config.server.host;
  const local = host === "127.0.0.1" || host === "localhost" || host === "::1";
  if (local || config.server.password.length > 0) return undefined;
  const pooled = registry.readiness(config).filter((r) => r.readiness.pooled).map((r) => r.id);
  if (pooled.length === 0) return undefined;
  return `listening on ${host} without server.password while ${
    pooled.join(", ")
  } serve requests with the accounts in config: anyone who can reach this port can use them ` +
    "(set server.password, or --host 127.0.0.1)";
}

/** A fixed `created` for listed models (the models' own dates are not known). */
const CREATED = 1_700_000_000;

/** `GET /v1/models`: every configured provider's models. */
export async function handleModels(c: Ctx): Promise<Response> {
  const deps = c.get("deps");
  const config = deps.store.current;
  const signal = c.req.raw.signal;
  const models = [
    ...await deps.registry.models(config, {
      signal,
      upstream: upstreamFactory(config, signal, deps.clients),
    }),
    ...imageModelIds(config).map((id) => ({ id, owned_by: "images", created: undefined })),
  ];
  return c.json({
    object: "list",
    data: models.map((m) => ({
      id: m.id,
      object: "model",
      created: m.created ?? CREATED,
      owned_by: m.owned_by,
    })),
  });
}

/**
 * `GET /v1/pool`: the state of every account and key pool, secrets masked. It tells which
 * accounts exist and how they fail, so it needs the password: with none set it answers 403 unless
 * `server.public-pool` publishes it.
 */
export function handlePool(c: Ctx): Response {
  const deps = c.get("deps");
  const server = deps.store.current.server;
  if (server.password.length === 0 && !server["public-pool"]) {
    throw new GatewayError(
      403,
      "/v1/pool needs server.password to be set (or server.public-pool: true to show it to anyone)",
      "permission_error",
      "pool_needs_password",
    );
  }
  return c.json({
    object: "list",
    data: [...deps.registry.pools(), ...deps.images.pools.state()],
  });
}

/** `GET /`: a small page with the version and the configured providers. */
export function handleWelcome(c: Ctx): Response {
  const { store, registry } = c.get("deps");
  const config = store.current;
  const rows = registry.readiness(config).map(({ id, readiness }) =>
    `<li><code>${escapeHtml(id)}</code>: ${readiness.ready ? "ready" : "not ready"}${
      readiness.note ? ` — ${escapeHtml(readiness.note)}` : ""
    }</li>`
  ).join("");
  const custom = config["custom-llm"]
    .map((e) => `<li><code>${escapeHtml(e.prefix)}/…</code> → ${escapeHtml(e["base-url"])}</li>`)
    .join("");
  return c.html(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${NAME} ${VERSION}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:44rem;margin:3rem auto;padding:0 1rem}</style>
</head><body>
<h1>${NAME} <small>${VERSION}</small></h1>
<p>An OpenAI-compatible gateway. Point your client's base URL at <code>${
    escapeHtml(new URL(c.req.url).origin)
  }/v1</code>.</p>
<h2>Providers</h2><ul>${rows}</ul>
${custom ? `<h2>Custom upstreams</h2><ul>${custom}</ul>` : ""}
<p>Models: <a href="/v1/models">/v1/models</a> · Health: <a href="/health">/health</a></p>
</body></html>`);
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}
