/**
 * Command-line clients from npm for the CLI tests: installed on first use, pinned, into a cache
 * folder (`$XDG_CACHE_HOME/chatgpt-adapter/cli/<package>-<version>`, else `~/.cache/...`), so that
 * `deno task test` works on a fresh machine with only npm. An install goes to a temporary folder
 * first and is renamed into place when it is complete: a failed one leaves nothing half-made.
 *
 * @module
 */

/** The cache folder of CLI installs. */
export function cliCache(): string {
  const home = Deno.env.get("HOME") ?? "/tmp";
  const base = Deno.env.get("XDG_CACHE_HOME") ?? `${home}/.cache`;
  return `${base}/chatgpt-adapter/cli`;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * The path of `bin` from npm package `pkg@version`, installing it first when it is not cached.
 * Fails with npm's output when the install fails.
 */
export async function npmCli(pkg: string, version: string, bin: string): Promise<string> {
  const dir = `${cliCache()}/${pkg.replace(/[@/]/g, "_")}-${version}`;
  const path = `${dir}/node_modules/.bin/${bin}`;
  if (await exists(path)) return path;
  await Deno.mkdir(cliCache(), { recursive: true });
  const tmp = await Deno.makeTempDir({ dir: cliCache(), prefix: ".install-" });
  try {
    const out = await new Deno.Command("npm", {
      args: [
        "install",
        "--no-audit",
        "--no-fund",
        "--no-save",
        "--loglevel=error",
        "--prefix",
        tmp,
        `${pkg}@${version}`,
      ],
      stdout: "piped",
      stderr: "piped",
      stdin: "null",
    }).output();
    if (!out.success) {
      throw new Error(
        `npm install ${pkg}@${version} failed:\n${new TextDecoder().decode(out.stderr)}`,
      );
    }
    // Another run may have finished the same install meanwhile: its copy is as good.
    if (!(await exists(path))) await Deno.rename(tmp, dir);
  } finally {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
  return path;
}
