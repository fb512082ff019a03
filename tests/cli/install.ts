/**
 * Agentic CLIs for the tests that drive them: installed from npm on first use, pinned, into a
 * cache folder (`$XDG_CACHE_HOME` or `~/.cache`, then `chatgpt-adapter/cli/<name>-<version>`),
 * so that `deno task test` works on a fresh machine with Node's npm and no other setup.
 *
 * @module
 */

/** The pinned Claude Code release the tests run. */
export const CLAUDE_CODE_VERSION = "2.1.332";

function cacheRoot(): string {
  const xdg = Deno.env.get("XDG_CACHE_HOME");
  const home = Deno.env.get("HOME") ?? "/tmp";
  return `${xdg || `${home}/.cache`}/chatgpt-adapter/cli`;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/** The platform suffix of Claude Code's native packages (`linux-x64`, `darwin-arm64`, ...). */
function claudePlatform(): string {
  const arch = Deno.build.arch === "aarch64" ? "arm64" : "x64";
  const os = Deno.build.os === "windows" ? "win32" : Deno.build.os;
  return `${os}-${arch}`;
}

/**
 * Installs `spec` (`package@version`) with npm into the cache folder `name`, once: into a
 * temporary folder first, renamed when complete, so that an interrupted install is never used.
 */
async function npmInstall(spec: string, name: string): Promise<string> {
  const dir = `${cacheRoot()}/${name}`;
  if (await exists(`${dir}/.complete`)) return dir;
  await Deno.mkdir(cacheRoot(), { recursive: true });
  const tmp = await Deno.makeTempDir({ dir: cacheRoot(), prefix: ".install-" });
  const out = await new Deno.Command("npm", {
    args: ["install", "--prefix", tmp, "--no-audit", "--no-fund", "--no-save", spec],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    throw new Error(`npm install ${spec} failed:\n${new TextDecoder().decode(out.stderr)}`);
  }
  await Deno.writeTextFile(`${tmp}/.complete`, new Date().toISOString());
  await Deno.remove(dir, { recursive: true }).catch(() => {});
  await Deno.rename(tmp, dir);
  return dir;
}

/** The path of the `claude` binary of the pinned release, installed on first use. */
export async function claudeCode(): Promise<string> {
  const dir = await npmInstall(
    `@anthropic-ai/claude-code@${CLAUDE_CODE_VERSION}`,
    `claude-code-${CLAUDE_CODE_VERSION}`,
  );
  // The native binary of the platform package; the wrapper's bin is a copy of it once its
  // postinstall ran (npm may be set to skip install scripts).
  for (
    const bin of [
      `${dir}/node_modules/@anthropic-ai/claude-code-${claudePlatform()}/claude`,
      `${dir}/node_modules/@anthropic-ai/claude-code-${claudePlatform()}-musl/claude`,
      `${dir}/node_modules/@anthropic-ai/claude-code/bin/claude.exe`,
    ]
  ) {
    if (await exists(bin)) return bin;
  }
  throw new Error(`no claude binary for ${claudePlatform()} in ${dir}`);
}
