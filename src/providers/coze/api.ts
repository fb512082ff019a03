/**
 * The calls of Coze's API (`https://api.coze.com`, or `https://api.coze.cn`): every one carries
 * `Authorization: Bearer <token>`. Coze refuses with JSON `{code, msg}`, usually with HTTP 200,
 * so a body's `code` is read before its status; `x-tt-logid` names the request for Coze's
 * support.
 *
 * @module
 */
import {
  httpErrorOf,
  jsonOrUndefined,
  readCapped,
  snippet,
  type Upstream,
  type UpstreamInit,
} from "../../net/http.ts";
import { readSse, type SseEvent } from "../../net/sse.ts";
import { upstreamFailed } from "../../openai/errors.ts";
import { VERSION } from "../../version.ts";
import { errorOfCozeBody } from "./errors.ts";

/** The headers of every call with `token`. */
export function cozeHeaders(token: string, extra: Record<string, string> = {}) {
  return {
    authorization: `Bearer ${token}`,
    "user-agent": `chatgpt-adapter/${VERSION}`,
    ...extra,
  };
}

/**
 * Sends a call that answers JSON and returns its `data`; a `code` other than 0 is thrown as its
 * error, another status or a body without `data` as the upstream's failure.
 */
export async function cozeJson<T>(
  http: Upstream,
  url: string,
  token: string,
  init: UpstreamInit = {},
): Promise<T> {
  const res = await http.fetch(url, {
    ...init,
    headers: cozeHeaders(token, init.headers as Record<string, string> | undefined),
  });
  const text = await readCapped(res);
  const body = jsonOrUndefined(text) as { data?: unknown } | undefined;
  const err = errorOfCozeBody(body, res.headers.get("x-tt-logid"));
  if (err) throw err;
  if (res.status < 200 || res.status >= 300) throw httpErrorOf("coze", res, text);
  if (!body || typeof body !== "object" || body.data === undefined) {
    throw upstreamFailed("coze", `${new URL(url).pathname} answered ${snippet(text)}`);
  }
  return body.data as T;
}

/** The events of a streamed chat (`POST /v3/chat`), and Coze's id of the request. */
export interface ChatStream {
  events: AsyncGenerator<SseEvent>;
  logid: string | null;
}

/**
 * Starts a streamed chat. Resolves once Coze answered with an event stream; a JSON refusal (Coze
 * answers a bad token or bot with HTTP 200 and `{code, msg}`) and error statuses are thrown.
 */
export async function openChat(
  http: Upstream,
  base: string,
  token: string,
  body: unknown,
): Promise<ChatStream> {
  const res = await http.fetch(`${base}/v3/chat`, {
    method: "POST",
    headers: cozeHeaders(token, {
      "content-type": "application/json",
      accept: "text/event-stream",
    }),
    body: JSON.stringify(body),
  });
  const logid = res.headers.get("x-tt-logid");
  const type = (res.headers.get("content-type") ?? "").toLowerCase();
  if (res.status === 200 && type.includes("text/event-stream") && res.body) {
    return { events: readSse(res.body), logid };
  }
  // As much as an error body is read: a block page cannot fill the memory.
  const text = await readCapped(res);
  const err = errorOfCozeBody(jsonOrUndefined(text), logid);
  if (err) throw err;
  if (res.status < 200 || res.status >= 300) throw httpErrorOf("coze", res, text);
  throw upstreamFailed(
    "coze",
    `/v3/chat answered ${res.status} ${type || "without a content type"} instead of an event ` +
      `stream: ${snippet(text)}`,
  );
}

/** A bot of a workspace's list. */
interface ListedBot {
  id?: unknown;
  bot_id?: unknown;
}

/** Pages of a workspace's bot list read at most (the list only feeds `/v1/models`). */
const MAX_PAGES = 5;
const PAGE_SIZE = 50;

/**
 * The ids of the bots of `workspace` published to the API channel: `GET /v1/bots` (connector
 * 1024 is the API channel), else the older `GET /v1/space/published_bots_list`.
 */
export async function listBots(
  http: Upstream,
  base: string,
  token: string,
  workspace: string,
): Promise<string[]> {
  try {
    return await pages(http, token, (page) =>
      `${base}/v1/bots?${new URLSearchParams({
        workspace_id: workspace,
        publish_status: "published_online",
        connector_id: "1024",
        page_index: String(page),
        page_num: String(page),
        page_size: String(PAGE_SIZE),
      })}`, (d) => d.items);
  } catch {
    return await pages(
      http,
      token,
      (page) =>
        `${base}/v1/space/published_bots_list?${new URLSearchParams({
          space_id: workspace,
          page_index: String(page),
          page_size: String(PAGE_SIZE),
        })}`,
      (d) => d.space_bots,
    );
  }
}

async function pages(
  http: Upstream,
  token: string,
  url: (page: number) => string,
  items: (data: Record<string, unknown>) => unknown,
): Promise<string[]> {
  const ids: string[] = [];
  for (let page = 1; page <= MAX_PAGES; page++) {
    const data = await cozeJson<Record<string, unknown>>(http, url(page), token);
    const list = items(data ?? {});
    if (!Array.isArray(list)) throw upstreamFailed("coze", "the bot list holds no bots");
    for (const b of list as ListedBot[]) {
      const id = b?.id ?? b?.bot_id;
      if (typeof id === "string" && id !== "") ids.push(id);
    }
    const total = Number(data?.total ?? 0);
    if (list.length < PAGE_SIZE || ids.length >= total) break;
  }
  return ids;
}
