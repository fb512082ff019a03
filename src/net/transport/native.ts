/**
 * Loading the native part of the `chrome` transport (`wreq-js`, a Node-API addon bundling one
 * prebuilt library per platform) when the first request needs it, with errors that say what to do.
 *
 * Nothing here runs at startup: a server whose providers all use `fetch` never loads it and
 * needs no `--allow-ffi`. The module system keeps the loaded module, so this holds no state.
 *
 * @module
 */
import { GatewayError } from "../../openai/errors.ts";

/** The parts of `wreq-js` the transport uses. */
export type Wreq = typeof import("npm:wreq-js@2.3.1");

/** Why the chrome transport is not available (a 502 naming the fix). */
export function transportUnavailable(detail: string, cause?: unknown): GatewayError {
  return new GatewayError(
    502,
    `the chrome transport is not available: ${detail}; or set this provider's transport: fetch`,
    "upstream_error",
    "transport_unavailable",
    null,
    { cause },
  );
}

/** True when the process may load native libraries (`--allow-ffi`). */
function ffiAllowed(): boolean {
  try {
    return Deno.permissions.querySync({ name: "ffi" }).state === "granted";
  } catch {
    return false;
  }
}

/** The native library, loaded on first use. Fails with `transportUnavailable`. */
export async function loadWreq(): Promise<Wreq> {
  if (!ffiAllowed()) {
    throw transportUnavailable(
      "it loads a native TLS library and needs the --allow-ffi permission (deno task start has it; add it to your own deno run line)",
    );
  }
  try {
    return await import("npm:wreq-js@2.3.1");
  } catch (err) {
    const msg = (err as Error)?.message ?? String(err);
    throw transportUnavailable(
      `its native library (npm wreq-js, prebuilt for darwin x64/arm64, linux x64/arm64 glibc or musl, windows x64) did not load on ${Deno.build.os}-${Deno.build.arch}: ${msg}`,
      err,
    );
  }
}
