/**
 * The image keys of older configurations, rewritten into `images.*`:
 *
 * - the original's `hf.<space>` blocks (`base-url` / `baseUrl` / `reversal`, `fn`, `data` with
 *   its placeholders; or just a root URL) become `images.spaces` entries (the built-in entry of
 *   that name gets the values, another name a new entry); `hf.rmbg` is ignored;
 * - the original's top-level `llm`, `magnify` and `domain` (the public base of image URLs)
 *   become `images.llm`, `images.magnify` and `server.domain`;
 * - this gateway's 2024 per-backend keys `images.<space>.{base-url, fn, proxies}` apply to the
 *   `images.spaces` entry of that name; the prodia spaces are gone, so their keys are ignored
 *   unless they name a root of one's own (a mirror keeps working);
 * - `images.default-backend` values of retired backends map to their successors;
 * - a configured playground that is not explicitly enabled gets a notice (it is off by default).
 *
 * @module
 */
import {
  DEFAULT_SPACES,
  IMAGE_ALIASES,
  OTHER_BACKENDS,
  RETIRED_IMAGE_NAMES,
  RETIRED_SPACES,
} from "./image_spaces.ts";
import { isObject, type LegacyWarn } from "./legacy.ts";

type RawObject = Record<string, unknown>;

/** The gradio backends of this gateway's 2024 configuration (`images.<name>`). */
const OLD_SPACE_KEYS = [
  "prodia-sd",
  "prodia-xl",
  "dalle-4k",
  "dalle-3-xl",
  "animagine-xl",
  "google-xl",
] as const;

/** What an old key says about a space. */
interface SpacePatch {
  root?: unknown;
  fn?: unknown;
  data?: unknown;
  proxies?: unknown;
}

/** Rewrites the legacy image keys of `raw` in place. */
export function migrateImageKeys(raw: RawObject, warn: LegacyWarn): void {
  if (raw.domain !== undefined) {
    const domain = raw.domain;
    delete raw.domain;
    if (raw.server === undefined) raw.server = {};
    if (!isObject(raw.server) || raw.server.domain !== undefined) {
      warn(["domain"], "'domain' ignored: 'server.domain' (its successor) is set");
    } else {
      raw.server.domain = domain;
      warn(["domain"], "'domain' is now 'server.domain' (the base of stored image URLs); applied");
    }
  }
  const hasOld = raw.hf !== undefined || raw.llm !== undefined || raw.magnify !== undefined ||
    (isObject(raw.images) &&
      OLD_SPACE_KEYS.some((k) => (raw.images as RawObject)[k] !== undefined));
  if (raw.images === undefined && !hasOld) return;
  if (raw.images === undefined) raw.images = {};
  if (!isObject(raw.images)) return;
  const images = raw.images;
  const spaces = (): RawObject[] => {
    if (!Array.isArray(images.spaces)) images.spaces = structuredClone(DEFAULT_SPACES);
    return images.spaces as RawObject[];
  };

  for (const key of OLD_SPACE_KEYS) {
    const old = images[key];
    if (old === undefined) continue;
    delete images[key];
    const label = `'images.${key}'`;
    if (!isObject(old)) {
      warn(["images", key], `${label} ignored: not a mapping`);
      continue;
    }
    applySpace(key, { root: old["base-url"], fn: old.fn, proxies: old.proxies }, label, spaces, {
      path: ["images", key],
      warn,
    });
  }

  if (raw.hf !== undefined) {
    const hf = raw.hf;
    delete raw.hf;
    if (!isObject(hf)) warn(["hf"], "'hf' ignored: not a mapping of spaces");
    else {
      for (const [name, value] of Object.entries(hf)) {
        const label = `'hf.${name}'`;
        const path = ["hf", name];
        if (name === "rmbg") {
          warn(path, `${label} ignored: background removal is not part of this gateway`);
          continue;
        }
        const v = isObject(value) ? value : { root: value };
        const patch = {
          root: v.root ?? v.reversal ?? v["base-url"] ?? v.baseUrl,
          fn: v.fn,
          data: v.data,
        };
        applySpace(name, patch, label, spaces, { path, warn });
      }
    }
  }

  if (raw.llm !== undefined) {
    const llm = raw.llm;
    delete raw.llm;
    if (images.llm !== undefined || !isObject(llm)) {
      warn(["llm"], "'llm' ignored: 'images.llm' (its successor) is set");
    } else {
      const out: RawObject = {};
      if (llm.model !== undefined) out.model = llm.model;
      if (llm.token !== undefined) out.token = llm.token;
      const root = llm.reversal ?? llm["base-url"] ?? llm.baseUrl;
      if (typeof root === "string") {
        // `reversal` was an API root with its version; `baseUrl` the host the original added
        // `/v1/chat/completions` to.
        out["base-url"] = llm.reversal !== undefined || /\/v\d+\/?$/.test(root)
          ? root
          : `${root.replace(/\/+$/, "")}/v1`;
      }
      images.llm = out;
      warn(["llm"], "'llm' is now 'images.llm' (the prompt-to-tags LLM); applied");
    }
  }

  if (raw.magnify !== undefined) {
    const keys = raw.magnify;
    delete raw.magnify;
    if (images.magnify !== undefined) {
      warn(["magnify"], "'magnify' ignored: 'images.magnify' (its successor) is set");
    } else {
      images.magnify = keys;
      warn(["magnify"], "'magnify' is now 'images.magnify' (bigjpg keys); applied");
    }
  }

  const names = (): string[] => [
    ...(Array.isArray(images.spaces) ? images.spaces : DEFAULT_SPACES)
      .map((s) => (isObject(s) ? s.name : undefined))
      .filter((n): n is string => typeof n === "string"),
    ...OTHER_BACKENDS,
  ];
  const chosen = images["default-backend"];
  if (typeof chosen === "string") {
    const retired = RETIRED_IMAGE_NAMES[chosen];
    const known = names();
    if (known.includes(chosen)) {
      // Today's name.
    } else if (retired && !known.includes(chosen)) {
      images["default-backend"] = retired.to;
      warn(
        ["images", "default-backend"],
        `'images.default-backend: ${chosen}' is now '${retired.to}' (${retired.why})`,
      );
    } else if (!known.includes(IMAGE_ALIASES[chosen] ?? "")) {
      delete images["default-backend"];
      warn(
        ["images", "default-backend"],
        `'images.default-backend: ${chosen}' ignored: no such backend (${known.join(", ")})`,
      );
    }
  }
  if (Array.isArray(images.order)) {
    const known = names();
    for (const [i, n] of images.order.entries()) {
      const name = String(n);
      const resolved = IMAGE_ALIASES[name] ?? RETIRED_IMAGE_NAMES[name]?.to ?? name;
      if (!known.includes(resolved)) {
        warn(["images", "order", i], `'${name}' in images.order is no backend; it is skipped`);
      }
    }
  }

  const pg = images.playground;
  if (isObject(pg) && pg.enabled === undefined) {
    const tokens = pg.tokens;
    if (pg["base-url"] !== undefined || (tokens !== undefined && String(tokens) !== "")) {
      warn(
        ["images", "playground"],
        "images.playground is off by default now (its 2024 route has no current evidence); " +
          "set 'images.playground.enabled: true' to use it",
      );
    }
  }
}

