/**
 * The Responses request as the internal (chat) request: items merged into chat messages, tools
 * flattened or left out, tool choice, formats, files, and the 400s that name the field.
 */
import { assertEquals, assertThrows } from "../assert.ts";
import { GatewayError } from "../../src/openai/errors.ts";
import { normalizeItems, toChatRequest } from "../../src/responses/request.ts";
import { type ResponsesRequest, responsesRequest } from "../../src/responses/schema.ts";
import { loadTokenizer } from "../../src/util/tokens.ts";

await loadTokenizer();

function parse(body: Record<string, unknown>): ResponsesRequest {
  return responsesRequest.parse({ model: "m", ...body });
}

function translate(body: Record<string, unknown>) {
  const b = parse(body);
  return toChatRequest(b, normalizeItems(b.input ?? []));
}

function refused(body: Record<string, unknown>, param: string): void {
  const err = assertThrows(() => translate(body), GatewayError);
  assertEquals([err.status, err.param], [400, param], err.message);
}

const b64 = (s: string) => btoa(s);

Deno.test("a string input is one user message; instructions and developer are system", () => {
  const t = translate({ input: "hi", instructions: "Be brief." });
  assertEquals(t.chat.messages, [
    { role: "system", content: "Be brief." },
    { role: "user", content: "hi" },
  ]);
  const d = translate({
    input: [
      { role: "developer", content: "Rules." },
      {
        role: "user",
        content: [{ type: "input_text", text: "a" }, { type: "input_text", text: "b" }],
      },
    ],
  });
  assertEquals(d.chat.messages, [
    { role: "system", content: "Rules." },
    { role: "user", content: "a\nb" },
  ]);
});

Deno.test("reasoning, text and calls of one turn are one assistant message; outputs are tool messages", () => {
  const t = translate({
    input: [
      { role: "user", content: "go" },
      {
        type: "reasoning",
        id: "rs_1",
        summary: [{ type: "summary_text", text: "plan" }],
        encrypted_content: "sig",
      },
      { type: "message", role: "assistant", content: [{ type: "output_text", text: "Working." }] },
      { type: "function_call", call_id: "call_1", name: "a", arguments: '{"x":1}' },
      { type: "function_call", call_id: "call_2", name: "b", arguments: "{}" },
      { type: "function_call_output", call_id: "call_1", output: "one" },
      {
        type: "function_call_output",
        call_id: "call_2",
        output: [{ type: "input_text", text: "two" }],
      },
      { role: "assistant", content: "Done." },
    ],
  });
  assertEquals(t.chat.messages, [
    { role: "user", content: "go" },
    {
      role: "assistant",
      content: "Working.",
      reasoning_content: "plan",
      reasoning_signature: "sig",
      tool_calls: [
        { id: "call_1", type: "function", function: { name: "a", arguments: '{"x":1}' } },
        { id: "call_2", type: "function", function: { name: "b", arguments: "{}" } },
      ],
    },
    { role: "tool", tool_call_id: "call_1", content: "one" },
    { role: "tool", tool_call_id: "call_2", content: "two" },
    { role: "assistant", content: "Done." },
  ]);
});

Deno.test("earlier turns come first, with their tool calls' provider fields", () => {
  const b = parse({ input: [{ type: "function_call_output", call_id: "call_9", output: "ok" }] });
  const t = toChatRequest(b, normalizeItems(b.input!), {
    items: normalizeItems(
      parse({
        input: [
          { role: "user", content: "q" },
          { type: "function_call", call_id: "call_9", name: "f", arguments: "{}" },
        ],
      }).input!,
    ),
    extras: { call_9: { extra_content: { google: { thought_signature: "g" } } } },
  });
  assertEquals(t.chat.messages[1], {
    role: "assistant",
    content: null,
    tool_calls: [{
      id: "call_9",
      type: "function",
      function: { name: "f", arguments: "{}" },
      extra_content: { google: { thought_signature: "g" } },
    }],
  });
});

Deno.test("tools: functions pass, namespaces flatten, custom tools take input, hosted ones are left out", () => {
  const t = translate({
    input: [
      { role: "user", content: "x" },
      { type: "function_call", call_id: "c1", name: "spawn", namespace: "agents", arguments: "{}" },
      { type: "custom_tool_call", call_id: "c2", name: "apply_patch", input: "*** Begin" },
    ],
    tools: [
      { type: "function", name: "spawn", parameters: { type: "object" }, strict: true },
      {
        type: "namespace",
        name: "agents",
        description: "sub-agents",
        tools: [{ type: "function", name: "spawn", description: "Spawn one" }],
      },
      {
        type: "custom",
        name: "apply_patch",
        format: { type: "grammar", syntax: "lark", definition: "start: x" },
      },
      { type: "web_search", external_web_access: false },
    ],
  });
  const names = t.chat.tools!.map((x) => x.function.name);
  assertEquals(names, ["spawn", "agents__spawn", "apply_patch"]);
  assertEquals(t.chat.tools![0].function.strict, true);
  assertEquals(t.chat.tools![1].function.parameters, { type: "object", properties: {} });
  assertEquals(
    (t.chat.tools![2].function.parameters as { required: string[] }).required,
    ["input"],
  );
  assertEquals(t.dropped, ["web_search"]);
  assertEquals(t.tools.get("agents__spawn"), { name: "spawn", namespace: "agents", custom: false });
  const calls =
    (t.chat.messages[1] as { tool_calls: { function: { name: string; arguments: string } }[] })
      .tool_calls;
  assertEquals(calls[0].function.name, "agents__spawn");
  assertEquals(JSON.parse(calls[1].function.arguments), { input: "*** Begin" });
});

