/**
 * The corpus: realistic model answers (tests/toolcall/corpus/*.yaml) run through the emulator,
 * each cut into text events of several sizes, against the calls, text, finish reason and number
 * of upstream requests expected. The test requires every case to pass.
 */
import { parse } from "yaml";
import { assert, assertEquals } from "../assert.ts";
import type { ChatRequest, Tool } from "../../src/openai/schema.ts";
import { emulateToolCalls } from "../../src/toolcall/mod.ts";
import { type Chunking, collect, scripted, testContext } from "./harness.ts";

interface Case {
  id: string;
  tools?: string[];
  answer: string;
  retry?: string;
  content?: string;
  calls?: { name: string; args: unknown }[];
  choice?: "required" | "none" | "auto" | { name: string };
  parallel?: boolean;
  finish?: string;
  upstream_finish?: "stop" | "length";
}

const dir = new URL("./corpus/", import.meta.url);
const toolDefs = parse(await Deno.readTextFile(new URL("tools.yaml", dir))) as Record<
  string,
  { description?: string; parameters?: Record<string, unknown> }
>;

function loadCases(): { file: string; cases: Case[] }[] {
  const out: { file: string; cases: Case[] }[] = [];
  for (const entry of [...Deno.readDirSync(dir)].sort((a, b) => a.name.localeCompare(b.name))) {
    if (!entry.name.endsWith(".yaml") || entry.name === "tools.yaml") continue;
    out.push({ file: entry.name, cases: parse(Deno.readTextFileSync(new URL(entry.name, dir))) });
  }
  return out;
}

function requestFor(c: Case): ChatRequest {
  const tools: Tool[] = (c.tools ?? ["get_weather", "get_time", "search_web"]).map((name) => {
    const def = toolDefs[name];
    if (!def) throw new Error(`${c.id}: unknown tool ${name} in the corpus`);
    return { type: "function", function: { name, ...def } } as Tool;
  });
  const req: Record<string, unknown> = {
    model: "corpus/model",
    messages: [{ role: "user", content: "(the question)" }],
    tools,
  };
  if (typeof c.choice === "object") {
    req.tool_choice = { type: "function", function: { name: c.choice.name } };
  } else if (c.choice) {
    req.tool_choice = c.choice;
  }
  if (c.parallel === false) req.parallel_tool_calls = false;
  return req as ChatRequest;
}

/** Runs one case with one chunking; returns the differences (empty when it passes). */
async function runCase(c: Case, how: Chunking): Promise<string[]> {
  const answers = [c.answer ?? "", ...(c.retry !== undefined ? [c.retry ?? ""] : [])];
  const up = scripted(answers, how, { finish: c.upstream_finish });
  const ctx = testContext();
  const got = await collect(emulateToolCalls(requestFor(c), ctx, up.call));
  const diffs: string[] = [];
  const wantText = c.content ?? "";
  if (got.text !== wantText) {
    diffs.push(`text ${JSON.stringify(got.text)} != ${JSON.stringify(wantText)}`);
  }
  const wantCalls = c.calls ?? [];
  const gotCalls = got.calls.map((x) => ({ name: x.name, args: JSON.parse(x.arguments) }));
  try {
    assertEquals(gotCalls, wantCalls);
  } catch {
    diffs.push(`calls ${JSON.stringify(gotCalls)} != ${JSON.stringify(wantCalls)}`);
  }
  got.calls.forEach((x, i) => {
    if (x.index !== i) diffs.push(`call ${i} has index ${x.index}`);
    if (!/^call_[A-Za-z0-9]{24}$/.test(x.id)) diffs.push(`call ${i} id ${x.id}`);
  });
  if (new Set(got.calls.map((x) => x.id)).size !== got.calls.length) diffs.push("ids not unique");
  const wantFinish = c.finish ?? (wantCalls.length > 0 ? "tool_calls" : "stop");
  if (got.finish !== wantFinish) diffs.push(`finish ${got.finish} != ${wantFinish}`);
  const wantUpstream = c.retry !== undefined ? 2 : 1;
  if (up.requests.length !== wantUpstream) {
    diffs.push(`${up.requests.length} upstream requests, expected ${wantUpstream}`);
  }
  return diffs;
}

const CHUNKINGS: Chunking[] = [1_000_000, 1, 3, 64, "random"];

Deno.test("corpus: at least 150 answers, every one parsed as expected at every chunk size", async () => {
  const files = loadCases();
  const ids = new Set<string>();
  let total = 0;
  const failures: string[] = [];
  for (const { file, cases } of files) {
    for (const c of cases) {
      assert(!ids.has(c.id), `duplicate case id ${c.id}`);
      ids.add(c.id);
      total++;
      for (const how of CHUNKINGS) {
        const diffs = await runCase(c, how);
        if (diffs.length > 0) failures.push(`${file} ${c.id} [chunks ${how}]: ${diffs.join("; ")}`);
      }
    }
  }
  assert(total >= 150, `the corpus has ${total} answers`);
  const failedCases = new Set(failures.map((f) => f.split(" ")[1]));
  const passed = total - failedCases.size;
  console.log(`corpus: ${passed}/${total} answers (${(100 * passed / total).toFixed(1)}%)`);
  assertEquals(failures, []);
});
