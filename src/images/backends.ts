/**
 * Which image backends serve a request, in the order they are tried.
 *
 * - Model `dall-e-3` (or `dall-e-2`): the `Authorization` value picks one backend as in the
 *   original (`sk-<name>` for a space: `sk-dalle-4k`, `sk-animagine-xl-3.1`, ...; a Pollinations
 *   key `sk_…`/`pk_…`; a playground session token; a coze cookie); anything else tries the
 *   backends in order: `images.default-backend` first, then `images.order`, else the spaces in
 *   their listed order with Pollinations last (first when it has a key).
 * - Model `<name>.dall-e-3` names the backend, whatever the key; `pollinations/<model>` names a
 *   Pollinations model.
 *
 * Names of retired backends (`prodia-sd`, `sd`, `prodia-xl`, `xl`) map to their successors with a
 * notice; short names (`4k`, `google`, `pg`, ...) are aliases.
 *
 * @module
 */
import { IMAGE_ALIASES, OTHER_BACKENDS, RETIRED_IMAGE_NAMES } from "../config/image_spaces.ts";
import type { Config, SpaceConfig } from "../config/schema.ts";
import { GatewayError } from "../openai/errors.ts";
import { isCozeCookie, isPlaygroundToken, isPollinationsKey } from "./credentials.ts";
import { readyBackends } from "./readiness.ts";

/** One backend to try, with the client's credential for it when it sent one. */
export type Backend =
  | { kind: "space"; name: string; space: SpaceConfig }
  | { kind: "pollinations"; name: "pollinations"; model?: string; credential?: string }
  | { kind: "playground"; name: "playground"; credential?: string }
  | { kind: "coze"; name: "coze"; credential?: string };

/** The backends of a request, in order, and notices about retired names it used. */
export interface Plan {
  backends: Backend[];
  /** True when the request named its backend (then it is the only one tried). */
  explicit: boolean;
  notices: string[];
}

/** Today's name of a backend name (aliases, retired names with a notice), or undefined. */
export function resolveName(
  name: string,
  config: Config,
): { name: string; notice?: string } | undefined {
  const n = name.toLowerCase();
  const known = (x: string) =>
    config.images.spaces.some((s) => s.name.toLowerCase() === x) || OTHER_BACKENDS.includes(x);
  const spaceName = (x: string) =>
    config.images.spaces.find((s) => s.name.toLowerCase() === x)?.name ?? x;
  if (known(n)) return { name: spaceName(n) };
  const alias = IMAGE_ALIASES[n];
  if (alias && known(alias)) return { name: spaceName(alias) };
  const retired = RETIRED_IMAGE_NAMES[n];
  if (retired && known(retired.to)) {
    return {
      name: spaceName(retired.to),
      notice: `images: '${name}' is retired (${retired.why}); it now draws on '${retired.to}'`,
    };
  }
  return undefined;
}

/** The backend of a (resolved) name, or a 404 when it is turned off. */
function backendOf(name: string, config: Config, credential?: string): Backend {
  if (name === "pollinations") return { kind: "pollinations", name, credential };
  if (name === "coze") return { kind: "coze", name, credential };
  if (name === "playground") {
    if (!config.images.playground.enabled) {
      throw turnedOff("playground", "images.playground.enabled");
    }
    return { kind: "playground", name, credential };
  }
  const space = config.images.spaces.find((s) => s.name === name)!;
  if (!space.enabled) throw turnedOff(name, `images.spaces '${name}' enabled`);
  return { kind: "space", name, space };
}

function turnedOff(name: string, key: string): GatewayError {
  return new GatewayError(
    404,
    `The image backend '${name}' is turned off on this server (${key}: false)`,
    "invalid_request_error",
    "model_not_found",
    "model",
  );
}

/**
 * The names `dall-e-3` tries when the request names no backend: only backends that can draw with
 * the configuration (`readiness.ts`), so that none is tried only to fail for want of a setting.
 */
export function defaultOrder(config: Config): string[] {
  const c = config.images;
  const ready = readyBackends(config);
  const enabled = c.spaces.filter((s) => s.enabled).map((s) => s.name);
  const pollinations = c.pollinations.key || c.pollinations["legacy-url"] ? ["pollinations"] : [];
  const base = c.order ??
    (c.pollinations.key ? [...pollinations, ...enabled] : [...enabled, ...pollinations]);
  const first = c["default-backend"] ? [c["default-backend"]] : [];
  const out: string[] = [];
  for (const n of [...first, ...base]) {
    const name = resolveName(n, config)?.name;
    if (!name || out.includes(name) || !ready.has(name)) continue;
    out.push(name);
  }
  return out;
}

/**
 * The image model ids that can answer: `<backend>.dall-e-3` of every backend ready with the
 * configuration (or with the request's own `credential`), and `dall-e-3` when it has a backend
 * to try.
 */
export function imageModelIds(config: Config, credential?: string): string[] {
  const ready = readyBackends(config, credential);
  let chosen: string | undefined;
  try {
    const plan = credential ? selectBackends("dall-e-3", credential, config) : undefined;
    if (plan?.explicit) chosen = plan.backends[0].name;
  } catch {
    // The credential names a backend that is turned off: it serves nothing.
  }
  const dalle = defaultOrder(config).length > 0 || (chosen !== undefined && ready.has(chosen));
  return [...(dalle ? ["dall-e-3"] : []), ...[...ready].map((n) => `${n}.dall-e-3`)];
}

/**
 * The backends of a request, or undefined when the model is no image model. A named backend that
 * is turned off is a 404.
 */
export function selectBackends(
  model: string,
  token: string | undefined,
  config: Config,
): Plan | undefined {
  const t = token?.trim();
  const credentialFor = (name: string) => {
    if (!t) return undefined;
    if (name === "playground" && isPlaygroundToken(t)) return t;
    if (name === "coze" && isCozeCookie(t)) return t;
    if (name === "pollinations" && isPollinationsKey(t)) return t;
    return undefined;
  };
  const one = (name: string, notice?: string): Plan => ({
    backends: [backendOf(name, config, credentialFor(name))],
    explicit: true,
    notices: notice ? [notice] : [],
  });
  if (model.startsWith("pollinations/") && model.length > "pollinations/".length) {
    return {
      backends: [{
        kind: "pollinations",
        name: "pollinations",
        model: model.slice("pollinations/".length),
        credential: credentialFor("pollinations"),
      }],
      explicit: true,
      notices: [],
    };
  }
  const dot = model.lastIndexOf(".dall-e-");
  if (dot > 0) {
    if (!/^dall-e-[23]$/.test(model.slice(dot + 1))) return undefined;
    const resolved = resolveName(model.slice(0, dot), config);
    return resolved ? one(resolved.name, resolved.notice) : undefined;
  }
  if (model !== "dall-e-3" && model !== "dall-e-2") return undefined;
  if (t) {
    if (/^sk-/i.test(t)) {
      const resolved = resolveName(t.slice(3), config);
      if (resolved) return one(resolved.name, resolved.notice);
    }
    if (isPollinationsKey(t)) return one("pollinations");
    if (isPlaygroundToken(t) && config.images.playground.enabled) return one("playground");
    if (isCozeCookie(t)) return one("coze");
  }
  return {
    backends: defaultOrder(config).map((n) => backendOf(n, config)),
    explicit: false,
    notices: [],
  };
}
