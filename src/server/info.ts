/**
 * Informational routes: the welcome page, `/v1/models` and `/v1/pool`.
 *
 * @module
 */
import { upstreamFactory } from "../net/http.ts";
import { GatewayError } from "../openai/errors.ts";
import { backendStates, defaultOrder, imageModelIds } from "../images/mod.ts";
import type { ListContext, ModelInfo } from "../providers/types.ts";
import { redact } from "../util/mask.ts";
import { NAME, VERSION } from "../version.ts";
import type { Config } from "../config/schema.ts";
import type { Registry } from "../providers/registry.ts";
import type { Ctx } from "./types.ts";

/** One line per provider (ready, or what it lacks), and the image backends (start-up log, `--check`). */
export async function readinessLines(registry: Registry, config: Config): Promise<string[]> {
  const providers = (await registry.readiness(config)).map(({ id, readiness }) =>
    redact(
      `provider ${id}: ${readiness.ready ? "ready" : "not ready"}${
        readiness.note ? ` (${readiness.note})` : ""
      }`,
    )
  );
  return [...providers, redact(imagesLine(config))];
}

/** Which backends `dall-e-3` tries, in order, or that it has none. */
function imagesLine(config: Config): string {
  const order = defaultOrder(config);
  return order.length > 0
    ? `images: dall-e-3 tries ${order.join(", ")}`
    : "images: dall-e-3 has no backend that can draw (see the welcome page or docs/images.md)";
}

/**
 * A warning when accounts in config would serve anyone who reaches the port: listening on every
 * interface with pools configured and no `server.password`.
 */
export async function exposureWarning(
  registry: Registry,
  config: Config,
): Promise<string | undefined> {
  const host = config.server.host;
  const local = host === "127.0.0.1" || host === "localhost" || host === "::1";
  if (local || config.server.password.length > 0) return undefined;
  const pooled = (await registry.readiness(config)).filter((r) => r.readiness.pooled).map((r) =>
    r.id
  );
  if (pooled.length === 0) return undefined;
  return `listening on ${host} without server.password while ${
    pooled.join(", ")
  } serve requests with the accounts in config: anyone who can reach this port can use them ` +
    "(set server.password, or --host 127.0.0.1)";
}

/** A fixed `created` for listed models (the models' own dates are not known). */
const CREATED = 1_700_000_000;

/**
 * The models that can answer (`/v1/models` and `--models`): those of every ready provider, those
 * of providers the request's own `credential` serves, and the image models of backends that can
 * draw.
 */
export async function listModels(
  registry: Registry,
  config: Config,
  ctx: ListContext,
): Promise<ModelInfo[]> {
  return [
    ...await registry.models(config, ctx),
    ...imageModelIds(config, ctx.credential).map((id) => ({ id, owned_by: "images" })),
  ];
}

/** `GET /v1/models`: the models that can answer, with this request's credential. */
export async function handleModels(c: Ctx): Promise<Response> {
  const deps = c.get("deps");
  const config = deps.store.current;
  const signal = c.req.raw.signal;
  const models = await listModels(deps.registry, config, {
    signal,
    upstream: upstreamFactory(config, signal, deps.clients),
    credential: c.get("token"),
  });
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

/** `GET /`: a small page with the version, each provider's readiness and the image backends. */
export async function handleWelcome(c: Ctx): Promise<Response> {
  const { store, registry } = c.get("deps");
  const config = store.current;
  const state = (ready: boolean, note: string | undefined) =>
    `${ready ? "ready" : "not ready"}${note ? ` — ${escapeHtml(redact(note))}` : ""}`;
  const rows = (await registry.readiness(config)).map(({ id, readiness }) =>
    `<li><code>${escapeHtml(id)}</code>: ${state(readiness.ready, readiness.note)}</li>`
  ).join("");
  const custom = config["custom-llm"]
    .map((e) =>
      `<li><code>${escapeHtml(e.prefix)}/…</code> → ${escapeHtml(redact(e["base-url"]))}</li>`
    )
    .join("");
  const order = defaultOrder(config);
  const backends = backendStates(config).map((b) =>
    `<li><code>${escapeHtml(b.name)}</code>: ${state(b.ready, b.note)}</li>`
  ).join("");
  const tries = order.length > 0
    ? `<code>dall-e-3</code> tries, in order: ${
      order.map((n) => `<code>${escapeHtml(n)}</code>`).join(", ")
    }.`
    : "<code>dall-e-3</code> has no backend that can draw.";
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
<h2>Images</h2><p>${tries}</p><ul>${backends}</ul>
<p>Models: <a href="/v1/models">/v1/models</a> · Health: <a href="/health">/health</a></p>
</body></html>`);
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}
