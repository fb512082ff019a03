/**
 * Test helpers shared by the web-account providers (claude, copilot, coze): the gateway's pool state,
 * one-line requests through the `openai` client, and reading a streamed answer or tool call.
 *
 * @module
 */
import type OpenAI from "openai";
import type { TestGateway } from "../helpers.ts";

/** One account of `GET /v1/pool`. */
export interface PoolAccount {
  id: string;
  busy: number;
  ready: boolean;
  aside_until: string | null;
  last_error: string | null;
  uses: number;
}

/** The accounts `GET /v1/pool` lists for `provider`, asked with the gateway key `key`. */
export async function poolAccounts(
  gw: TestGateway,
  provider: string,
  key: string,
): Promise<PoolAccount[]> {
  const res = await fetch(`${gw.origin}/v1/pool`, {
    headers: { authorization: `Bearer ${key}` },
  });
  const body = await res.json() as { data: { provider: string; accounts: PoolAccount[] }[] };
  return body.data.find((p) => p.provider === provider)?.accounts ?? [];
}

/** A non-streamed request of one user message. */
export function ask(
  client: OpenAI,
  model: string,
  content = "hi",
): Promise<OpenAI.Chat.ChatCompletion> {
  return client.chat.completions.create({ model, messages: [{ role: "user", content }] });
}

/** What a streamed answer delivered. */
export interface StreamedAnswer {
  chunks: OpenAI.Chat.ChatCompletionChunk[];
  /** The content deltas, in order. */
  parts: string[];
  text: string;
  finish: string | null;
  usage?: OpenAI.CompletionUsage;
}

/** Streams `body` and collects its content, finish reason and usage. */
export async function streamText(
  client: OpenAI,
  body: Omit<OpenAI.Chat.ChatCompletionCreateParamsStreaming, "stream">,
): Promise<StreamedAnswer> {
  const stream = await client.chat.completions.create({ ...body, stream: true });
  const chunks: OpenAI.Chat.ChatCompletionChunk[] = [];
  const parts: string[] = [];
  let finish: string | null = null;
  let usage: OpenAI.CompletionUsage | undefined;
  for await (const chunk of stream) {
    chunks.push(chunk);
    const c = chunk.choices[0];
    if (c?.delta.content) parts.push(c.delta.content);
    if (c?.finish_reason) finish = c.finish_reason;
    if (chunk.usage) usage = chunk.usage;
  }
  return { chunks, parts, text: parts.join(""), finish, usage };
}

/** A tool call put together from its streamed deltas. */
export interface StreamedCall {
  id?: string;
  name?: string;
  /** The arguments' JSON text. */
  args: string;
}

/** Streams `body` (with tools) and puts the tool calls together from their deltas by index. */
export async function streamToolCalls(
  client: OpenAI,
  body: Omit<OpenAI.Chat.ChatCompletionCreateParamsStreaming, "stream">,
): Promise<{ calls: StreamedCall[]; text: string; finish: string | null }> {
  const r = await streamText(client, body);
  const calls: StreamedCall[] = [];
  for (const chunk of r.chunks) {
    for (const tc of chunk.choices[0]?.delta.tool_calls ?? []) {
      calls[tc.index] ??= { args: "" };
      if (tc.id) calls[tc.index].id = tc.id;
      if (tc.function?.name) calls[tc.index].name = tc.function.name;
      calls[tc.index].args += tc.function?.arguments ?? "";
    }
  }
  return { calls, text: r.text, finish: r.finish };
}

/** The assistant message of a streamed call and the tool message answering it with `result`. */
export function toolTurn(
  call: StreamedCall,
  result: string,
): OpenAI.Chat.ChatCompletionMessageParam[] {
  return [
    {
      role: "assistant",
      content: null,
      tool_calls: [{
        id: call.id!,
        type: "function",
        function: { name: call.name!, arguments: call.args },
      }],
    },
    { role: "tool", tool_call_id: call.id!, content: result },
  ];
}