/**
 * Applies an old key's values to the `images.spaces` entry of `name` (after aliases), adds the
 * entry when the old key describes a whole space, or reports why it is ignored.
 */
function applySpace(
  name: string,
  patch: SpacePatch,
  label: string,
  spaces: () => RawObject[],
  out: { path: PropertyKey[]; warn: LegacyWarn },
): void {
  const canonical = IMAGE_ALIASES[name] ?? name;
  const given = Object.entries(patch).filter(([, v]) => v !== undefined);
  const fields = given.map(([k]) => k).join(", ") || "nothing";
  const list = spaces();
  const entry = list.find((e) => isObject(e) && e.name === canonical);
  if (entry) {
    for (const [k, v] of given) entry[k] = v;
    out.warn(out.path, `${label} is now the images.spaces entry '${canonical}'; ${fields} applied`);
    return;
  }
  const retired = RETIRED_IMAGE_NAMES[canonical];
  const template = RETIRED_SPACES[canonical];
  // The 2024 host itself is gone; only a root of one's own (a mirror) keeps the entry.
  if (template && typeof patch.root === "string" && patch.root !== template.root) {
    list.push({ ...structuredClone(template), ...Object.fromEntries(given) } as RawObject);
    out.warn(
      out.path,
      `${label}: ${retired?.why ?? "the space is gone"}; kept as the images.spaces entry ` +
        `'${canonical}' on the root you configured`,
    );
    return;
  }
  if (retired) {
    out.warn(
      out.path,
      `${label} ignored: ${retired.why}; '${canonical}' now draws on '${retired.to}'`,
    );
    return;
  }
  if (typeof patch.root === "string" && patch.fn !== undefined && patch.data !== undefined) {
    const added: RawObject = { name: canonical, ...Object.fromEntries(given) };
    list.push(added);
    out.warn(out.path, `${label} is now the images.spaces entry '${canonical}'; ${fields} applied`);
    return;
  }
  out.warn(
    out.path,
    `${label} ignored: a space unknown here needs its root, fn and data (images.spaces)`,
  );
}
