/**
 * The argument of the ChatHub `chat` invocation: the conversation, the message, the tone, the
 * option sets of the chat or notebook template, plugins and history.
 *
 * @module
 */
import type { BingConversation } from "./conversation.ts";
import type { BingMessage } from "./history.ts";

/** Bing's conversation styles. */
export type Tone = "Creative" | "Balanced" | "Precise";

/** The tone for a temperature, as the original's "Sydney" mode chose it (missing = 1). */
export function toneOf(temperature: number | null | undefined): Tone {
  const t = temperature ?? 1;
  if (t > 0.6) return "Creative";
  if (t > 0.3) return "Balanced";
  return "Precise";
}

const CHAT_OPTIONS = [
  "deepleo",
  "enablemm",
  "dv3sugg",
  "iyxapbing",
  "iycapbing",
  "h3imaginative",
  "clgalileo",
  "enstmdfcf",
  "fluxsrchtr",
  "fluxv15htr",
  "reqadsv15tr",
  "raiojbdliscf",
  "eredirecturl",
];

/** The notebook (long document) template's option sets. */
const NOTEBOOK_OPTIONS = [
  "deepleo",
  "enablemm",
  "dv3sugg",
  "iyxapbing",
  "iycapbing",
  "h3precise",
  "enstmdfcf",
  "fluxsrchtr",
  "fluxv15htr",
  "reqadsv15tr",
  "raiojbdliscf",
  "eredirecturl",
  "clgalileo",
  "prjupywco",
];

/** Message types the client accepts (the search-related ones are left out, as in Sydney mode). */
const MESSAGE_TYPES = [
  "Chat",
  "Context",
  "Disengaged",
  "InternalLoaderMessage",
  "Progress",
  "AdsQuery",
  "GenerateContentQuery",
  "GeneratedCode",
  "InternalTasksMessage",
  "Disclaimer",
];

const SLICE_IDS = [
  "uxsimgcomb",
  "advperfall",
  "ntbkwco",
  "ionews6h",
  "voicedup2",
  "caccra3pbrcf",
  "inputdestf",
  "424rsntrim",
  "0511shortrsp3",
  "514l2sbkps0",
  "sunoupsellcf",
  "501raiojb",
  "0306flows0",
  "0429winnoprs0",
  "bgstream",
  "cactrblcf",
];

/** Options of one hub request. */
export interface HubOptions {
  conversation: BingConversation;
  text: string;
  previous: BingMessage[];
  tone: Tone;
  notebook: boolean;
  /** `bing-online`: search allowed, with these plugin ids. */
  online: boolean;
  plugins: string[];
  /** `bing-vision`: the uploaded image's URLs. */
  image?: { url: string; originalUrl: string };
}

/** A local time with its offset, as a browser writes it (`2024-05-20T22:03:41+08:00`). */
export function localTimestamp(d = new Date()): string {
  const off = -d.getTimezoneOffset();
  const pad = (n: number) => String(Math.floor(Math.abs(n))).padStart(2, "0");
  const sign = off >= 0 ? "+" : "-";
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${
    pad(d.getMinutes())
  }:${pad(d.getSeconds())}${sign}${pad(off / 60)}:${pad(off % 60)}`;
}

/** Builds the `chat` invocation argument. */
export function buildHub(o: HubOptions): Record<string, unknown> {
  const requestId = crypto.randomUUID();
  const optionsSets = [...(o.notebook ? NOTEBOOK_OPTIONS : CHAT_OPTIONS)];
  if (!o.online) optionsSets.push("nosearchall");
  const message: Record<string, unknown> = {
    locale: "en-US",
    market: "en-US",
    region: "US",
    location: "lat:47.639557;long:-122.128159;re=1000m;",
    timestamp: localTimestamp(),
    adaptiveCards: [],
    author: "user",
    inputMethod: "Keyboard",
    text: o.text,
    messageType: "Chat",
    requestId,
    messageId: requestId,
  };
  if (o.image) {
    message.imageUrl = o.image.url;
    message.originalImageUrl = o.image.originalUrl;
  }
  const hub: Record<string, unknown> = {
    source: "cib",
    optionsSets,
    allowedMessageTypes: MESSAGE_TYPES,
    sliceIds: SLICE_IDS,
    verbosity: "verbose",
    scenario: "SERP",
    plugins: o.plugins.map((id) => ({ id, category: 1 })),
    traceId: o.conversation.traceId,
    conversationHistoryOptionsSets: ["autosave", "savemem", "uprofupd", "uprofgen"],
    gptId: "copilot",
    isStartOfSession: true,
    requestId,
    message,
    tone: o.tone,
    extraExtensionParameters: { "gpt-creator-persona": { personaId: "copilot" } },
    spokenTextMode: "None",
    conversationId: o.conversation.id,
    participant: { id: o.conversation.clientId },
  };
  if (o.previous.length > 0) hub.previousMessages = o.previous;
  return hub;
}
