/**
 * arena.ai's model list (reference section 4): `GET /?mode=direct` is a Next.js page whose flight
 * data (`self.__next_f.push([1, "<chunk>"])` scripts, one text split over several pushes) holds an
 * `initialModels` array of `{id, publicName, capabilities: {inputCapabilities,
 * outputCapabilities}}`. Clients name models by `publicName`; the API takes the `id`.
 *
 * The list is read once and kept per provider instance (`ModelList`); chat models are the ones
 * whose outputs include text. Model ids are `arena/<publicName>` (`lmsys/<publicName>` too, the
 * 2024 prefix), matched case-insensitively.
 *
 * @module
 */

/** One model of the arena. */
export interface ArenaModel {
  id: string;
  publicName: string;
  /** True when it answers with text (a chat model). */
  text: boolean;
  /** True when it takes images. */
  vision: boolean;
}

/** The prefixes model ids carry: the current one first. */
export const PREFIXES = ["arena/", "lmsys/"] as const;

/** The arena model name in a client's model id, or undefined when it is not an arena id. */
export function arenaName(model: string): string | undefined {
  for (const p of PREFIXES) {
    if (model.startsWith(p) && model.length > p.length) return model.slice(p.length);
  }
  return undefined;
}

/** The flight text of a Next.js page: every `self.__next_f.push([1, "..."])` chunk, joined. */
export function flightText(html: string): string {
  const parts: string[] = [];
  const re = /self\.__next_f\.push\((\[[\s\S]*?\])\)\s*;?\s*<\/script>/g;
  for (const m of html.matchAll(re)) {
    try {
      const v = JSON.parse(m[1]);
      if (Array.isArray(v) && v[0] === 1 && typeof v[1] === "string") parts.push(v[1]);
    } catch {
      // Not a flight chunk (another push form); skip it.
    }
  }
  return parts.join("");
}

/** The end (exclusive) of the JSON array or object starting at `start`, or -1. */
function jsonEnd(text: string, start: number): number {
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === "[" || c === "{") depth++;
    else if (c === "]" || c === "}") {
      if (--depth === 0) return i + 1;
    }
  }
  return -1;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === "object" && !Array.isArray(v);
}

/**
 * The models of a flight text (or of any text holding `"initialModels":[...]`); undefined when
 * there is no such array.
 */
export function parseInitialModels(text: string): ArenaModel[] | undefined {
  const key = text.indexOf('"initialModels":');
  if (key < 0) return undefined;
  const start = text.indexOf("[", key);
  const end = start < 0 ? -1 : jsonEnd(text, start);
  if (end < 0) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(text.slice(start, end));
  } catch {
    return undefined;
  }
  if (!Array.isArray(raw)) return undefined;
  const out: ArenaModel[] = [];
  for (const m of raw) {
    if (!isObject(m) || typeof m.id !== "string" || typeof m.publicName !== "string") continue;
    const caps = isObject(m.capabilities) ? m.capabilities : {};
    const output = isObject(caps.outputCapabilities) ? caps.outputCapabilities : {};
    const input = isObject(caps.inputCapabilities) ? caps.inputCapabilities : {};
    out.push({ id: m.id, publicName: m.publicName, text: !!output.text, vision: !!input.image });
  }
  return out;
}

/** The chat model named `name` (case-insensitive `publicName`). */
export function findModel(models: readonly ArenaModel[], name: string): ArenaModel | undefined {
  const wanted = name.toLowerCase();
  return models.find((m) => m.text && m.publicName.toLowerCase() === wanted);
}

/** How long a model list is kept before the page is read again. */
const LIST_TTL_MS = 30 * 60_000;

/** The model lists of one provider instance, by site; concurrent loads of one site share one. */
export class ModelList {
  #kept = new Map<string, { models: ArenaModel[]; at: number }>();
  #loading = new Map<string, Promise<ArenaModel[]>>();

  /** The kept list of `site`, if it is fresh. */
  cached(site: string): ArenaModel[] | undefined {
    const hit = this.#kept.get(site);
    return hit && Date.now() - hit.at < LIST_TTL_MS ? hit.models : undefined;
  }

  /** The list of `site`: the kept one, or `load()`'s (kept when it has models). */
  async get(site: string, load: () => Promise<ArenaModel[]>): Promise<ArenaModel[]> {
    const hit = this.cached(site);
    if (hit) return hit;
    let run = this.#loading.get(site);
    if (!run) {
      run = load().then((models) => {
        this.#kept.set(site, { models, at: Date.now() });
        return models;
      }).finally(() => this.#loading.delete(site));
      this.#loading.set(site, run);
    }
    return await run;
  }
}
