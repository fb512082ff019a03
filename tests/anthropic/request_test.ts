/**
 * Messages API requests → the internal (Chat Completions) request: every field and block kind,
 * what is left out, and on random conversations that the result is a valid internal request whose
 * tool-call ids round-trip.
 */
import { assert, assertEquals, assertThrows } from "../assert.ts";
import { toAnthropicId, toInternalId } from "../../src/anthropic/ids.ts";
import { type MessagesInput, toChatRequest } from "../../src/anthropic/request.ts";
import { messagesRequest } from "../../src/anthropic/schema.ts";
import { GatewayError } from "../../src/openai/errors.ts";
import { chatRequest } from "../../src/openai/schema.ts";

function translate(body: Record<string, unknown>) {
  return toChatRequest(messagesRequest.parse({ model: "m", max_tokens: 64, ...body }));
}

const TOOL = {
  name: "get_weather",
  description: "Weather",
  input_schema: { type: "object", properties: { city: { type: "string" } } },
};

Deno.test("system: string or text blocks; Claude Code's billing header block is left out", () => {
  const { req } = translate({
    system: [
      { type: "text", text: "x-anthropic-billing-header: cc_version=2.1; cc_entrypoint=cli;" },
      { type: "text", text: "You are terse.", cache_control: { type: "ephemeral" } },
      { type: "text", text: "Answer in English." },
    ],
    messages: [{ role: "user", content: "hi" }],
  });
  assertEquals(req.messages, [
    { role: "system", content: "You are terse.\n\nAnswer in English." },
    { role: "user", content: "hi" },
  ]);
  assertEquals(
    translate({ system: "S", messages: [{ role: "user", content: "x" }] }).req.messages[0],
    {
      role: "system",
      content: "S",
    },
  );
});

Deno.test("user blocks: text, images (base64, URL), documents as text or a file part", () => {
  const { req } = translate({
    messages: [{
      role: "user",
      content: [
        { type: "text", text: "Look:" },
        { type: "image", source: { type: "base64", media_type: "image/png", data: "iVBOR" } },
        { type: "image", source: { type: "url", url: "https://e.x/a.jpg" } },
        {
          type: "document",
          title: "Notes",
          source: { type: "text", media_type: "text/plain", data: "abc" },
        },
        {
          type: "document",
          source: { type: "base64", media_type: "application/pdf", data: "JVBER" },
        },
        {
          type: "document",
          source: { type: "content", content: [{ type: "text", text: "part" }] },
        },
      ],
    }],
  });
  assertEquals(req.messages, [{
    role: "user",
    content: [
      { type: "text", text: "Look:" },
      { type: "image_url", image_url: { url: "data:image/png;base64,iVBOR" } },
      { type: "image_url", image_url: { url: "https://e.x/a.jpg" } },
      { type: "text", text: "Notes\n\nabc" },
      {
        type: "file",
        file: { filename: "document.pdf", file_data: "data:application/pdf;base64,JVBER" },
      },
      { type: "text", text: "part" },
    ],
  }]);
});

Deno.test("a tool turn: thinking with its signature, text, tool_use; results first, then the user's text", () => {
  const { req } = translate({
    tools: [TOOL],
    messages: [
      { role: "user", content: "Weather in Paris and Rome?" },
      {
        role: "assistant",
        content: [
          { type: "thinking", thinking: "Two cities.", signature: "sig-1" },
          { type: "text", text: "Checking." },
          { type: "tool_use", id: "toolu_01A", name: "get_weather", input: { city: "Paris" } },
          { type: "tool_use", id: "toolu_01B", name: "get_weather", input: { city: "Rome" } },
        ],
      },
      {
        role: "user",
        content: [
          { type: "text", text: "Here you go." },
          {
            type: "tool_result",
            tool_use_id: "toolu_01A",
            content: "18°C",
            cache_control: { type: "ephemeral" },
          },
          {
            type: "tool_result",
            tool_use_id: "toolu_01B",
            is_error: true,
            content: [
              { type: "text", text: "no data" },
              { type: "image", source: { type: "url", url: "https://e.x/map.png" } },
            ],
          },
        ],
      },
    ],
  });
  assertEquals(req.messages.slice(1), [
    {
      role: "assistant",
      content: "Checking.",
      tool_calls: [
        {
          id: "call_01A",
          type: "function",
          function: { name: "get_weather", arguments: '{"city":"Paris"}' },
        },
        {
          id: "call_01B",
          type: "function",
          function: { name: "get_weather", arguments: '{"city":"Rome"}' },
        },
      ],
      reasoning_content: "Two cities.",
      reasoning_signature: "sig-1",
    },
    { role: "tool", tool_call_id: "call_01A", content: "18°C" },
    { role: "tool", tool_call_id: "call_01B", content: "Error: no data" },
    {
      role: "user",
      content: [
        { type: "text", text: "Here you go." },
        { type: "image_url", image_url: { url: "https://e.x/map.png" } },
      ],
    },
  ]);
});

