/**
 * Bing's HTTP endpoints: conversation create (with the signature header that opens the ChatHub),
 * the plugin list (the Search plugin of `bing-online`) and the image upload (`kblob`) of
 * `bing-vision`.
 *
 * @module
 */
import { readJson, type Upstream } from "../../net/http.ts";
import { GatewayError, invalidRequest, upstreamFailed } from "../../openai/errors.ts";
import { randomAlnum } from "../../util/id.ts";
import type { Logger } from "../../util/log.ts";

/** The browser Bing sees (an iPhone Edge, as the original). */
export const USER_AGENT =
  "Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1 Edg/120.0.0.0";

/** The site the ChatHub expects as `Origin`. */
export const ORIGIN = "https://copilot.microsoft.com";

/** A conversation as `create` returns it. */
export interface BingConversation {
  id: string;
  clientId: string;
  /** `X-Sydney-Encryptedconversationsignature`: the ChatHub's `sec_access_token`. */
  signature: string;
  /** The cookie header to use from now on (with `MUID` when Bing set one). */
  cookie: string;
  /** The second `|` part of the id is `BingProd` for a signed-in account. */
  loggedIn: boolean;
  /** 32 hex characters sent as the hub's `traceId`. */
  traceId: string;
}

/** The cookie header for a credential: a `_U` value, a cookie string, or `xxx` (anonymous). */
export function cookieFor(secret: string): string {
  const s = secret.trim();
  if (s === "" || s === "xxx") return `_U=${randomAlnum(32)}`;
  return s.includes("_U=") ? s : `_U=${s}`;
}

/** The error for a `result.value` other than `Success` (create and ChatHub answers). */
export function resultError(value: string, message: string | undefined, where: string) {
  const text = `bing ${where}: ${value}${message ? ` (${message})` : ""}`;
  switch (value) {
    case "UnauthorizedRequest":
      return new GatewayError(401, text, "authentication_error", "invalid_api_key");
    case "Forbidden":
      return new GatewayError(403, text, "permission_error");
    case "CaptchaChallenge":
      return new GatewayError(
        403,
        `${text}: solve the captcha in a browser signed in with this account`,
        "permission_error",
      );
    case "Throttled":
    case "TooManyRequests":
      return new GatewayError(429, text, "rate_limit_error", "rate_limit_exceeded");
    case "InvalidRequest":
      return new GatewayError(400, text);
    default:
      return upstreamFailed("bing", `${where}: ${value}${message ? ` (${message})` : ""}`);
  }
}

/** Adds `name=value` to a cookie header unless it has that cookie already. */
function withCookie(cookie: string, name: string, value: string): string {
  if (new RegExp(`(^|;\\s*)${name}=`).test(cookie)) return cookie;
  return `${cookie}; ${name}=${value}`;
}

/** `GET <base>/turing/conversation/create`: a new conversation and its ChatHub signature. */
export async function createConversation(
  http: Upstream,
  base: string,
  bundleVersion: string,
  cookie: string,
): Promise<BingConversation> {
  const url = `${base}/turing/conversation/create?bundleVersion=${
    encodeURIComponent(bundleVersion)
  }`;
  const res = await http.ok(url, {
    headers: { cookie, "user-agent": USER_AGENT, accept: "application/json" },
  });
  const body = await readJson<{
    conversationId?: string;
    clientId?: string;
    result?: { value?: string; message?: string | null };
    conversationSignature?: string;
    encryptedconversationsignature?: string;
  }>("bing", res);
  const value = body.result?.value ?? "Success";
  if (value !== "Success") {
    throw resultError(value, body.result?.message ?? undefined, "conversation create failed");
  }
  const signature = res.headers.get("x-sydney-encryptedconversationsignature") ??
    body.encryptedconversationsignature ?? body.conversationSignature;
  if (!body.conversationId || !signature) {
    throw upstreamFailed(
      "bing",
      "conversation create answered without a conversation id or signature",
    );
  }
  let next = cookie;
  for (const set of res.headers.getSetCookie()) {
    const m = /^MUID=([^;]*)/.exec(set);
    if (m && m[1]) next = withCookie(next, "MUID", m[1]);
  }
  return {
    id: body.conversationId,
    clientId: body.clientId ?? "",
    signature,
    cookie: next,
    loggedIn: body.conversationId.split("|")[1] === "BingProd",
    traceId: crypto.randomUUID().replaceAll("-", ""),
  };
}

