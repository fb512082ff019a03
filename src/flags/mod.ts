/**
 * The in-message markers: parsed out of `system`, `developer` and `user` text when `server.flags`
 * is on, removed from the text, and applied (the request rewrites) or returned as `RequestFlags`
 * (what providers and the pipeline read). The reference of every marker is in docs/toolcall.md.
 *
 * @module
 */
import type { Config } from "../config/schema.ts";
import { invalidRequest } from "../openai/errors.ts";
import { type ChatRequest, type Message, message } from "../openai/schema.ts";
import { type AttrValue, extractMarkers, type Marker } from "./markup.ts";
import { emptyFlags, type MatcherSpec, type RequestFlags, type ToolFlags } from "./types.ts";
import type { RegexRule, RegexSession, RegexText } from "./regex_pool.ts";
import { z } from "npm:zod@^4.6.7";

export type { MatcherSpec, RequestFlags, ToolFlags } from "./types.ts";
export { applyMatchers, cutOff, RewriteFilter, type Segment } from "./matchers.ts";
export { RegexBudgetError, RegexPool, RegexSession } from "./regex_pool.ts";

/** The tool-call defaults of the config (`toolcall.*`). */
export function configToolFlags(config: Config): ToolFlags {
  return { enabled: config.toolcall.enabled, tasks: config.toolcall.tasks, id: config.toolcall.id };
}

/** Splits `PATTERN:REPLACEMENT` at the first `:` not escaped as `\:`. */
export function splitRule(body: string): { pattern: string; replacement: string } {
  for (let i = 0; i < body.length; i++) {
    if (body[i] === "\\") {
      i++;
      continue;
    }
    if (body[i] === ":") {
      return {
        pattern: body.slice(0, i).replaceAll("\\:", ":"),
        replacement: body.slice(i + 1).replaceAll("\\:", ":"),
      };
    }
  }
  return { pattern: body.replaceAll("\\:", ":"), replacement: "" };
}

function compile(pattern: string, what: string): RegExp {
  try {
    return new RegExp(pattern, "g");
  } catch (err) {
    throw invalidRequest(`Invalid regular expression in ${what}: ${(err as Error).message}`);
  }
}

function str(v: AttrValue | undefined): string | undefined {
  return v === undefined || v === true ? undefined : String(v);
}

function num(v: AttrValue | undefined): number | undefined {
  if (typeof v === "number") return v;
  if (typeof v === "string" && /^-?\d+$/.test(v.trim())) return Number(v);
  return undefined;
}

function bool(v: AttrValue | undefined): boolean {
  return v === true || v === "true";
}

interface Rewrite {
  order: number;
  miss: number;
  pattern: string;
  replacement: string;
}

interface Insert {
  at: number;
  role: "user" | "system" | "assistant";
  miss: boolean;
  text: string;
}

/** Runs `fn` on the text of a message (string content or its text parts). */
function mapText(m: Message, fn: (text: string) => string): Message {
  if (typeof m.content === "string") return { ...m, content: fn(m.content) } as Message;
  if (!Array.isArray(m.content)) return m;
  const parts = (m.content as { type: string; text?: string }[]).map((p) =>
    p.type === "text" && typeof p.text === "string" ? { ...p, text: fn(p.text) } : p
  );
  return { ...m, content: parts } as Message;
}

function isEmpty(m: Message): boolean {
  if (typeof m.content === "string") return m.content.trim() === "";
  if (!Array.isArray(m.content)) return false;
  return (m.content as { type: string; text?: string }[]).every((p) =>
    p.type === "text" && (p.text ?? "").trim() === ""
  );
}

const historiesSchema = z.array(message);

/**
 * Applies the `<regex>` rules to the text of user and assistant messages in one call of the
 * regex pool: every text with its message's index, each rule limited by its `miss` (`miss=K`
 * leaves the last K messages alone).
 */
async function rewrite(
  messages: Message[],
  rewrites: Rewrite[],
  regex: RegexSession | undefined,
): Promise<Message[]> {
  if (!regex) throw new Error("<regex> rewrites without a regex session");
  const n = messages.length;
  const texts: RegexText[] = [];
  messages.forEach((m, index) => {
    if (m.role !== "user" && m.role !== "assistant") return;
    mapText(m, (text) => {
      texts.push({ text, index });
      return text;
    });
  });
  const rules: RegexRule[] = rewrites.map((r) => ({
    pattern: r.pattern,
    replacement: r.replacement,
    before: r.miss >= 0 ? n - r.miss : undefined,
    what: "<regex>",
  }));
  const done = await regex.replace(rules, texts);
  let next = 0;
  return messages.map((m) => {
    if (m.role !== "user" && m.role !== "assistant") return m;
    return mapText(m, () => done[next++]);
  });
}

/** The size of a marker as its limit counts it: name, attributes and body. */
function markerChars(mk: Marker): number {
  let n = mk.name.length + (mk.body?.length ?? 0);
  for (const [k, v] of Object.entries(mk.attrs)) n += k.length + String(v).length + 2;
  return n;
}

/** Counts markers against `server.limits`; a request past either limit is a 400 naming it. */
function markerBudget(config: Config): (found: Marker[]) => void {
  const { markers: maxCount, "marker-chars": maxChars } = config.server.limits;
  let count = 0;
  let chars = 0;
  return (found) => {
    count += found.length;
    if (count > maxCount) {
      throw invalidRequest(
        `The messages carry more than ${maxCount} markers (server.limits.markers)`,
        "messages",
        "too_many_markers",
      );
    }
    for (const mk of found) chars += markerChars(mk);
    if (chars > maxChars) {
      throw invalidRequest(
        `The markers of the messages hold more than ${maxChars} characters together (server.limits.marker-chars)`,
        "messages",
        "markers_too_large",
      );
    }
  };
}