Deno.test("a system message inside messages keeps its place; unknown blocks are left out and named", () => {
  const { req, notes } = translate({
    messages: [
      {
        role: "user",
        content: [{ type: "text", text: "hi" }, { type: "container_upload", file_id: "f" }],
      },
      { role: "system", content: [{ type: "text", text: "Env: linux" }] },
      {
        role: "assistant",
        content: [
          { type: "redacted_thinking", data: "opaque" },
          { type: "server_tool_use", id: "srvtoolu_1", name: "web_search", input: {} },
          { type: "text", text: "ok" },
        ],
      },
    ],
  });
  assertEquals(req.messages, [
    { role: "user", content: "hi" },
    { role: "system", content: "Env: linux" },
    { role: "assistant", content: "ok" },
  ]);
  assertEquals(notes, [
    "content blocks left out: container_upload, redacted_thinking, server_tool_use",
  ]);
});

Deno.test("tools: server tools left out and named; deferred tools offered once referenced or called", () => {
  const deferred = { ...TOOL, name: "late", defer_loading: true };
  const never = { ...TOOL, name: "never_loaded", defer_loading: true };
  const { req, notes } = translate({
    tools: [
      TOOL,
      { type: "web_search_20250305", name: "web_search", max_uses: 3 },
      { type: "custom", ...deferred },
      never,
    ],
    messages: [
      { role: "user", content: "find the late tool" },
      {
        role: "assistant",
        content: [{
          type: "tool_use",
          id: "toolu_1",
          name: "ToolSearch",
          input: { query: "late" },
        }],
      },
      {
        role: "user",
        content: [{
          type: "tool_result",
          tool_use_id: "toolu_1",
          content: [{ type: "tool_reference", tool_name: "late" }],
        }],
      },
    ],
  });
  assertEquals(req.tools!.map((t) => t.function.name), ["get_weather", "late"]);
  assertEquals(req.tools![0], {
    type: "function",
    function: { name: "get_weather", parameters: TOOL.input_schema, description: "Weather" },
  });
  assertEquals(req.messages[2], {
    role: "tool",
    tool_call_id: "call_1",
    content: "Tool loaded: late",
  });
  assertEquals(notes, [
    "tools left out (no upstream here runs them): web_search (web_search_20250305)",
  ]);
});

Deno.test("tool_choice: auto, any, tool, none, disable_parallel_tool_use; forcing a server tool is a 400", () => {
  const choice = (tool_choice: unknown) => {
    const { req } = translate({
      tools: [TOOL],
      tool_choice,
      messages: [{ role: "user", content: "x" }],
    });
    return { choice: req.tool_choice, parallel: req.parallel_tool_calls };
  };
  assertEquals(choice({ type: "auto" }), { choice: "auto", parallel: undefined });
  assertEquals(choice({ type: "any", disable_parallel_tool_use: true }), {
    choice: "required",
    parallel: false,
  });
  assertEquals(choice({ type: "tool", name: "get_weather" }), {
    choice: { type: "function", function: { name: "get_weather" } },
    parallel: undefined,
  });
  assertEquals(choice({ type: "none" }), { choice: "none", parallel: undefined });
  const err = assertThrows(() =>
    translate({
      tools: [{ type: "web_search_20250305", name: "web_search" }],
      tool_choice: { type: "tool", name: "web_search" },
      messages: [{ role: "user", content: "x" }],
    }), GatewayError);
  assertEquals([err.status, err.param], [400, "tool_choice"]);
  const unknown = assertThrows(
    () => choice({ type: "tool", name: "nope" }),
    GatewayError,
  );
  assertEquals(unknown.param, "tool_choice.name");
});

Deno.test("thinking and effort become reasoning; sampling, stops, JSON output as they are", () => {
  const r = (extra: Record<string, unknown>) =>
    translate({ messages: [{ role: "user", content: "x" }], ...extra }).req;
  assertEquals(r({ thinking: { type: "enabled", budget_tokens: 2048 } }).reasoning, {
    enabled: true,
    budget_tokens: 2048,
  });
  assertEquals(
    r({ thinking: { type: "adaptive", display: "omitted" }, output_config: { effort: "max" } })
      .reasoning,
    { enabled: true, effort: "xhigh" },
  );
  assertEquals(r({ thinking: { type: "disabled" } }).reasoning, { enabled: false });
  assertEquals(r({ thinking: { type: "between_tools" } }).reasoning, { enabled: true });
  assertEquals(r({ thinking: { type: "someday" } }).reasoning, undefined);
  assertEquals(r({ output_config: { effort: "someday" } }).reasoning, undefined);
  const req = r({
    temperature: 0.5,
    top_p: 0.9,
    top_k: 40,
    stop_sequences: ["END", ""],
    stream: true,
    metadata: { user_id: "u1" },
    context_management: { edits: [{ type: "clear_thinking_20251015", keep: "all" }] },
    output_config: { format: { type: "json_schema", schema: { type: "object" } } },
  });
  assertEquals(
    [req.temperature, req.top_p, req.top_k, req.stop, req.stream, req.max_tokens],
    [0.5, 0.9, 40, ["END"], true, 64],
  );
  assertEquals(req.response_format, {
    type: "json_schema",
    json_schema: { name: "output", schema: { type: "object" }, strict: true },
  });
});

