/**
 * Tests that need Chromium. When no browser is installed they are skipped with a visible
 * message; when one is installed, they run, and a browser that fails to start fails them.
 *
 * @module
 */
import { findExecutable } from "../../src/browser/mod.ts";

/** The browser the tests use, or undefined when none is installed. */
export const chromium: string | undefined = await findExecutable();

let warned = false;

/** `Deno.test` for a test that drives Chromium; skipped (and said so) without one. */
export function browserTest(name: string, fn: () => Promise<void>): void {
  if (!chromium && !warned) {
    warned = true;
    console.warn(
      "SKIPPED: no chromium, chromium-browser or google-chrome on PATH; the tests that drive a " +
        "real browser are skipped (apt-get install chromium to run them).",
    );
  }
  Deno.test({ name, ignore: !chromium, fn });
}
