/**
 * The server's own modules import packages with explicit `npm:` specifiers (so that a run from a
 * URL needs no import map), at the versions `deno.json` maps for the tests.
 */
import { assert, assertEquals } from "../assert.ts";

const root = new URL("../../", import.meta.url).pathname;
const imports: Record<string, string> =
  JSON.parse(await Deno.readTextFile(`${root}deno.json`)).imports;

async function* sources(dir: string): AsyncGenerator<string> {
  for await (const e of Deno.readDir(dir)) {
    const p = `${dir}/${e.name}`;
    if (e.isDirectory) yield* sources(p);
    else if (e.name.endsWith(".ts")) yield p;
  }
}

/** `npm:name@range` of a specifier, without its subpath. */
function pkgOf(spec: string): string {
  const m = /^npm:\/?((?:@[^/]+\/)?[^/@]+)(@[^/]+)?/.exec(spec);
  return m ? `${m[1]}${m[2] ?? ""}` : spec;
}

Deno.test("main.ts and src/ import only relative, node: and pinned npm: specifiers", async () => {
  const mapped = new Map(
    Object.values(imports).map((v) => [pkgOf(v).replace(/@[^@]*$/, ""), pkgOf(v)]),
  );
  const files = [`${root}main.ts`];
  for await (const f of sources(`${root}src`)) files.push(f);
  let npm = 0;
  for (const file of files) {
    const text = await Deno.readTextFile(file);
    for (const m of text.matchAll(/(?:from|import)\s*\(?\s*"([^"]+)"/g)) {
      const spec = m[1];
      if (spec.startsWith("./") || spec.startsWith("../") || spec.startsWith("node:")) continue;
      assert(
        spec.startsWith("npm:"),
        `${file}: bare specifier "${spec}" needs deno.json; use npm:`,
      );
      npm++;
      const pkg = pkgOf(spec);
      const name = pkg.replace(/@[^@]*$/, "");
      assertEquals(
        pkg,
        mapped.get(name),
        `${file}: ${spec} differs from deno.json's ${mapped.get(name)}`,
      );
    }
  }
  assert(npm > 0);
});
