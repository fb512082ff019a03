/**
 * Which image backend serves a request. Model `dall-e-3` (or `dall-e-2`) picks it from the
 * `Authorization` value as the original did: `sk-prodia-sd`, `sk-prodia-xl`, `sk-dalle-4k`,
 * `sk-dalle-3-xl`, `sk-animagine-xl-3.1`, `sk-google-xl`, a playground session token, a coze
 * cookie; anything else gets `images.default-backend` or a random gradio space (every one of the
 * six, unlike the original's off-by-one). Model `<backend>.dall-e-3` names the backend.
 *
 * @module
 */
import type { Config, IMAGE_BACKENDS } from "../config/schema.ts";

/** An image backend. */
export type BackendId = typeof IMAGE_BACKENDS[number];

/** The gradio spaces (no credential needed). */
export const SPACES: readonly BackendId[] = [
  "prodia-sd",
  "prodia-xl",
  "dalle-4k",
  "dalle-3-xl",
  "animagine-xl",
  "google-xl",
];

/** The selector tokens of the original. */
const SELECTORS: Record<string, BackendId> = {
  "sk-prodia-sd": "prodia-sd",
  "sk-prodia-xl": "prodia-xl",
  "sk-dalle-4k": "dalle-4k",
  "sk-dalle-3-xl": "dalle-3-xl",
  "sk-animagine-xl-3.1": "animagine-xl",
  "sk-google-xl": "google-xl",
};

/** Names accepted before `.dall-e-3` in a model id. */
const ALIASES: Record<string, BackendId> = {
  sd: "prodia-sd",
  "prodia-sd": "prodia-sd",
  xl: "prodia-xl",
  "prodia-xl": "prodia-xl",
  "dalle-4k": "dalle-4k",
  "4k": "dalle-4k",
  "dalle-3-xl": "dalle-3-xl",
  "3-xl": "dalle-3-xl",
  animagine: "animagine-xl",
  "animagine-xl": "animagine-xl",
  "animagine-xl-3.1": "animagine-xl",
  google: "google-xl",
  "google-xl": "google-xl",
  pg: "playground",
  playground: "playground",
  coze: "coze",
};

/** A playground.com session token (the value of `__Secure-next-auth.session-token`). */
const PLAYGROUND_TOKEN =
  /^(__Secure-next-auth\.session-token=)?\w{8,10}-\w{4}-\w{4}-\w{4}-\w{10,15}$/;

/** True for a coze.com cookie string. */
export function isCozeCookie(token: string): boolean {
  return /(^|[;\s])(sessionid|msToken)=/.test(token);
}

/** True for a playground session token. */
export function isPlaygroundToken(token: string): boolean {
  return PLAYGROUND_TOKEN.test(token.trim());
}

/** The backend chosen, and the client's credential for it when it sent one. */
export interface Selection {
  backend: BackendId;
  credential?: string;
}

/** Every model id the image route accepts, for messages. */
export function imageModelIds(): string[] {
  return ["dall-e-3", ...Object.keys(ALIASES).map((a) => `${a}.dall-e-3`)];
}

/** The backend of a request, or undefined when the model is no image model. */
export function selectBackend(
  model: string,
  token: string | undefined,
  config: Config,
  random: () => number = Math.random,
): Selection | undefined {
  const t = token?.trim();
  const credentialFor = (backend: BackendId) => {
    if (!t) return undefined;
    if (backend === "playground" && isPlaygroundToken(t)) return t;
    if (backend === "coze" && isCozeCookie(t)) return t;
    return undefined;
  };
  const dot = model.lastIndexOf(".dall-e-");
  if (dot > 0) {
    const backend = ALIASES[model.slice(0, dot).toLowerCase()];
    if (!backend || !/^dall-e-[23]$/.test(model.slice(dot + 1))) return undefined;
    return { backend, credential: credentialFor(backend) };
  }
  if (model !== "dall-e-3" && model !== "dall-e-2") return undefined;
  if (t) {
    const chosen = SELECTORS[t];
    if (chosen) return { backend: chosen };
    if (isPlaygroundToken(t)) return { backend: "playground", credential: t };
    if (isCozeCookie(t)) return { backend: "coze", credential: t };
  }
  const fallback = config.images["default-backend"];
  if (fallback) return { backend: fallback, credential: credentialFor(fallback) };
  return { backend: SPACES[Math.floor(random() * SPACES.length)] };
}
