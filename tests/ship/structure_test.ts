/**
 * The shape of `src/`, checked on the real import graph (`deno info --json`) and the sources:
 * no import cycle, no import that climbs a layer, no module-level mutable state, and no file over
 * 400 lines unless its module doc says why it cannot be split.
 */
import { assert, assertEquals } from "../assert.ts";

const ROOT = new URL("../../", import.meta.url);
const SRC = new URL("src/", ROOT).href;

/**
 * The layers of `src/`, lowest first. A module may import its own layer or a lower one; the
 * layer of a module is its top folder's (a file directly in `src/` is layer 0).
 */
const LAYERS: readonly (readonly string[])[] = [
  ["core", "util", "version.ts"],
  ["config", "openai", "anthropic", "responses"],
  ["net", "pool", "flags", "browser"],
  ["toolcall"],
  ["providers"],
  ["images"],
  ["server"],
];

function layerOf(specifier: string): number {
  const top = specifier.slice(SRC.length).split("/")[0];
  const i = LAYERS.findIndex((names) => names.includes(top));
  if (i < 0) throw new Error(`src/${top} belongs to no layer: add it to LAYERS`);
  return i;
}

interface Graph {
  edges: Map<string, string[]>;
}

async function importGraph(): Promise<Graph> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", "main.ts"],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert(out.success, new TextDecoder().decode(out.stderr));
  const info = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    modules: {
      specifier: string;
      dependencies?: { code?: { specifier: string }; type?: { specifier: string } }[];
    }[];
  };
  const edges = new Map<string, string[]>();
  for (const m of info.modules) {
    if (!m.specifier.startsWith(SRC)) continue;
    const deps = (m.dependencies ?? [])
      .flatMap((d) => [d.code?.specifier, d.type?.specifier])
      .filter((s): s is string => s !== undefined && s.startsWith(SRC));
    edges.set(m.specifier, [...new Set(deps)]);
  }
  return { edges };
}

/** The strongly connected components with more than one module (or a self import). */
function cycles(g: Graph): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const w of g.edges.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || (g.edges.get(v) ?? []).includes(v)) found.push(scc);
    }
  };
  for (const v of g.edges.keys()) if (!index.has(v)) visit(v);
  return found;
}

const short = (s: string) => s.slice(SRC.length);

Deno.test("structure: no import cycle anywhere in src/", async () => {
  const g = await importGraph();
  assert(g.edges.size > 100, `the graph has ${g.edges.size} modules`);
  assertEquals(cycles(g).map((c) => c.map(short).sort()), []);
});

Deno.test("structure: no import climbs a layer", async () => {
  const g = await importGraph();
  const climbing: string[] = [];
  for (const [from, deps] of g.edges) {
    for (const to of deps) {
      if (layerOf(to) > layerOf(from)) climbing.push(`${short(from)} -> ${short(to)}`);
    }
  }
  assertEquals(climbing, []);
});

Deno.test("structure: the events module imports nothing of ours", async () => {
  const g = await importGraph();
  assertEquals(g.edges.get(`${SRC}core/events.ts`), []);
});

/** Every `.ts` file under `src/`, with its text. */
async function sources(): Promise<{ path: string; text: string }[]> {
  const out: { path: string; text: string }[] = [];
  const walk = async (dir: URL) => {
    for await (const e of Deno.readDir(dir)) {
      const url = new URL(e.name + (e.isDirectory ? "/" : ""), dir);
      if (e.isDirectory) await walk(url);
      else if (e.name.endsWith(".ts")) {
        out.push({ path: url.href.slice(SRC.length), text: await Deno.readTextFile(url) });
      }
    }
  };
  await walk(new URL(SRC));
  return out;
}

/**
 * Module-level state that is deliberately process-wide, with the reason. Nothing else may hold
 * mutable state at the top of a module: state lives in instances the server creates.
 */
const PROCESS_WIDE: Readonly<Record<string, string>> = {
  "util/mask.ts": "the secrets to mask must reach every log line and error text of the process",
  "util/tokens.ts": "the tokenizer's tables: read-only data, loaded once when first needed",
};

/**
 * Top-level declarations that hold mutable state: `let`/`var`, and `const`s made of a new
 * collection or object (`new Map()`, `[]`, `{}`, `new SomeClass()`) unless typed read-only.
 */
function mutableTopLevel(text: string): string[] {
  const found: string[] = [];
  for (const line of text.split("\n")) {
    if (/^(export )?(let|var) /.test(line)) found.push(line);
    const m = /^(export )?const [A-Za-z_$][\w$]*(\s*:\s*([^=]+))?\s*=\s*(.*)$/.exec(line);
    if (!m) continue;
    const type = m[3] ?? "";
    const value = m[4];
    if (/^(Readonly|readonly )/.test(type.trim())) continue;
    if (/^new (Map|Set|WeakMap|WeakSet|Array)\b/.test(value) || /^(\[\]|\{\});?$/.test(value)) {
      found.push(line);
    } else if (
      /^new [A-Z]/.test(value) &&
      !/^new (TextEncoder|TextDecoder|DOMException|RegExp)\b/.test(value)
    ) {
      found.push(line);
    }
  }
  return found;
}

Deno.test("structure: no module-level mutable state in src/", async () => {
  const offenders: string[] = [];
  for (const { path, text } of await sources()) {
    if (PROCESS_WIDE[path]) continue;
    for (const line of mutableTopLevel(text)) offenders.push(`${path}: ${line.trim()}`);
  }
  assertEquals(offenders, []);
});

Deno.test("structure: the state check catches what it is for", () => {
  assertEquals(mutableTopLevel("let n = 0;\nconst cache = new Map<string, number>();").length, 2);
  assertEquals(mutableTopLevel("export const store = new SignatureCache();").length, 1);
  assertEquals(mutableTopLevel("const list: string[] = [];").length, 1);
  assertEquals(mutableTopLevel('const KEEP: ReadonlySet<string> = new Set(["a"]);').length, 0);
  assertEquals(mutableTopLevel("const encoder = new TextEncoder();").length, 0);
  assertEquals(mutableTopLevel("  let inside = 1;").length, 0);
});

/** The module doc phrase that lets a file be longer than the limit. */
const LONG_FILE_REASON = "longer than 400 lines because";

Deno.test("structure: no file in src/ over 400 lines unless its module doc says why", async () => {
  const long: string[] = [];
  for (const { path, text } of await sources()) {
    const lines = text.split("\n").length;
    const doc = text.slice(0, text.indexOf("*/") + 2);
    if (lines > 400 && !doc.includes(LONG_FILE_REASON)) long.push(`${path} (${lines} lines)`);
  }
  assertEquals(long, []);
});

Deno.test("structure: the graph checks catch a cycle and a climbing import", () => {
  const g: Graph = {
    edges: new Map([
      [`${SRC}a.ts`, [`${SRC}b.ts`]],
      [`${SRC}b.ts`, [`${SRC}a.ts`]],
      [`${SRC}c.ts`, []],
    ]),
  };
  assertEquals(cycles(g).map((c) => c.map(short).sort()), [["a.ts", "b.ts"]]);
  assert(layerOf(`${SRC}server/app.ts`) > layerOf(`${SRC}providers/types.ts`));
  assert(layerOf(`${SRC}core/events.ts`) < layerOf(`${SRC}pool/mod.ts`));
});
