/**
 * The work bound of the tool-call schema checker (`schema.ts`).
 *
 * @module
 */

/**
 * The schema nodes the checks of one request may visit in all. `anyOf`/`$ref` chains make the
 * work of a check exponential in the schema's size (2^24 branches in 24 levels), which the depth
 * limit does not bound: this does.
 */
export class SchemaBudget {
  #left: number;
  constructor(readonly limit: number) {
    this.#left = limit;
  }

  /** Counts one node; false once the budget is spent. */
  take(): boolean {
    return --this.#left >= 0;
  }
}

/** Thrown when a check ran out of its `SchemaBudget`. */
export class SchemaBudgetExceeded extends Error {
  override name = "SchemaBudgetExceeded";
  constructor(readonly limit: number) {
    super(`checking tool arguments took more than ${limit} schema nodes`);
  }
}