/** Host named in the `LegalInfoUrl` of Bing's own Search plugin. */
const SEARCH_PLUGIN = "www.bing.com";

/** `GET <base>/codex/plugins/available/get`: the ids of the Search plugin. */
export async function searchPluginIds(
  http: Upstream,
  base: string,
  cookie: string,
): Promise<string[]> {
  const body = await http.json<{
    IsSuccess?: boolean;
    Value?: { Id?: string; LegalInfoUrl?: string }[];
  }>(`${base}/codex/plugins/available/get`, {
    headers: { cookie, "user-agent": USER_AGENT, accept: "application/json" },
  });
  if (!body.IsSuccess || !Array.isArray(body.Value)) return [];
  return body.Value
    .filter((p) => typeof p.Id === "string" && (p.LegalInfoUrl ?? "").includes(SEARCH_PLUGIN))
    .map((p) => p.Id!);
}

/** The ids of an uploaded image. */
export interface KBlob {
  blobId: string;
  processedBlobId: string;
}

/** Largest image accepted for upload, in bytes. */
const MAX_IMAGE = 20 * 1024 * 1024;

/** An image of a message (`data:` URL or http(s) URL) as base64. */
export async function imageBase64(http: Upstream, url: string, log?: Logger): Promise<string> {
  if (url.startsWith("data:")) {
    const m = /^data:(image\/[\w.+-]+)?(;[^,]*)?,(.*)$/s.exec(url);
    if (!m || !m[1] || !(m[2] ?? "").includes(";base64")) {
      throw invalidRequest(
        "bing-vision takes images as base64 data:image/... URLs or http(s) URLs",
      );
    }
    return m[3].replace(/\s+/g, "");
  }
  if (!/^https?:\/\//i.test(url)) {
    throw invalidRequest("bing-vision takes images as base64 data:image/... URLs or http(s) URLs");
  }
  // A client's URL, fetched through the SSRF guard; its failing is the client's problem (400),
  // never a reason to set the Bing account aside.
  const file = await http.fetchPublic(url, { field: "messages", maxBytes: MAX_IMAGE, log });
  const type = file.contentType;
  if (type && !type.startsWith("image/") && type !== "application/octet-stream") {
    throw invalidRequest(`the URL in messages is not an image (${type})`, "messages");
  }
  return file.bytes.toBase64();
}

/** `POST <base>/images/kblob`: uploads an image for the conversation. */
export async function uploadImage(
  http: Upstream,
  base: string,
  cookie: string,
  conversationId: string,
  base64: string,
): Promise<KBlob> {
  const form = new FormData();
  form.set(
    "knowledgeRequest",
    JSON.stringify({
      imageInfo: {},
      knowledgeRequest: {
        invokedSkills: ["ImageById"],
        subscriptionId: "Bing.Chat.Multimodal",
        invokedSkillsRequestData: { enableFaceBlur: true },
        convoData: { convoid: conversationId, convotone: "Balanced" },
      },
    }),
  );
  form.set("imageBase64", base64);
  const blob = await http.json<{ blobId?: string; processedBlobId?: string }>(
    `${base}/images/kblob`,
    {
      method: "POST",
      headers: {
        cookie,
        "user-agent": USER_AGENT,
        origin: "https://www.bing.com",
        referer: "https://www.bing.com/search?q=Bing+AI",
      },
      body: form,
    },
  );
  if (!blob.blobId) throw upstreamFailed("bing", "the image upload answered without a blobId");
  return { blobId: blob.blobId, processedBlobId: blob.processedBlobId || blob.blobId };
}
