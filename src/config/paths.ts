/**
 * Where files live: the config file (next to a compiled executable, or in the working folder)
 * and data folders (relative to the config file's folder).
 *
 * @module
 */

/** The folder of a path (`.` for a bare file name). */
export function dirOf(path: string): string {
  const i = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"));
  return i < 0 ? "." : i === 0 ? path.slice(0, 1) : path.slice(0, i);
}

/** True for `/x`, `C:\x`, `\\server\x`. */
export function isAbsolute(path: string): boolean {
  return path.startsWith("/") || /^[A-Za-z]:[\\/]/.test(path) || path.startsWith("\\\\");
}

/**
 * The default config file: `config.yaml` beside the executable when this is a compiled binary
 * (`deno compile`), else `config.yaml` in the working folder.
 */
export function defaultConfigPath(
  standalone: boolean = Deno.build.standalone,
  execPath: () => string = Deno.execPath,
): string {
  if (!standalone) return "config.yaml";
  const dir = dirOf(execPath());
  const sep = execPath().includes("\\") && !execPath().includes("/") ? "\\" : "/";
  return `${dir}${sep}config.yaml`;
}

/** A data path from config: absolute as given, relative to the config file's folder otherwise. */
export function resolveDataPath(configFile: string, path: string): string {
  if (isAbsolute(path)) return path;
  const dir = dirOf(configFile);
  return dir === "." ? path : `${dir}/${path}`;
}
