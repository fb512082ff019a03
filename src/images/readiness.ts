/**
 * Which image backends can draw with the configuration (or with a request's own credential), and
 * what each lacks: what `/v1/models` lists as image models, which backends `dall-e-3` tries, and
 * the welcome page's image section.
 *
 * @module
 */
import type { Config } from "../config/schema.ts";
import { cozeReadiness } from "../providers/coze/readiness.ts";
import { isPlaygroundToken, isPollinationsKey } from "./credentials.ts";

/** One backend's state. */
export interface BackendState {
  name: string;
  ready: boolean;
  /** What serves (when ready) or what to set (when not). Never a secret. */
  note: string;
}

/** Every backend in the order of the config (spaces, then Pollinations, playground, coze). */
export function backendStates(config: Config, credential?: string): BackendState[] {
  const c = config.images;
  const token = credential?.trim();
  const spaces = c.spaces.map((s): BackendState =>
    s.enabled
      ? {
        name: s.name,
        ready: true,
        note: `${s.root}${s.token || c["hf-token"] ? " (Hugging Face token)" : ""}`,
      }
      : { name: s.name, ready: false, note: `off (images.spaces '${s.name}' enabled: false)` }
  );
  return [
    ...spaces,
    pollinations(config, token),
    playground(config, token),
    coze(config, token),
  ];
}

/** Backends that can draw, by name. */
export function readyBackends(config: Config, credential?: string): Set<string> {
  return new Set(backendStates(config, credential).filter((b) => b.ready).map((b) => b.name));
}

function pollinations(config: Config, token: string | undefined): BackendState {
  const p = config.images.pollinations;
  const name = "pollinations";
  if (p.key) return { name, ready: true, note: "the keyed gateway (images.pollinations.key)" };
  if (token && isPollinationsKey(token)) {
    return { name, ready: true, note: "the keyed gateway with the request's own key" };
  }
  if (p["legacy-url"]) {
    return {
      name,
      ready: true,
      note: `anonymous at ${p["legacy-url"]} (best effort); images.pollinations.key uses the ` +
        "keyed gateway",
    };
  }
  return {
    name,
    ready: false,
    note: "set images.pollinations.key (a sk_… or pk_… key from enter.pollinations.ai)",
  };
}

function playground(config: Config, token: string | undefined): BackendState {
  const p = config.images.playground;
  const name = "playground";
  if (!p.enabled) return { name, ready: false, note: "off (images.playground.enabled: false)" };
  const n = p.tokens.length;
  if (n > 0) {
    return {
      name,
      ready: true,
      note: `${n} session token${n === 1 ? "" : "s"} (images.playground.tokens)`,
    };
  }
  if (token && isPlaygroundToken(token)) {
    return { name, ready: true, note: "the request's own session token" };
  }
  return {
    name,
    ready: false,
    note: "set images.playground.tokens (playground.com session tokens)",
  };
}

function coze(config: Config, token: string | undefined): BackendState {
  const name = "coze";
  const bot = config.coze.images;
  // The provider judges the request's credential by its mode (a pat_… token, or a cookie).
  const provider = cozeReadiness(config, { credential: token });
  if (bot && provider.ready) {
    return { name, ready: true, note: `the coze.images bot (${provider.note})` };
  }
  const needs = [
    ...(bot ? [] : ["coze.images (bot-id of a bot that paints)"]),
    ...(provider.ready ? [] : [`the coze provider: ${provider.note}`]),
  ];
  return { name, ready: false, note: `set ${needs.join("; and ")}` };
}
