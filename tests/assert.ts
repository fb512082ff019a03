/**
 * Assertions for tests, on `node:assert/strict` (JSR's @std/assert is unreachable here), under
 * the names Deno's standard library uses.
 *
 * @module
 */
import assert from "node:assert/strict";

/** Fails unless `value` is truthy. */
export function assertOk(value: unknown, message?: string): asserts value {
  assert.ok(value, message);
}
export { assertOk as assert };

/** Deep strict equality. */
export function assertEquals<T>(
  actual: unknown,
  expected: T,
  message?: string,
): asserts actual is T {
  assert.deepStrictEqual(actual, expected, message);
}

/** Deep strict inequality. */
export function assertNotEquals(actual: unknown, expected: unknown, message?: string): void {
  assert.notDeepStrictEqual(actual, expected, message);
}

/** Fails unless `text` matches `re`. */
export function assertMatch(text: string, re: RegExp, message?: string): void {
  assert.match(text, re, message);
}

/** Fails unless `text` contains `part`. */
export function assertStringIncludes(text: string, part: string, message?: string): void {
  assert.ok(
    text.includes(part),
    message ?? `expected ${JSON.stringify(text)} to include ${JSON.stringify(part)}`,
  );
}

/** Fails unless `value` is an instance of `type`. */
export function assertInstanceOf<T>(
  value: unknown,
  // deno-lint-ignore no-explicit-any
  type: abstract new (...args: any[]) => T,
  message?: string,
): asserts value is T {
  assert.ok(value instanceof type, message ?? `expected an instance of ${type.name}, got ${value}`);
}

/** Fails unless `fn` rejects; returns the error (optionally checked to be of `type`). */
export async function assertRejects<E = Error>(
  fn: () => Promise<unknown>,
  // deno-lint-ignore no-explicit-any
  type?: abstract new (...args: any[]) => E,
  includes?: string,
): Promise<E> {
  try {
    await fn();
  } catch (err) {
    if (type) assertInstanceOf(err, type);
    if (includes) assertStringIncludes(String((err as Error)?.message ?? err), includes);
    return err as E;
  }
  throw new assert.AssertionError({ message: "expected the promise to reject" });
}

/** Fails unless `fn` throws; returns the error. */
export function assertThrows<E = Error>(
  fn: () => unknown,
  // deno-lint-ignore no-explicit-any
  type?: abstract new (...args: any[]) => E,
  includes?: string,
): E {
  try {
    fn();
  } catch (err) {
    if (type) assertInstanceOf(err, type);
    if (includes) assertStringIncludes(String((err as Error)?.message ?? err), includes);
    return err as E;
  }
  throw new assert.AssertionError({ message: "expected the function to throw" });
}
