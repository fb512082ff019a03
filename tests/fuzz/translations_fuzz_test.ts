/**
 * Property-based tests of the client API translations: any Messages or Responses body the
 * schema accepts translates into an internal request the chat schema accepts, or is refused with
 * a 4xx `GatewayError`; never a TypeError, and within the per-case time ceiling.
 */
import { assert } from "../assert.ts";
import { toChatRequest as fromMessages } from "../../src/anthropic/request.ts";
import { messagesRequest } from "../../src/anthropic/schema.ts";
import { GatewayError } from "../../src/openai/errors.ts";
import { chatRequest } from "../../src/openai/schema.ts";
import {
  inputItems,
  normalizeItems,
  toChatRequest as fromResponses,
} from "../../src/responses/request.ts";
import { responsesRequest } from "../../src/responses/schema.ts";
import { messagesBody, mutated, responsesBody } from "./bodies.ts";
import { assertAllowedError, check, fc, timedSync } from "./fuzz.ts";

function refusedOr4xx(fn: () => unknown): unknown {
  try {
    return fn();
  } catch (err) {
    assertAllowedError(err, [GatewayError]);
    const status = (err as GatewayError).status;
    assert(status >= 400 && status < 500, `a ${status}: ${(err as Error).message}`);
    return undefined;
  }
}

function assertChatRequest(req: unknown): void {
  const r = chatRequest.safeParse(req);
  assert(
    r.success,
    `the internal request is not a chat request: ${JSON.stringify(r.error?.issues[0])}`,
  );
}

Deno.test("fuzz messages translation: valid bodies become chat requests or 4xx refusals", async () => {
  await check(
    fc.property(
      mutated(messagesBody),
      timedSync((body) => {
        const parsed = messagesRequest.safeParse(body);
        if (!parsed.success) return;
        const out = refusedOr4xx(() => fromMessages(parsed.data)) as
          | ReturnType<typeof fromMessages>
          | undefined;
        if (out) assertChatRequest(out.req);
      }),
    ),
    800,
  );
});

Deno.test("fuzz responses translation: valid bodies become chat requests or 4xx refusals", async () => {
  await check(
    fc.property(
      mutated(responsesBody),
      timedSync((body) => {
        const parsed = responsesRequest.safeParse(body);
        if (!parsed.success) return;
        const out = refusedOr4xx(() => {
          const input = normalizeItems(inputItems(parsed.data.input));
          return fromResponses(parsed.data, input);
        }) as ReturnType<typeof fromResponses> | undefined;
        if (out) assertChatRequest(out.chat);
      }),
    ),
    800,
  );
});
