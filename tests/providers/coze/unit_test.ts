/**
 * Coze's API pieces on their own: the stream reader cut at every byte, the request body, the
 * model ids, the error codes and the token choice.
 */
import { assert, assertEquals, assertRejects, assertThrows } from "../../assert.ts";
import { bodyOf, collect, splits } from "../../chunks.ts";
import { parseConfig } from "../../../src/config/mod.ts";
import { readSse } from "../../../src/net/sse.ts";
import { GatewayError } from "../../../src/openai/errors.ts";
import type { ChatRequest } from "../../../src/openai/schema.ts";
import { clientToken } from "../../../src/providers/coze/account.ts";
import { cozeApiError } from "../../../src/providers/coze/errors.ts";
import { defaultBot, resolveTarget } from "../../../src/providers/coze/models.ts";
import { toCozeRequest } from "../../../src/providers/coze/request.ts";
import { fromCozeStream } from "../../../src/providers/coze/stream.ts";
import type { ChatEvent } from "../../../src/providers/types.ts";

const STREAM = [
  'event:conversation.chat.created\ndata:{"id":"c1","conversation_id":"v1","status":"created"}',
  'event:conversation.message.delta\ndata:{"id":"m1","role":"assistant","type":"answer","content":"","content_type":"text","reasoning_content":"hmm "}',
  'event:conversation.message.delta\r\ndata:{"id":"m1","role":"assistant","type":"answer","content":"Grüß ","content_type":"text"}',
  'event: conversation.message.delta\ndata: {"id":"m1","role":"assistant","type":"answer","content":"dich ✓","content_type":"text"}',
  'event:conversation.message.completed\ndata:{"id":"m1","role":"assistant","type":"answer","content":"Grüß dich ✓","content_type":"text"}',
  'event:conversation.message.completed\ndata:{"id":"m2","role":"assistant","type":"function_call","content":"{\\"name\\":\\"x\\"}","content_type":"text"}',
  'event:conversation.message.completed\ndata:{"id":"m3","role":"assistant","type":"verbose","content":"{\\"msg_type\\":\\"generate_answer_finish\\"}","content_type":"text"}',
  'event:conversation.message.completed\ndata:{"id":"m4","role":"assistant","type":"follow_up","content":"More?","content_type":"text"}',
  'event:conversation.chat.completed\ndata:{"id":"c1","status":"completed","usage":{"token_count":30,"input_count":21,"output_count":9}}',
  'event:done\ndata:"[DONE]"',
].join("\n\n") + "\n\n";

const EXPECTED: ChatEvent[] = [
  { type: "reasoning", text: "hmm " },
  { type: "text", text: "Grüß " },
  { type: "text", text: "dich ✓" },
  { type: "usage", prompt_tokens: 21, completion_tokens: 9 },
  { type: "finish", reason: "stop" },
];

function events(text: string | Uint8Array[]) {
  const pieces = typeof text === "string" ? [new TextEncoder().encode(text)] : text;
  return fromCozeStream(readSse(bodyOf(pieces)), { logid: "L1" });
}

Deno.test("coze stream: the same events however the bytes are cut (every position, byte by byte)", async () => {
  for (const pieces of splits(STREAM)) {
    assertEquals(await collect(events(pieces)), EXPECTED);
  }
});

Deno.test("coze stream: refusals, a failed chat, requires_action and a missing done are errors", async () => {
  const status = async (text: string) =>
    (await assertRejects(() => collect(events(text)), GatewayError)).status;
  assertEquals(await status('event:error\ndata:{"code":4100,"msg":"bad token"}\n\n'), 401);
  assertEquals(
    await status(
      'event:conversation.chat.failed\ndata:{"status":"failed","last_error":{"code":4013,"msg":"limit"}}\n\n',
    ),
    429,
  );
  assertEquals(
    await status(
      'event:conversation.chat.requires_action\ndata:{"required_action":{"submit_tool_outputs":{"tool_calls":[{"function":{"name":"f"}}]}}}\n\n',
    ),
    502,
  );
  const cut = await assertRejects(
    () =>
      collect(
        events(
          'event:conversation.message.delta\ndata:{"role":"assistant","type":"answer","content":"a"}\n\n',
        ),
      ),
    GatewayError,
  );
  assertEquals(cut.status, 502);
  assert(cut.message.includes("without its done event"));
  assertEquals(await status("event:conversation.message.delta\ndata:{oops\n\n"), 502);
});

