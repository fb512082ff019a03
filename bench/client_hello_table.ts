/**
 * Turns a captured ClientHello and HTTP/2 preamble into short table cells for
 * `bench/client_hello.ts`.
 *
 * @module
 */
import {
  CERT_COMPRESSION_NAMES,
  type ClientHello,
  EXT,
  extensionName,
  GROUP_NAMES,
  isGrease,
} from "../tests/fakes/client_hello.ts";
import { type HttpCapture, SETTING_NAMES } from "../tests/fakes/h2_capture.ts";

/** One client's row: feature -> cell text. */
export type Row = Record<string, string>;

const hex = (v: number) => `0x${v.toString(16).padStart(4, "0")}`;

/** The TLS features of a hello as table cells. */
export function describeHello(h: ClientHello): Row {
  const greaseExt = h.extensions.filter((e) => isGrease(e.type));
  const exts = h.extensions.map((e) => extensionName(e.type));
  const ech = h.extensions.find((e) => e.type === EXT.ech);
  const sorted = h.extensions.filter((e) => !isGrease(e.type)).map((e) => e.type).sort((a, b) =>
    a - b
  );
  return {
    "GREASE in ciphers": h.ciphers.some(isGrease) ? "yes" : "no",
    "GREASE extensions (count, positions)": greaseExt.length
      ? `${greaseExt.length} at ${
        h.extensions.map((e, i) => isGrease(e.type) ? i : -1).filter((i) => i >= 0).join(",")
      } of ${h.extensions.length}`
      : "none",
    "GREASE in groups / versions": `${h.groups.some(isGrease) ? "yes" : "no"} / ${
      h.versions.some(isGrease) ? "yes" : "no"
    }`,
    "cipher suites (non-GREASE)": h.ciphers.filter((c) => !isGrease(c)).map(hex).join(" "),
    "extensions as sent": exts.join(" "),
    "extension set (sorted numbers)": sorted.join(","),
    "ALPN": h.alpn.join(","),
    "ALPS (codepoint: payload)": h.alps ? `${h.alps.type}: ${h.alps.protocols.join(",")}` : "none",
    "supported groups": h.groups.map((g) => isGrease(g) ? "GREASE" : GROUP_NAMES[g] ?? hex(g))
      .join(" "),
    "key shares": h.keyShares.map((g) => isGrease(g) ? "GREASE" : GROUP_NAMES[g] ?? hex(g))
      .join(" "),
    "signature algorithms": h.sigalgs.map(hex).join(" "),
    "supported versions": h.versions.map((v) => isGrease(v) ? "GREASE" : hex(v)).join(" "),
    "cert compression": h.certCompression.map((c) => CERT_COMPRESSION_NAMES[c] ?? String(c))
      .join(",") || "none",
    "ECH GREASE (bytes)": ech ? String(ech.data.length) : "none",
    "ClientHello bytes": String(h.length),
  };
}

/** The HTTP/2 preamble of a capture as table cells. */
export function describeHttp(c: HttpCapture): Row {
  const pseudo = c.headers.filter(([k]) => k.startsWith(":")).map(([k]) => k).join(" ");
  const regular = c.headers.filter(([k]) => !k.startsWith(":")).map(([k]) => k).join(" ");
  const ua = c.headers.find(([k]) => k === "user-agent")?.[1] ?? "";
  return {
    "HTTP protocol": c.protocol,
    "SETTINGS": c.settings.map(([id, v]) => `${SETTING_NAMES[id] ?? id}=${v}`).join(" ") || "-",
    "WINDOW_UPDATE": c.windowUpdate === undefined ? "-" : String(c.windowUpdate),
    "frames before request": c.frames.join(" "),
    "PRIORITY frames": String(c.priorityFrames.length),
    "HEADERS priority": c.headersPriority
      ? `excl=${
        c.headersPriority.exclusive ? 1 : 0
      } dep=${c.headersPriority.dependsOn} w=${c.headersPriority.weight}`
      : "none",
    "pseudo-header order": pseudo || "-",
    "header order": regular,
    "user-agent": ua,
  };
}
