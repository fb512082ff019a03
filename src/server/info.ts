/**
 * Informational routes: the welcome page, `/v1/models` and `/v1/pool`.
 *
 * @module
 */
import { upstreamFactory } from "../net/http.ts";
import { GatewayError } from "../openai/errors.ts";
import { imageModelIds } from "../images/backends.ts";
import { NAME, VERSION } from "../version.ts";
import type { Ctx } from "./types.ts";

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
    ...imageModelIds().map((id) => ({ id, owned_by: "images", created: undefined })),
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
  const rows = registry.providers.map((p) => `<li><code>${escapeHtml(p.id)}</code></li>`).join("");
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
