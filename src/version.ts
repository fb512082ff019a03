/**
 * The version of this server, read from `deno.json` (a JSON import, so compiled binaries and runs
 * from a URL carry it too).
 *
 * @module
 */
import denoJson from "../deno.json" with { type: "json" };

/** The server's version, e.g. `0.1.0`. */
export const VERSION: string = denoJson.version;

/** The product name shown in `--help`, `/` and logs. */
export const NAME = "chatgpt-adapter";
