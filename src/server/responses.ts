/**
 * The Responses API: `POST /v1/responses` over the same pipeline as chat, and the stored
 * responses (`GET` and `DELETE /v1/responses/{id}`, `GET /v1/responses/{id}/input_items`).
 *
 * A request is translated into the internal (chat) request at the edge (`responses/request.ts`)
 * and its events are written by the Responses writer; no provider knows which API asked.
 *
 * @module
 */
import { parseFlags } from "../flags/mod.ts";
import { GatewayError, invalidRequest } from "../openai/errors.ts";
import { echoOf, publicItem, publicResponse } from "../responses/object.ts";
import {
  type EarlierTurns,
  inputItems,
  normalizeItems,
  toChatRequest,
} from "../responses/request.ts";
import { type InputItem, type ResponsesRequest, responsesRequest } from "../responses/schema.ts";
import type { ResponseStore, StoredResponse } from "../responses/store.ts";
import { writeResponses } from "../responses/writer.ts";
import { responseItemId } from "../util/id.ts";
import { accessLog, answerNote } from "./access_log.ts";
import { makeChatContext, readBody, resolveModel } from "./context.ts";
import { runChat } from "./pipeline.ts";
import type { Ctx } from "./types.ts";

const ENCRYPTED = "reasoning.encrypted_content";

function responseNotFound(id: string, param: string | null = null): GatewayError {
  return new GatewayError(
    404,
    `Response with id '${id}' not found.`,
    "invalid_request_error",
    param ? "previous_response_not_found" : null,
    param,
  );
}

/** Fields this server cannot serve, refused naming them (clients in view never send them). */
function refuseUnsupported(body: ResponsesRequest): void {
  if (body.background === true) {
    throw invalidRequest(
      "background: true is not supported: this server answers a response in the request that creates it (use stream: true for long answers)",
      "background",
    );
  }
  const raw = body as Record<string, unknown>;
  if (raw.conversation != null) {
    throw invalidRequest(
      "conversation is not supported: continue a conversation with previous_response_id",
      "conversation",
    );
  }
  if (raw.prompt != null) {
    throw invalidRequest(
      "prompt (a stored prompt template) is not supported: send instructions and input",
      "prompt",
    );
  }
}

/** The conversation a `previous_response_id` continues, or the error that says why not. */
async function earlierTurns(
  store: ResponseStore,
  id: string,
): Promise<EarlierTurns & { items: InputItem[] }> {
  const entry = await store.get(id);
  if (!entry) throw responseNotFound(id, "previous_response_id");
  if (entry.kind === "not-stored") {
    throw invalidRequest(
      entry.reason === "store-false"
        ? `Previous response with id '${id}' was created with store: false and was not kept; send the whole conversation as input instead`
        : `Previous response with id '${id}' was too large to keep (responses.max-bytes); send the whole conversation as input instead`,
      "previous_response_id",
      "previous_response_not_found",
    );
  }
  const v = entry.value;
  return { items: [...v.input, ...v.response.output as InputItem[]], extras: v.extras };
}

/** The items with `item_reference`s replaced by the stored items they name. */
async function resolveReferences(
  items: readonly InputItem[],
  store: ResponseStore,
): Promise<InputItem[]> {
  const out: InputItem[] = [];
  for (const [i, item] of items.entries()) {
    if (item.type !== "item_reference") {
      out.push(item);
      continue;
    }
    const found = await store.item(item.id);
    if (!found) {
      throw new GatewayError(
        404,
        `Item with id '${item.id}' not found (only items of stored responses can be referenced).`,
        "invalid_request_error",
        "item_not_found",
        `input[${i}].id`,
      );
    }
    out.push(found);
  }
  return out;
}