Deno.test("tool_choice: named, allowed_tools, and a forced hosted tool refused", () => {
  const tools = [
    { type: "function", name: "a" },
    { type: "function", name: "b" },
    { type: "web_search" },
  ];
  const named = translate({ input: "x", tools, tool_choice: { type: "function", name: "b" } });
  assertEquals(named.chat.tool_choice, { type: "function", function: { name: "b" } });
  const allowed = translate({
    input: "x",
    tools,
    tool_choice: {
      type: "allowed_tools",
      mode: "required",
      tools: [{ type: "function", name: "a" }],
    },
  });
  assertEquals(allowed.chat.tools!.map((t) => t.function.name), ["a"]);
  assertEquals(allowed.chat.tool_choice, "required");
  refused({ input: "x", tools, tool_choice: { type: "web_search" } }, "tool_choice");
  refused(
    { input: "x", tools, tool_choice: { type: "function", name: "zzz" } },
    "tool_choice.name",
  );
  refused({ input: "x", tools: [{ type: "web_search" }], tool_choice: "required" }, "tool_choice");
  // Only hosted tools and no forcing: no tools upstream at all.
  const none = translate({ input: "x", tools: [{ type: "web_search" }] });
  assertEquals([none.chat.tools, none.chat.tool_choice], [undefined, undefined]);
});

Deno.test("formats and sampling fields map to their chat names", () => {
  const t = translate({
    input: "x",
    text: { format: { type: "json_object" } },
    max_output_tokens: 64,
    temperature: 0.5,
    top_p: 0.9,
    reasoning: { effort: "high", summary: "auto" },
    parallel_tool_calls: false,
    tools: [{ type: "function", name: "a" }],
    stream: true,
    store: false,
    metadata: { a: "b" },
    include: ["reasoning.encrypted_content"],
    prompt_cache_key: "k",
    truncation: "auto",
    client_metadata: { ignored: true },
  });
  const c = t.chat;
  assertEquals(c.response_format, { type: "json_object" });
  assertEquals([c.max_completion_tokens, c.temperature, c.top_p], [64, 0.5, 0.9]);
  assertEquals([c.reasoning_effort, c.parallel_tool_calls, c.stream], ["high", false, true]);
  assertEquals(
    Object.keys(c).sort(),
    [
      "max_completion_tokens",
      "messages",
      "model",
      "parallel_tool_calls",
      "reasoning_effort",
      "response_format",
      "stream",
      "temperature",
      "tools",
      "top_p",
    ],
  );
});

Deno.test("files: text data becomes text, other data a file part, URLs and ids refused", () => {
  const t = translate({
    input: [{
      role: "user",
      content: [
        { type: "input_text", text: "Read:" },
        {
          type: "input_file",
          filename: "a.md",
          file_data: `data:text/markdown;base64,${b64("# Hi")}`,
        },
        {
          type: "input_file",
          filename: "b.pdf",
          file_data: "data:application/pdf;base64,JVBERi0=",
        },
        { type: "input_image", image_url: "data:image/png;base64,iVBOR", detail: "low" },
      ],
    }],
  });
  assertEquals(t.chat.messages[0].content, [
    { type: "text", text: "Read:" },
    { type: "text", text: "a.md:\n# Hi" },
    {
      type: "file",
      file: { file_data: "data:application/pdf;base64,JVBERi0=", filename: "b.pdf" },
    },
    { type: "image_url", image_url: { url: "data:image/png;base64,iVBOR", detail: "low" } },
  ]);
  refused(
    { input: [{ role: "user", content: [{ type: "input_file", file_url: "https://x/y.pdf" }] }] },
    "input[0].content[0].file_url",
  );
  refused(
    { input: [{ role: "user", content: [{ type: "input_image", file_id: "file-1" }] }] },
    "input[0].content[0].file_id",
  );
});

Deno.test("schema: items without type are messages; unknown item types and bad fields name the path", () => {
  assertEquals(parse({ input: [{ role: "user", content: "x" }] }).input![0].type, "message");
  for (
    const [input, path] of [
      [[{ type: "web_search_call", id: "ws_1" }], "input.0.type"],
      [[{ type: "function_call_output", output: "x" }], "input.0.call_id"],
      [[{ role: "robot", content: "x" }], "input.0.role"],
    ] as const
  ) {
    const r = responsesRequest.safeParse({ model: "m", input });
    assertEquals(r.success, false);
    assertEquals(r.error!.issues[0].path.join("."), path, JSON.stringify(r.error!.issues[0]));
  }
  refused({ input: [{ type: "reasoning", summary: [] }] }, "input");
  const noName = responsesRequest.safeParse({
    model: "m",
    input: "x",
    tools: [{ type: "function" }],
  });
  assertEquals(noName.success, false);
});

Deno.test("normalizeItems: ids and content parts as input_items lists them", () => {
  const items = normalizeItems(
    parse({
      input: [
        { role: "user", content: "q" },
        { role: "assistant", content: "a" },
        { type: "function_call_output", call_id: "c", output: "o" },
      ],
    }).input!,
  );
  assertEquals(items.map((i) => (i.id as string).split("_")[0]), ["msg", "msg", "fco"]);
  assertEquals((items[0] as { content: unknown }).content, [{ type: "input_text", text: "q" }]);
  assertEquals((items[1] as { content: unknown }).content, [
    { type: "output_text", text: "a", annotations: [] },
  ]);
});
