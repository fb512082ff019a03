/**
 * Single binaries: the compile task's arguments, a module graph a compiled binary can carry
 * whole (no dynamic imports it would miss), and `deno compile` getting as far as these offline
 * machines allow (the base binary download), or all the way where the internet is reachable.
 */
import { assert, assertEquals, assertMatch } from "../assert.ts";

const root = new URL("../../", import.meta.url).pathname;
const denoJson = JSON.parse(await Deno.readTextFile(`${root}deno.json`));

const TARGETS: Record<string, string> = {
  "x86_64-unknown-linux-gnu": "dist/linux-server",
  "aarch64-unknown-linux-gnu": "dist/linux-server-arm64",
  "x86_64-apple-darwin": "dist/darwin-server-x86_64",
  "aarch64-apple-darwin": "dist/darwin-server-arm64",
  "x86_64-pc-windows-msvc": "dist/windows-server.exe",
};

function commands(): string[][] {
  return (denoJson.tasks.compile as string).split("&&").map((c) => c.trim().split(/\s+/));
}

Deno.test("the compile task builds every target with the server's permissions", () => {
  const cmds = commands();
  assertEquals(cmds.length, Object.keys(TARGETS).length);
  const seen: Record<string, string> = {};
  for (const args of cmds) {
    assertEquals(args.slice(0, 2), ["deno", "compile"]);
    assertEquals(args.at(-1), "main.ts");
    const target = args[args.indexOf("--target") + 1];
    const output = args[args.indexOf("--output") + 1];
    seen[target] = output;
    for (
      const p of [
        "--allow-net",
        "--allow-read",
        "--allow-write",
        "--allow-env",
        "--allow-run",
        "--allow-sys",
        // The chrome transport's native TLS library.
        "--allow-ffi",
      ]
    ) {
      assert(args.includes(p), `${target} lacks ${p}`);
    }
    // Streams must not be aborted by Deno's legacy request.signal behaviour.
    assert(args.includes("--unstable-no-legacy-abort"), target);
  }
  assertEquals(seen, TARGETS);
});

/** Every `.ts` file main.ts can reach, by following relative static imports. */
async function reachable(): Promise<string[]> {
  const out = new Set<string>();
  const todo = [`${root}main.ts`];
  while (todo.length) {
    const file = todo.pop()!;
    if (out.has(file)) continue;
    out.add(file);
    const text = await Deno.readTextFile(file);
    for (const m of text.matchAll(/(?:from|import)\s*\(?\s*"(\.{1,2}\/[^"]+\.ts)"/g)) {
      todo.push(new URL(m[1], `file://${file}`).pathname);
    }
  }
  return [...out];
}

Deno.test("no dynamic import or worker a compiled binary would miss", async () => {
  const files = await reachable();
  assert(files.length > 20, `only ${files.length} files reachable`);
  for (const file of files) {
    const text = await Deno.readTextFile(file);
    for (const m of text.matchAll(/\bimport\s*\(\s*([^)]*)\)/g)) {
      // Statically analysable: a string literal, which deno compile includes.
      assertMatch(m[1].trim(), /^"[^"`$]+"$/, `${file}: dynamic import(${m[1]})`);
    }
    assert(!/new\s+Worker\s*\(/.test(text), `${file} starts a Worker`);
  }
});

Deno.test("deno compile accepts the task's arguments and builds the module graph", async () => {
  const args = commands()[0].slice(1);
  const out = `${await Deno.makeTempDir()}/linux-server`;
  args[args.indexOf("--output") + 1] = out;
  const res = await new Deno.Command(Deno.execPath(), {
    args: [...args.slice(0, -1), "--no-check", `${root}main.ts`],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const text = new TextDecoder().decode(res.stderr) + new TextDecoder().decode(res.stdout);
  if (res.success) {
    // A machine with internet: the binary must run.
    const v = await new Deno.Command(out, { args: ["--version"], stdout: "piped" }).output();
    assertMatch(
      new TextDecoder().decode(v.stdout),
      new RegExp(`chatgpt-adapter ${denoJson.version}`),
    );
  } else {
    // Offline: everything up to the base binary download worked.
    assertMatch(text, /Compile .*main\.ts/);
    assertMatch(text, /denort-x86_64-unknown-linux-gnu\.zip/);
  }
});
