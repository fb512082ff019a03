/**
 * Tool names an upstream refuses, mapped to names it takes and back. OpenAI allows names Gemini
 * (no leading digit or dash, at most 64 characters) and Cohere (letters, digits and `_` only)
 * reject. The mapping is a pure function of the name, so the names in a conversation's history
 * map the same way in every request without any state between requests.
 *
 * @module
 */

/** The naming rule of one upstream. */
export interface NameRule {
  /** Names the upstream accepts as they are. */
  valid: RegExp;
  /** Characters the upstream accepts (a character class, without the brackets). */
  chars: string;
  /** The longest name. */
  max: number;
}

/** Gemini: starts with a letter or `_`; letters, digits, `_ . : -`; at most 64 characters. */
export const GEMINI_NAMES: NameRule = {
  valid: /^[A-Za-z_][A-Za-z0-9_.:-]{0,63}$/,
  chars: "A-Za-z0-9_.:-",
  max: 64,
};

/** Cohere: letters, digits and `_`, not starting with a digit. */
export const COHERE_NAMES: NameRule = {
  valid: /^[A-Za-z_][A-Za-z0-9_]{0,63}$/,
  chars: "A-Za-z0-9_",
  max: 64,
};

/** An 8-hex-digit FNV-1a hash, to keep mapped names of different originals apart. */
function hash8(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16).padStart(8, "0");
}

/** The name `rule`'s upstream accepts for `name` (the name itself when it is valid). */
export function upstreamName(name: string, rule: NameRule): string {
  if (rule.valid.test(name)) return name;
  let base = name.replace(new RegExp(`[^${rule.chars}]`, "g"), "_");
  if (!/^[A-Za-z_]/.test(base)) base = `_${base}`;
  const suffix = `_${hash8(name)}`;
  return base.slice(0, rule.max - suffix.length) + suffix;
}

/** The names of one request in both directions. */
export class ToolNames {
  #back = new Map<string, string>();

  constructor(readonly rule: NameRule) {}

  /** The upstream's name for a client's tool name (remembered for `client`). */
  upstream(name: string): string {
    const up = upstreamName(name, this.rule);
    if (up !== name) this.#back.set(up, name);
    return up;
  }

  /** The client's name for a name the upstream used. */
  client(name: string): string {
    return this.#back.get(name) ?? name;
  }
}
