/**
 * The compacted tool list of the emulation's prompt, on the tools Claude Code really offers (its
 * first request, captured by `tests/cli/claude_code_test.ts`): at most a third of the tokens of the
 * full list, with every tool and parameter name, type, enum and required list kept.
 */
import { assert, assertEquals } from "../assert.ts";
import { toChatRequest } from "../../src/anthropic/request.ts";
import { messagesRequest } from "../../src/anthropic/schema.ts";
import type { Tool } from "../../src/openai/schema.ts";
import { compactSchema, compactTool, shorten } from "../../src/toolcall/compact.ts";
import { systemText } from "../../src/toolcall/prompt.ts";
import { countTokens } from "../../src/util/tokens.ts";
import { fn } from "./harness.ts";

const FIXTURE = new URL("../fixtures/claude_code/messages_request.json", import.meta.url);

async function claudeCodeTools(): Promise<Tool[]> {
  const body = messagesRequest.parse(JSON.parse(await Deno.readTextFile(FIXTURE)));
  return toChatRequest(body).req.tools!;
}

/** The tool list as the emulator wrote it before compaction: whole descriptions and schemas. */
function fullText(tools: Tool[]): string {
  const plan = { tools, choice: { kind: "auto" as const }, parallel: true };
  const compacted = systemText(plan);
  const full = tools.map((t) =>
    JSON.stringify({
      name: t.function.name,
      ...(t.function.description ? { description: t.function.description } : {}),
      parameters: t.function.parameters ?? { type: "object", properties: {} },
    })
  ).join("\n");
  return compacted.replace(/<tools>\n[\s\S]*?\n<\/tools>/, `<tools>\n${full}\n</tools>`);
}

/** Every property name in a schema, with its path, nested ones included. */
function names(schema: unknown, at = ""): string[] {
  if (Array.isArray(schema)) return schema.flatMap((s) => names(s, at));
  if (typeof schema !== "object" || schema === null) return [];
  const out: string[] = [];
  for (const [k, v] of Object.entries(schema)) {
    if (k === "properties" && typeof v === "object" && v !== null) {
      for (const [name, s] of Object.entries(v)) {
        out.push(`${at}.${name}`, ...names(s, `${at}.${name}`));
      }
    } else if (typeof v === "object") out.push(...names(v, at));
  }
  return out;
}

/** The schema's structure without descriptions and dropped keys: what must survive compaction. */
function skeleton(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(skeleton);
  if (typeof schema !== "object" || schema === null) return schema;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema)) {
    if (
      [
        "description",
        "$schema",
        "additionalProperties",
        "default",
        "maximum",
        "minimum",
        "exclusiveMinimum",
      ].includes(k)
    ) continue;
    out[k] = k === "properties" || k === "$defs"
      ? Object.fromEntries(Object.entries(v as object).map(([n, s]) => [n, skeleton(s)]))
      : skeleton(v);
  }
  return out;
}

Deno.test("Claude Code's tools: the emulator's prompt is at most a third of the full one", async () => {
  const tools = await claudeCodeTools();
  assert(tools.length >= 10, `${tools.length} tools`);
  const plan = { tools, choice: { kind: "auto" as const }, parallel: true };
  const compact = countTokens(systemText(plan));
  const full = countTokens(fullText(tools));
  console.log(
    `Claude Code's ${tools.length} tools: ${full} tokens in full, ${compact} compacted (${
      (100 * compact / full).toFixed(1)
    }%)`,
  );
  assert(compact * 3 <= full, `${compact} tokens compacted vs ${full} in full`);
});

Deno.test("Claude Code's tools: every tool and parameter name, type, enum and required list kept", async () => {
  const tools = await claudeCodeTools();
  const text = systemText({ tools, choice: { kind: "auto" }, parallel: true });
  const lines = /<tools>\n([\s\S]*?)\n<\/tools>/.exec(text)![1].split("\n").map((l) =>
    JSON.parse(l)
  );
  assertEquals(lines.map((l) => l.name), tools.map((t) => t.function.name));
  tools.forEach((t, i) => {
    const params = t.function.parameters;
    assertEquals(names(lines[i].parameters), names(params), t.function.name);
    assertEquals(skeleton(lines[i].parameters), skeleton(params), t.function.name);
    // A description is shortened, never dropped.
    if (t.function.description) assert(lines[i].description.length > 10, t.function.name);
  });
});

Deno.test("compactSchema: keyword names as parameter names are kept, noise keys dropped", () => {
  const schema = {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    type: "object",
    title: "Args",
    additionalProperties: false,
    properties: {
      description: { type: "string", description: "First sentence. Second sentence goes." },
      default: { type: "integer", minimum: 0, maximum: Number.MAX_SAFE_INTEGER, default: 3 },
      title: { type: "array", items: { type: "string", examples: ["a"] }, maxItems: 4 },
      mode: { anyOf: [{ type: "string", enum: ["a", "b"] }, { type: "null" }] },
    },
    required: ["description"],
  };
  assertEquals(compactSchema(schema), {
    type: "object",
    properties: {
      description: { type: "string", description: "First sentence." },
      default: { type: "integer", minimum: 0, default: 3 },
      title: { type: "array", items: { type: "string" }, maxItems: 4 },
      mode: { anyOf: [{ type: "string", enum: ["a", "b"] }, { type: "null" }] },
    },
    required: ["description"],
  });
});

Deno.test("compactTool: a short tool is listed as it is; a long description keeps its first paragraph", () => {
  const short = fn(
    "get_time",
    { type: "object", properties: { tz: { type: "string" } } },
    "The time.",
  );
  assertEquals(compactTool(short), {
    name: "get_time",
    description: "The time.",
    parameters: { type: "object", properties: { tz: { type: "string" } } },
  });
  const long = fn("run", undefined, `Runs a command.\n\n${"Details. ".repeat(200)}`);
  assertEquals(compactTool(long), {
    name: "run",
    description: "Runs a command.",
    parameters: { type: "object", properties: {} },
  });
});

Deno.test("shorten: cuts at a sentence end when one is near, else at a word", () => {
  assertEquals(shorten("Short enough.", 50), "Short enough.");
  assertEquals(shorten("One two three. Four five six seven eight", 24), "One two three.");
  assertEquals(shorten("alpha beta gamma delta epsilon zeta", 20), "alpha beta gamma…");
  assertEquals(shorten("x".repeat(30), 10), `${"x".repeat(9)}…`);
  for (const n of [10, 17, 40, 90]) {
    assert(shorten("word ".repeat(50), n).length <= n, String(n));
  }
});