/**
 * Parses the markers of `req` and returns the request without them (and with the `<regex>`,
 * `<@N>` and `<histories>` rewrites applied), plus the flags. With `server.flags` off nothing is
 * parsed and the `toolcall.*` defaults apply. Markers are bounded in number and size
 * (`server.limits`), and their patterns run through `regex` (the request's budget), which the
 * flags keep for the `<matcher>` rewrites of the answer.
 */
export async function parseFlags(
  req: ChatRequest,
  config: Config,
  regex?: RegexSession,
): Promise<{ req: ChatRequest; flags: RequestFlags }> {
  const flags = emptyFlags(configToolFlags(config));
  if (!config.server.flags) return { req, flags };
  flags.regex = regex;

  const markers: Marker[] = [];
  const count = markerBudget(config);
  let messages: Message[] = [];
  let anyChanged = false;
  for (const m of req.messages) {
    if (m.role !== "system" && m.role !== "developer" && m.role !== "user") {
      messages.push(m);
      continue;
    }
    let changed = false;
    const out = mapText(m, (text) => {
      const r = extractMarkers(text);
      if (!r.changed) return text;
      changed = true;
      anyChanged = true;
      count(r.markers);
      markers.push(...r.markers);
      return r.text.trim();
    });
    // A message that held only markers is dropped.
    if (changed && isEmpty(out)) continue;
    messages.push(out);
  }
  if (!anyChanged) return { req, flags };

  const rewrites: Rewrite[] = [];
  const inserts: Insert[] = [];
  const histories: Message[] = [];
  for (const mk of markers) {
    const a = mk.attrs;
    switch (mk.name) {
      case "debug":
        flags.debug = !bool(a.disabled);
        break;
      case "echo":
        flags.echo = !bool(a.disabled);
        break;
      case "pad":
        flags.pad = !bool(a.disabled);
        break;
      case "notebook":
        flags.notebook = !bool(a.disabled);
        break;
      case "char_sequences": {
        const user = str(a.user);
        const assistant = str(a.assistant);
        if (user && assistant) flags.charSequences = { user, assistant };
        break;
      }
      case "tool": {
        // The marker replaces the config defaults as a whole.
        const id = str(a.id);
        flags.tool = {
          enabled: bool(a.enabled),
          tasks: bool(a.tasks),
          id: id && id !== "-1" ? id : undefined,
        };
        break;
      }
      case "matcher": {
        const find = str(a.find);
        if (!find) throw invalidRequest('<matcher> needs a non-empty find="..." attribute');
        const spec: MatcherSpec = { find };
        const len = num(a.len);
        if (len !== undefined && len >= 0) spec.len = len;
        const end = str(a.end);
        if (end) spec.end = end;
        if (mk.body !== undefined && mk.body !== "") {
          const { pattern, replacement } = splitRule(mk.body);
          compile(pattern, "<matcher>");
          spec.pattern = pattern;
          spec.replacement = replacement;
        }
        flags.matchers.push(spec);
        break;
      }
      case "regex": {
        if (mk.body === undefined || mk.body === "") break;
        const { pattern, replacement } = splitRule(mk.body);
        compile(pattern, "<regex>");
        rewrites.push({ order: num(a.order) ?? 0, miss: num(a.miss) ?? -1, pattern, replacement });
        break;
      }
      case "histories": {
        let parsed: unknown;
        try {
          parsed = JSON.parse(mk.body ?? "");
        } catch (err) {
          throw invalidRequest(`<histories> must hold a JSON array: ${(err as Error).message}`);
        }
        const r = historiesSchema.safeParse(parsed);
        if (!r.success) {
          const issue = r.error.issues[0];
          throw invalidRequest(
            `<histories> must hold a JSON array of messages: ${
              issue.path.join(".") || "(root)"
            }: ${issue.message}`,
          );
        }
        histories.push(...r.data);
        break;
      }
      default: {
        // <@N role=R miss=B>TEXT</@N>
        if (mk.body === undefined) break;
        const role = str(a.role) ?? "user";
        if (role !== "user" && role !== "system" && role !== "assistant") {
          throw invalidRequest(`<${mk.name}> role must be user, system or assistant`);
        }
        inserts.push({
          at: Number(mk.name.slice(1)),
          role,
          miss: a.miss === undefined ? true : bool(a.miss),
          text: mk.body,
        });
      }
    }
  }

  // <regex>: higher order first (as numbers; equal orders keep their order).
  rewrites.sort((x, y) => y.order - x.order);
  if (rewrites.length > 0) messages = await rewrite(messages, rewrites, regex);

  // <@N>: after message N (from the start, or from the end when negative).
  if (inserts.length > 0) {
    const n = messages.length;
    const placed = inserts
      .map((ins, order) => {
        if (ins.miss && Math.abs(ins.at) > n - 1) return undefined;
        const after = ins.at >= 0 ? Math.min(ins.at, n - 1) : Math.max(n + ins.at, 0);
        return { after, order, msg: { role: ins.role, content: ins.text } as Message };
      })
      .filter((p) => p !== undefined)
      .sort((x, y) => y.after - x.after || y.order - x.order);
    for (const p of placed) messages.splice(p.after + 1, 0, p.msg);
  }

  // <histories>: before the first user or assistant message.
  if (histories.length > 0) {
    let at = messages.findIndex((m) => m.role !== "system" && m.role !== "developer");
    if (at < 0) at = messages.length;
    messages.splice(at, 0, ...histories);
  }

  if (messages.length === 0) {
    throw invalidRequest("The messages hold nothing but markers", "messages");
  }
  return { req: { ...req, messages }, flags };
}
