/**
 * you.com's API pieces on their own: the run stream reader cut at every byte, the input, the
 * agent of each model id, the error mapping.
 */
import { assertEquals, assertRejects, assertStringIncludes } from "../../assert.ts";
import { bodyOf, collect, splits } from "../../chunks.ts";
import { parseConfig } from "../../../src/config/mod.ts";
import { readSse } from "../../../src/net/sse.ts";
import { GatewayError } from "../../../src/openai/errors.ts";
import type { ChatRequest } from "../../../src/openai/schema.ts";
import { youApiError } from "../../../src/providers/you/errors.ts";
import { clientKey } from "../../../src/providers/you/mod.ts";
import { resolveAgent } from "../../../src/providers/you/models.ts";
import { youInput } from "../../../src/providers/you/request.ts";
import { fromYouStream } from "../../../src/providers/you/stream.ts";
import type { ChatEvent } from "../../../src/providers/types.ts";

function ev(seq: number, type: string, response?: unknown): string {
  return `id: ${seq}\nevent: ${type}\ndata: ${JSON.stringify({ seq_id: seq, type, response })}\n\n`;
}

const STREAM = ev(0, "response.created") + ev(1, "response.starting") +
  ev(2, "response.output_item.added", { output_index: 0 }) +
  ev(3, "response.output_content.full", {
    output_index: 0,
    type: "web_search.results",
    full: [
      { url: "https://a.example/", title: "Ä", citation_uri: "https://a.example/" },
      { citation_uri: "https://b.example/", title: "" },
    ],
  }) +
  ev(4, "response.output_item.added", { output_index: 1 }) +
  ev(5, "response.output_text.delta", { output_index: 1, type: "message.answer", delta: "Grüß " }) +
  ev(6, "response.output_text.delta", {
    output_index: 1,
    type: "message.answer",
    delta: "✓ [[1]]",
  }) +
  ev(7, "response.output_item.done", { output_index: 1 }) +
  ev(8, "response.done", { run_time_ms: "12", finished: true });

const EXPECTED: ChatEvent[] = [
  { type: "citation", index: 1, url: "https://a.example/", title: "Ä" },
  { type: "citation", index: 2, url: "https://b.example/" },
  { type: "text", text: "Grüß " },
  { type: "text", text: "✓ [[1]]" },
  { type: "finish", reason: "stop" },
];

function run(pieces: Uint8Array[] | string) {
  const p = typeof pieces === "string" ? [new TextEncoder().encode(pieces)] : pieces;
  return fromYouStream(readSse(bodyOf(p)));
}

Deno.test("you stream: the same events however the bytes are cut (every position, byte by byte)", async () => {
  for (const pieces of splits(STREAM)) assertEquals(await collect(run(pieces)), EXPECTED);
});

Deno.test("you stream: no response.done, an error event and unreadable data are errors", async () => {
  const cut = await assertRejects(() => collect(run(STREAM.split("id: 8")[0])), GatewayError);
  assertEquals(cut.status, 502);
  assertStringIncludes(cut.message, "response.done");
  const failed = await assertRejects(
    () => collect(run('event: error\ndata: {"detail":"agent crashed"}\n\n')),
    GatewayError,
  );
  assertStringIncludes(failed.message, "agent crashed");
  await assertRejects(
    () => collect(run("event: response.output_text.delta\ndata: {x\n\n")),
    GatewayError,
  );
});

Deno.test("you stream: web results whose list is not a list give no sources, never a TypeError (fuzz finding)", async () => {
  const stream = [
    'event: response.output_content.full\ndata: {"response":{"type":"web_search.results","full":{"a":1}}}\n\n',
    'event: response.output_content.full\ndata: {"response":{"type":"web_search.results","full":[null,7]}}\n\n',
    'event: response.output_text.delta\ndata: {"response":{"type":"message.answer","delta":"ok"}}\n\n',
    'event: response.done\ndata: {"response":{"finished":true}}\n\n',
  ].join("");
  assertEquals(await collect(run(stream)), [
    { type: "text", text: "ok" },
    { type: "finish", reason: "stop" },
  ]);
});

Deno.test("you input: one user message as it is, conversations as Human/Assistant turns", () => {
  const req = (messages: unknown[]) => ({ model: "you/express", messages }) as ChatRequest;
  assertEquals(youInput(req([{ role: "user", content: "50% off?" }])), "50% off?");
  assertEquals(
    youInput(
      req([{ role: "user", content: "a" }, { role: "assistant", content: "b" }, {
        role: "user",
        content: "c",
      }]),
      { user: "U:", assistant: "A:" },
    ),
    "U:a\n\nA:b\n\nU:c",
  );
});

Deno.test("you agents: built-ins, uuids, you.agents, the original's ids", () => {
  const config = parseConfig(
    'you: { agents: { "you/writer": "advanced", gpt_4o: "11111111-2222-3333-4444-555555555555" }, models: [gpt_5, deep_reasoner] }',
    "c.yaml",
  ).config;
  assertEquals(resolveAgent("you/express", config), "express");
  assertEquals(resolveAgent("you/advanced", config), "advanced");
  assertEquals(resolveAgent("you/writer", config), "advanced");
  assertEquals(resolveAgent("you/gpt_4o", config), "11111111-2222-3333-4444-555555555555");
  assertEquals(resolveAgent("you/gpt_4o_mini", config), "express");
  assertEquals(resolveAgent("you/openai_o1_mini", config), "advanced");
  assertEquals(resolveAgent("you/gpt_5", config), "express");
  assertEquals(resolveAgent("you/deep_reasoner", config), "advanced");
  assertEquals(
    resolveAgent("you/aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", config),
    "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
  );
  assertEquals(resolveAgent("you/unknown", config), undefined);
  assertEquals(resolveAgent("express", config), undefined);
});

Deno.test("you errors: statuses and messages", () => {
  const e = (status: number, body: unknown) =>
    youApiError(status, JSON.stringify(body), new Headers(), 600);
  const quota = e(402, { detail: "Insufficient credits" });
  assertEquals([quota.status, quota.type, quota.code, quota.retryAfter], [
    429,
    "insufficient_quota",
    "insufficient_quota",
    600,
  ]);
  assertEquals(e(401, { detail: "API key is required" }).status, 401);
  assertEquals(e(403, { detail: "Missing required scopes" }).status, 403);
  assertEquals(e(404, { detail: "Agent not found" }).param, "model");
  assertEquals(e(400, { status: 400, code: "bad_request", title: "Bad Request" }).status, 400);
  assertEquals(
    e(422, { error: "invalid request parameter(s)" }).message.includes("invalid request"),
    true,
  );
  assertEquals(e(503, "down").status, 502);
  assertEquals(
    youApiError(500, "<html>oops</html>", new Headers(), 1).message.includes("oops"),
    true,
  );
});

Deno.test("you keys: ydc-sk- keys serve; others only when no key is configured", () => {
  assertEquals(clientKey("ydc-sk-1", 1), "ydc-sk-1");
  assertEquals(clientKey("sk-1", 1), undefined);
  assertEquals(clientKey("sk-1", 0), "sk-1");
});
