/**
 * Property-based tests of the config loader (`config/load.ts`): random YAML never crashes it. Any
 * text, any YAML document, documents made of the real keys with values of every type, and the
 * shipped and 2024 configs with lines dropped, swapped or garbled give a config or a
 * `ConfigError` (naming file, line and key), within the per-case time ceiling (alias bombs
 * included).
 */
import { stringify } from "yaml";
import { assert, assertMatch } from "../assert.ts";
import { ConfigError, defaultConfig, parseConfig } from "../../src/config/mod.ts";
import { anyText, assertAllowedError, check, fc, timedSync } from "./fuzz.ts";

const FILE = "fuzz.yaml";

/** Every key path of the default config, and the 2024 names the legacy mapping knows. */
function keyPaths(value: unknown, at: string[] = [], out: string[][] = []): string[][] {
  if (value && typeof value === "object" && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) {
      out.push([...at, k]);
      keyPaths(v, [...at, k], out);
    }
  }
  return out;
}

const PATHS = [
  ...keyPaths(defaultConfig()),
  ["custom-llm"],
  ["coze", "websdk"],
  ["bing", "cookies"],
  ["claude", "cookies"],
  ["interpreter", "baseUrl"],
  ["server", "proxied"],
  ["you", "cookies"],
  ["images"],
  ["gemini", "keys"],
];

const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom(
    "",
    "~",
    [],
    {},
    [""],
    "http://127.0.0.1:1",
    "socks5://x",
    "not a url",
    -1,
    0,
    65536,
    1e400,
    "sk-abc",
    [{ prefix: "a", "base-url": "http://127.0.0.1:9/v1" }],
    [{ prefix: "a" }, { prefix: "a" }],
  ),
);

/** A document of real keys with values of any type. */
const keyedDoc = fc.array(fc.tuple(fc.constantFrom(...PATHS), anyValue), { maxLength: 8 }).map(
  (entries) => {
    const root: Record<string, unknown> = {};
    for (const [path, value] of entries) {
      let node = root;
      for (const k of path.slice(0, -1)) {
        if (!node[k] || typeof node[k] !== "object" || Array.isArray(node[k])) node[k] = {};
        node = node[k] as Record<string, unknown>;
      }
      node[path[path.length - 1]] = value;
    }
    return stringify(root);
  },
);

const shipped = await Deno.readTextFile(new URL("../../config.yaml", import.meta.url));
const original = await Deno.readTextFile(
  new URL("../config/fixtures/original_images.yaml", import.meta.url),
);

/** A real config with lines dropped, duplicated, re-indented or garbled. */
const editedDoc = fc.tuple(
  fc.constantFrom(shipped, original),
  fc.array(
    fc.tuple(fc.nat(), fc.constantFrom("drop", "dup", "indent", "dedent", "garble"), anyText),
    { maxLength: 5 },
  ),
).map(([text, edits]) => {
  const lines = text.split("\n");
  for (const [at, kind, garbage] of edits) {
    const i = at % lines.length;
    if (kind === "drop") lines.splice(i, 1);
    else if (kind === "dup") lines.splice(i, 0, lines[i]);
    else if (kind === "indent") lines[i] = "  " + lines[i];
    else if (kind === "dedent") lines[i] = lines[i].trimStart();
    else lines[i] = lines[i].slice(0, garbage.length % (lines[i].length + 1)) + garbage;
  }
  return lines.join("\n");
});

/** YAML's own sharp edges: aliases, tags, anchors, documents, flow collections. */
const yamlEdges = fc.constantFrom(
  "a: &a [1]\nb: [*a, *a, *a]\n",
  'a: &a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n' +
    "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n" +
    "e: [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n",
  "server: !!binary aGk=\n",
  "server: !custom x\n",
  "--- \nserver: {}\n--- \nserver: {}\n",
  "server: {port: 1, port: 2}\n",
  "? [a, b]\n: c\n",
  "server:\n  port: 0x1F90\n",
  "server:\n  port: 8080.0\n",
  "[1, 2]\n",
  "just text\n",
  "\uFEFFserver: {}\n",
  "server: <<: {port: 1}\n",
  "<<: {server: {port: 1}}\n",
  "a: *missing\n",
  "server:\n\tport: 1\n",
);

function loads(text: string): void {
  try {
    parseConfig(text, FILE);
  } catch (err) {
    assertAllowedError(err, [ConfigError]);
    // Every problem names the file (and a position).
    assertMatch((err as Error).message, /^fuzz\.yaml(:\d+:\d+)?: /);
  }
}

Deno.test("fuzz config: any text, YAML or real keys with odd values load or give a ConfigError", async () => {
  await check(
    fc.property(
      fc.oneof(anyText, keyedDoc, editedDoc, yamlEdges, fc.jsonValue().map((v) => stringify(v))),
      timedSync(loads),
    ),
    400,
  );
});

Deno.test("fuzz config: a loaded config is whole (every section present)", async () => {
  const sections = Object.keys(defaultConfig());
  await check(
    fc.property(
      keyedDoc,
      timedSync((text) => {
        let config;
        try {
          config = parseConfig(text, FILE).config;
        } catch (err) {
          assertAllowedError(err, [ConfigError]);
          return;
        }
        for (const s of sections) assert(s in config, `section ${s} missing`);
      }),
    ),
    300,
  );
});
