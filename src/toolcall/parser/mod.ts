/**
 * The streaming reader of a model's answer in the emulation's format: text passes on as it
 * comes, tool-call blocks come out as calls. It holds back only what could still become markup:
 * the start of a tag (`<tool_c`), a code fence at the start of a line until its first JSON key
 * shows whether it is a call, a JSON object at the start of a line likewise. Each character is
 * looked at a bounded number of times, so the work is linear in the answer's length whatever
 * the chunk sizes.
 *
 * Recognised calls (see docs/toolcall.md):
 * - `<tool_call>{"name": ..., "arguments": {...}}</tool_call>`, several blocks in a row, several
 *   objects or a list in one block, a `<tool_calls>` wrapper, a fence inside the block, a missing
 *   closing tag, `<tool_call name="x">{args}</tool_call>`, `<tool_call>x\n{args}</tool_call>`;
 * - `<function=x>{args}</function>` and `<function=x><parameter=p>v</parameter></function>`;
 * - a fenced or bare JSON object or list at the start of a line whose first key is a call key and
 *   whose name (when it comes first) is a declared tool.
 *
 * Markup inside `<think>` blocks is text. After a call, `<tool_result` or `<tool_response` (the
 * model writing the answer of the tool itself) ends the answer.
 *
 * The work is split among readers, one per kind of block, each owning its state (`driver.ts`
 * switches between them): plain text (`text.ts`), `<think>` (`think.ts`), `<tasks>`
 * (`tasks_block.ts`), code fences (`fence_head.ts`, then `code.ts` for an ordinary block or
 * `fence_tail.ts` after a call in one), JSON at a line start (`json_block.ts` with
 * `first_key.ts`), and tag blocks (`tag_open.ts`, `tag.ts`, `function_tag.ts`, read by
 * `tag_body.ts`).
 *
 * @module
 */
import { Driver } from "./driver.ts";
import type { ParseEvent, ParserOptions } from "./types.ts";

export type { ParseEvent, ParserOptions } from "./types.ts";
export { readTagBody } from "./tag_body.ts";

/** The streaming parser of one answer. */
export class ToolCallParser {
  readonly #driver: Driver;

  /** A parser for one answer of a request with `options`. */
  constructor(readonly options: ParserOptions) {
    this.#driver = new Driver(options);
  }

  /** Reads the next piece of the answer. */
  push(chunk: string): ParseEvent[] {
    return this.#driver.push(chunk);
  }

  /** The answer is complete: flushes what is held. */
  end(): ParseEvent[] {
    return this.#driver.end();
  }
}