Deno.test("malformed blocks are 400s naming the field", () => {
  const cases: [unknown, string][] = [
    [[{ type: "text" }], "messages[0].content[0].text"],
    [
      [{ type: "image", source: { type: "base64", media_type: "image/png" } }],
      "messages[0].content[0].source.data",
    ],
    [[{ type: "tool_result", content: "x" }], "messages[0].content[0].tool_use_id"],
    [
      [{ type: "tool_result", tool_use_id: "t", content: [{ type: "text", text: 3 }] }],
      "messages[0].content[0].content[0].text",
    ],
    [[{ type: "document", source: { type: "nope" } }], "messages[0].content[0].source.type"],
  ];
  for (const [content, param] of cases) {
    const err = assertThrows(
      () => translate({ messages: [{ role: "user", content }] }),
      GatewayError,
    );
    assertEquals([err.status, err.param], [400, param], JSON.stringify(content));
  }
  const use = assertThrows(() =>
    translate({
      messages: [{
        role: "assistant",
        content: [{ type: "tool_use", id: "t", name: "f", input: "x" }],
      }],
    }), GatewayError);
  assertEquals(use.param, "messages[0].content[0].input");
  const schema = assertThrows(
    () => translate({ tools: [{ name: "f" }], messages: [{ role: "user", content: "x" }] }),
    GatewayError,
  );
  assertEquals(schema.param, "tools[0].input_schema");
});

Deno.test("ids round-trip: call_ ↔ toolu_, any other id kept consistent", () => {
  assertEquals(toAnthropicId("call_abc123"), "toolu_abc123");
  assertEquals(toInternalId("toolu_abc123"), "call_abc123");
  assertEquals(toInternalId(toAnthropicId("call_XyZ_09")), "call_XyZ_09");
  assertEquals(toAnthropicId(toInternalId("toolu_01ABC")), "toolu_01ABC");
  assertEquals(toAnthropicId("fc-1.2"), "toolu_fc-1_2");
  assertEquals(toInternalId("my-own-id"), "my-own-id");
});

/** A small seeded generator (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

Deno.test("random conversations translate into valid internal requests with matching tool ids", () => {
  for (let seed = 1; seed <= 200; seed++) {
    const r = rng(seed);
    const messages: unknown[] = [];
    let open: string[] = [];
    const turns = 1 + Math.floor(r() * 6);
    for (let t = 0; t < turns; t++) {
      const content: unknown[] = open.map((id) => ({
        type: "tool_result",
        tool_use_id: id,
        content: r() < 0.5 ? "ok" : [{ type: "text", text: "ok" }],
        is_error: r() < 0.2,
      }));
      if (r() < 0.7 || content.length === 0) content.push({ type: "text", text: `u${t}` });
      messages.push({ role: "user", content: r() < 0.2 && open.length === 0 ? `u${t}` : content });
      if (r() < 0.2) messages.push({ role: "system", content: `s${t}` });
      const calls = Math.floor(r() * 3);
      open = Array.from({ length: calls }, (_, i) => `toolu_${seed}_${t}_${i}`);
      messages.push({
        role: "assistant",
        content: [
          ...(r() < 0.3 ? [{ type: "thinking", thinking: "hm", signature: "s" }] : []),
          ...(r() < 0.6 ? [{ type: "text", text: `a${t}` }] : []),
          ...open.map((id) => ({ type: "tool_use", id, name: "get_weather", input: { city: id } })),
        ],
      });
    }
    const body = messagesRequest.parse({ model: "m", max_tokens: 10, tools: [TOOL], messages });
    const { req } = toChatRequest(body as MessagesInput);
    const check = chatRequest.safeParse(req);
    assert(check.success, `seed ${seed}: ${JSON.stringify(check.error?.issues)}`);
    // Every tool message answers a call of the assistant message before it.
    let ids: string[] = [];
    for (const m of req.messages) {
      if (m.role === "assistant") ids = (m.tool_calls ?? []).map((c) => c.id!);
      else if (m.role === "tool") assert(ids.includes(m.tool_call_id), `seed ${seed}`);
      else if (m.role === "user") ids = [];
    }
  }
});