/** Answers `POST /v1/responses`, streamed or not. */
export async function handleCreateResponse(c: Ctx): Promise<Response> {
  const started = performance.now();
  const deps = c.get("deps");
  const config = deps.store.current;
  const body = await readBody(c, responsesRequest);
  c.set("model", body.model);
  refuseUnsupported(body);
  const route = resolveModel(c, body.model);
  const earlier = body.previous_response_id
    ? await earlierTurns(deps.responses, body.previous_response_id)
    : { items: [], extras: {} };
  const input = normalizeItems(await resolveReferences(inputItems(body.input), deps.responses));
  const t = toChatRequest(body, input, earlier);
  const regex = deps.regex.session(config.server.limits["regex-ms"]);
  const { req, flags } = await parseFlags(t.chat, config, regex);
  const { ctx, abort, detach, finish } = makeChatContext(c, route, flags);
  if (t.dropped.length > 0) {
    ctx.log.info(
      `responses: hosted tools left out (no upstream here runs them): ${t.dropped.join(", ")}`,
    );
  }
  if (flags.debug) ctx.log.info(`debug: processed request ${JSON.stringify(req)}`);

  const id = responseItemId("resp");
  const store = body.store !== false;
  c.set("logDeferred", true);
  return await writeResponses(runChat(req, ctx, deps), {
    meta: {
      id,
      created_at: Math.floor(Date.now() / 1000),
      model: route.model,
      echo: echoOf(body),
    },
    tools: t.tools,
    stream: body.stream === true,
    encrypted: body.include?.includes(ENCRYPTED) === true,
    keepAliveMs: config.server["keep-alive"] * 1000,
    abort,
    onCommit: detach,
    persist: async (r) => {
      if (!store) return await deps.responses.skip(id, "store-false");
      const value: StoredResponse = {
        id,
        response: r.response,
        input: [...earlier.items, ...input],
        extras: { ...earlier.extras, ...r.extras },
      };
      await deps.responses.put(value);
    },
    onEnd: (end) => {
      const u = end.usage;
      const note = answerNote({ ...end, tokens: u && [u.input_tokens, u.output_tokens] });
      accessLog(c, end.status, started, note, end.error !== undefined);
      finish();
    },
  });
}

/** The include list of a query (`include[]=...` as the SDKs send it, or `include=...`). */
function includes(c: Ctx): string[] {
  return [...c.req.queries("include[]") ?? [], ...c.req.queries("include") ?? []];
}

async function stored(c: Ctx): Promise<StoredResponse> {
  const id = c.req.param("id") ?? "";
  const entry = await c.get("deps").responses.get(id);
  if (entry?.kind !== "stored") throw responseNotFound(id);
  return entry.value;
}

/** `GET /v1/responses/{id}`: a stored response. */
export async function handleGetResponse(c: Ctx): Promise<Response> {
  if (c.req.query("stream") === "true") {
    throw invalidRequest(
      "stream: a stored response is complete; streaming it again is for background responses, which this server does not run",
      "stream",
    );
  }
  const v = await stored(c);
  return c.json(publicResponse(v.response, includes(c).includes(ENCRYPTED)));
}

/** `DELETE /v1/responses/{id}`. */
export async function handleDeleteResponse(c: Ctx): Promise<Response> {
  const id = c.req.param("id") ?? "";
  if (!(await c.get("deps").responses.delete(id))) throw responseNotFound(id);
  return c.json({ id, object: "response", deleted: true });
}

/** `GET /v1/responses/{id}/input_items`: the conversation's items up to that response. */
export async function handleInputItems(c: Ctx): Promise<Response> {
  const v = await stored(c);
  const limitText = c.req.query("limit");
  const limit = limitText === undefined ? 20 : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
    throw invalidRequest("limit must be an integer from 1 to 100", "limit");
  }
  const order = c.req.query("order") ?? "desc";
  if (order !== "asc" && order !== "desc") {
    throw invalidRequest("order must be 'asc' or 'desc'", "order");
  }
  const items = order === "asc" ? v.input : [...v.input].reverse();
  const after = c.req.query("after");
  let start = 0;
  if (after !== undefined) {
    const at = items.findIndex((i) => (i as { id?: unknown }).id === after);
    if (at < 0) throw invalidRequest(`after: no item with id '${after}' in this list`, "after");
    start = at + 1;
  }
  const encrypted = includes(c).includes(ENCRYPTED);
  const page = items.slice(start, start + limit).map((i) =>
    publicItem(i as Parameters<typeof publicItem>[0], encrypted)
  );
  return c.json({
    object: "list",
    data: page,
    first_id: page[0]?.id ?? null,
    last_id: page.at(-1)?.id ?? null,
    has_more: start + limit < items.length,
  });
}