Deno.test("coze stream: usage counts that are no numbers count as unknown, never NaN (fuzz finding)", async () => {
  const stream = [
    'event:conversation.message.delta\ndata:{"id":"m","role":"assistant","type":"answer","content":"hi"}\n\n',
    'event:conversation.chat.completed\ndata:{"usage":{"input_count":{},"output_count":"7"}}\n\n',
    'event:done\ndata:"[DONE]"\n\n',
  ].join("");
  assertEquals(await collect(events([new TextEncoder().encode(stream)])), [
    { type: "text", text: "hi" },
    { type: "usage", prompt_tokens: 0, completion_tokens: 7 },
    { type: "finish", reason: "stop" },
  ]);
});

Deno.test("coze stream: multimodal answers give their text and images; cards give nothing", async () => {
  const parts = JSON.stringify([{ type: "text", text: "Here:" }, {
    type: "image",
    file_url: "https://x/i.png",
  }]);
  const text = [
    `event:conversation.message.delta\ndata:${
      JSON.stringify({
        role: "assistant",
        type: "answer",
        content: parts,
        content_type: "object_string",
      })
    }`,
    'event:conversation.message.delta\ndata:{"role":"assistant","type":"answer","content":"{}","content_type":"card"}',
    'event:done\ndata:"[DONE]"',
  ].join("\n\n") + "\n\n";
  assertEquals(await collect(events(text)), [
    { type: "text", text: "Here:\n![image](https://x/i.png)" },
    { type: "finish", reason: "stop" },
  ]);
});

Deno.test("coze request: roles, images, the user field, at most 100 messages", () => {
  const req = {
    model: "coze",
    messages: [
      { role: "developer", content: "D" },
      { role: "user", content: "u1" },
      { role: "assistant", content: "a1" },
      { role: "tool", tool_call_id: "t", content: "42" },
      {
        role: "user",
        content: [{ type: "image_url", image_url: { url: "data:image/png;base64,AA==" } }],
      },
    ],
  } as ChatRequest;
  const body = toCozeRequest(req, { botId: "7", userId: "gw", files: new Map() });
  assertEquals(body.user_id, "gw");
  assertEquals(body.additional_messages.map((m) => [m.role, m.type, m.content_type]), [
    ["user", "question", "text"],
    ["user", "question", "text"],
    ["assistant", "answer", "text"],
    ["user", "question", "object_string"],
  ]);
  // The tool result and the image merge into one user turn.
  const last = JSON.parse(body.additional_messages[3].content);
  assertEquals(last[1], { type: "image", file_id: "(uploaded image)" });
  assertEquals(toCozeRequest({ ...req, user: "bob" }, { botId: "7", userId: "gw" }).user_id, "bob");
  assertThrows(
    () =>
      toCozeRequest({ model: "coze", messages: [{ role: "user", content: " " }] }, {
        botId: "7",
        userId: "u",
      }),
    GatewayError,
  );
});

Deno.test("coze model ids: bot ids, names, the original's forms, the default bot", () => {
  const config = parseConfig(
    'coze: { bots: { writer: "111", "coze/poet": 222 }, "8k": { "bot-id": "888" } }',
    "c.yaml",
  ).config;
  assertEquals(resolveTarget("coze", config), {});
  assertEquals(resolveTarget("coze/websdk", config), {});
  assertEquals(resolveTarget("coze/writer", config), { botId: "111" });
  assertEquals(resolveTarget("coze/poet", config), { botId: "222" });
  assertEquals(resolveTarget("coze/7351", config), { botId: "7351" });
  assertEquals(resolveTarget("coze/7351-1716801150371-2-o", config), { botId: "7351" });
  assertEquals(resolveTarget("coze/x y", config), undefined);
  assertEquals(resolveTarget("cozy", config), undefined);
  assertEquals(defaultBot(config, 10), "888");
  const none = parseConfig("", "c.yaml").config;
  assertEquals(assertThrows(() => defaultBot(none, 10), GatewayError).status, 404);
});

Deno.test("coze errors: the documented codes and their statuses", () => {
  const cases: [number, number][] = [
    [4000, 400],
    [4100, 401],
    [4101, 403],
    [4200, 404],
    [4013, 429],
    [4016, 429],
    [700012006, 502],
  ];
  for (const [code, status] of cases) {
    assertEquals(cozeApiError(code, "m", "log").status, status, String(code));
  }
  assert(cozeApiError(4101, "m").notAccount);
  assert(cozeApiError(4016, "m").notAccount);
  assert(!cozeApiError(4100, "m").notAccount);
  assertEquals(cozeApiError(4016, "m").retryAfter, 1);
});

Deno.test("coze tokens: a pat_ key serves; other keys only when no token is configured", () => {
  assertEquals(clientToken("pat_x", 2), "pat_x");
  assertEquals(clientToken("sk-x", 2), undefined);
  assertEquals(clientToken("sk-x", 0), "sk-x");
  assertEquals(clientToken(undefined, 0), undefined);
});
