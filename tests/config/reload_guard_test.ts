/**
 * A config edit that empties the file (an editor's non-atomic save: truncate, then write) or
 * cannot be parsed is refused on reload, and the configuration in force stays live, password
 * included; at start an empty file means defaults with a warning.
 */
import { assert, assertEquals, assertMatch } from "../assert.ts";
import { ConfigStore, loadConfig } from "../../src/config/mod.ts";
import { createLogger } from "../../src/util/log.ts";
import { startGateway, waitFor } from "../helpers.ts";

Deno.test("reload: an empty or comments-only file is refused, the password stays on", async () => {
  const dir = await Deno.makeTempDir();
  const file = `${dir}/config.yaml`;
  await Deno.writeTextFile(file, "server:\n  password: pw-reload-guard-1\n");
  const lines: string[] = [];
  const log = createLogger("info", (_l, line) => lines.push(line));
  const store = new ConfigStore(file, (await loadConfig(file)).config);
  for (const text of ["", "\n\n", "# every line a comment\n#server:\n#  password: x\n", "---\n"]) {
    await Deno.writeTextFile(file, text);
    assertEquals(await store.reload(log), false, JSON.stringify(text));
    assertEquals(store.current.server.password, ["pw-reload-guard-1"]);
  }
  assert(lines.every((l) => !l.includes("reloaded")));
  assertMatch(
    lines.join("\n"),
    /edit refused, the previous configuration stays live: .* holds no settings/,
  );
  // Unparsable: refused as well.
  await Deno.writeTextFile(file, "server: [\n");
  assertEquals(await store.reload(log), false);
  assertEquals(store.current.server.password, ["pw-reload-guard-1"]);
  // A real edit still goes live.
  await Deno.writeTextFile(file, "server:\n  password: pw-reload-guard-2\n");
  assertEquals(await store.reload(log), true);
  assertEquals(store.current.server.password, ["pw-reload-guard-2"]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("start: an empty file means defaults with a warning", async () => {
  const dir = await Deno.makeTempDir();
  const file = `${dir}/config.yaml`;
  await Deno.writeTextFile(file, "# nothing yet\n");
  const r = await loadConfig(file);
  assertEquals(r.found, true);
  assertEquals(r.empty, true);
  assertEquals(r.config.server.password, []);
  assertMatch(r.warnings[0], /config\.yaml holds no settings: every key is at its default/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("the running server keeps its password through a truncating save", async () => {
  const gw = await startGateway({ server: { password: ["pw-watch-guard"] } }, { watch: true });
  try {
    await gw.writeConfig("");
    await waitFor(() => gw.logs.some((l) => l.includes("holds no settings")), 5000, "refusal");
    const res = await fetch(`${gw.url}/models`);
    assertEquals(res.status, 401);
    await res.body?.cancel();
  } finally {
    await gw.close();
  }
});
