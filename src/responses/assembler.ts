/**
 * Turns the pipeline's `ChatEvent`s into Responses output items and, for streams, the server
 * events that build them:
 *
 * - One item is open at a time, in order: an event for another kind of item (text after
 *   reasoning, a new tool call, ...) closes the open one (`output_item.done`) first. Output
 *   indexes are the order items were added.
 * - Text is a `message` with one `output_text` part; reasoning a `reasoning` item with one
 *   `summary_text` part (its signature, when the upstream gave one, is `encrypted_content`);
 *   each tool call a `function_call` (a `custom_tool_call` for a custom tool, whose input is sent
 *   whole when the call ends since it is the `input` field of the upstream's JSON arguments).
 * - Cited sources become `url_citation` annotations of the message they arrived in (spanning the
 *   `[n]` marker when the text has it); sources cited outside any message end in a message of
 *   footnotes, as Chat Completions writes them.
 * - Every event has the next `sequence_number`. In JSON mode no event text is made.
 *
 * @module
 */
import type { ChatEvent, CitationEvent, FinishEvent, UsageEvent } from "../core/events.ts";
import { footnotes } from "../openai/writer.ts";
import { responseItemId, toolCallId } from "../util/id.ts";
import { type Item, publicItem } from "./object.ts";
import type { ToolMap } from "./tools.ts";

type Status = "completed" | "incomplete";

interface OpenText {
  kind: "message" | "reasoning";
  index: number;
  id: string;
  parts: string[];
  citations: CitationEvent[];
  signature?: string;
}

interface OpenCall {
  kind: "call";
  index: number;
  id: string;
  callId: string;
  name: string;
  namespace?: string;
  custom: boolean;
  args: string[];
  done: boolean;
}

/** Accumulates one response's output and renders its server events. */
export class ResponseAssembler {
  /** The output items by output index (an open item holds its `in_progress` snapshot). */
  readonly items: Item[] = [];
  /** Provider fields of the tool calls (Gemini's thought signatures), by call id. */
  readonly extras: Record<string, Record<string, unknown>> = {};
  usage?: UsageEvent;
  finish?: FinishEvent;
  #seq = 0;
  #out = "";
  #open?: OpenText | OpenCall;
  #calls = new Map<number, OpenCall>();
  /** Sources cited while no message was open. */
  #held: CitationEvent[] = [];
  /** The last reasoning item, for a signature that arrives after it closed. */
  #lastReasoning?: OpenText;

  constructor(
    readonly streaming: boolean,
    readonly tools: ToolMap,
    /** Show reasoning's `encrypted_content` in the events (the items always keep it). */
    readonly encrypted = false,
  ) {}

  /** Takes the event text made since the last call. */
  take(): string {
    const s = this.#out;
    this.#out = "";
    return s;
  }

  /** Adds one server event: `body` is its JSON after `type` and `sequence_number`. */
  emit(type: string, body: string): void {
    if (!this.streaming) return;
    this.#out += `event: ${type}\ndata: {"type":"${type}","sequence_number":${this.#seq++}${
      body ? `,${body}` : ""
    }}\n\n`;
  }

  #emitJson(type: string, fields: Record<string, unknown>): void {
    if (!this.streaming) return;
    this.emit(type, JSON.stringify(fields).slice(1, -1));
  }

  /** Applies one event. */
  apply(ev: ChatEvent): void {
    switch (ev.type) {
      case "text":
        if (ev.text === "") return;
        this.#text("message").parts.push(ev.text);
        this.#delta(this.#open as OpenText, ev.text);
        return;
      case "reasoning":
        return this.#reasoning(ev.text, ev.signature);
      case "tool_call":
        return this.#toolCall(ev.index, ev.id, ev.name, ev.arguments, ev.extra);
      case "citation":
        if (this.#open?.kind === "message") this.#open.citations.push(ev);
        else this.#held.push(ev);
        return;
      case "usage":
        this.usage = ev;
        return;
      case "finish":
        this.finish ??= ev;
        return;
    }
  }

  /** The open text item of `kind`, closing another open item and opening one if needed. */
  #text(kind: "message" | "reasoning"): OpenText {
    const open = this.#open;
    if (open?.kind === kind) return open;
    this.closeOpen("completed");
    const index = this.items.length;
    const id = responseItemId(kind === "message" ? "msg" : "rs");
    const t: OpenText = { kind, index, id, parts: [], citations: [] };
    if (kind === "message") {
      t.citations = this.#held;
      this.#held = [];
      this.#added(index, {
        id,
        type: "message",
        status: "in_progress",
        content: [],
        role: "assistant",
      });
      this.#emitJson("response.content_part.added", {
        item_id: id,
        output_index: index,
        content_index: 0,
        part: { type: "output_text", annotations: [], logprobs: [], text: "" },
      });
    } else {
      this.#lastReasoning = t;
      this.#added(index, { id, type: "reasoning", summary: [] });
      this.#emitJson("response.reasoning_summary_part.added", {
        item_id: id,
        output_index: index,
        summary_index: 0,
        part: { type: "summary_text", text: "" },
      });
    }
    this.#open = t;
    return t;
  }

  #delta(t: OpenText, text: string): void {
    if (!this.streaming) return;
    if (t.kind === "message") {
      this.emit(
        "response.output_text.delta",
        `"item_id":"${t.id}","output_index":${t.index},"content_index":0,"delta":${
          JSON.stringify(text)
        },"logprobs":[]`,
      );
    } else {
      this.emit(
        "response.reasoning_summary_text.delta",
        `"item_id":"${t.id}","output_index":${t.index},"summary_index":0,"delta":${
          JSON.stringify(text)
        }`,
      );
    }
  }

  #reasoning(text: string, signature: string | undefined): void {
    if (text === "" && signature) {
      // A signature alone belongs to the reasoning before it (or opens an empty one).
      const target = this.#open?.kind === "reasoning"
        ? this.#open
        : this.#lastReasoning ?? this.#text("reasoning");
      target.signature = signature;
      if (target !== this.#open) {
        (this.items[target.index] as Record<string, unknown>).encrypted_content = signature;
      }
      return;
    }
    if (text === "") return;
    const t = this.#text("reasoning");
    if (signature) t.signature = signature;
    t.parts.push(text);
    this.#delta(t, text);
  }

  #toolCall(
    index: number,
    id: string | undefined,
    name: string | undefined,
    args: string,
    extra: Record<string, unknown> | undefined,
  ): void {
    let call = this.#calls.get(index);
    if (!call) {
      this.closeOpen("completed");
      const upstream = name ?? "";
      const ref = this.tools.get(upstream);
      const custom = ref?.custom === true;
      call = {
        kind: "call",
        index: this.items.length,
        id: responseItemId(custom ? "ctc" : "fc"),
        callId: id || toolCallId(),
        name: ref?.name ?? upstream,
        namespace: ref?.namespace,
        custom,
        args: [],
        done: false,
      };
      if (extra) this.extras[call.callId] = extra;
      this.#calls.set(index, call);
      this.#open = call;
      this.#added(call.index, this.#callItem(call, "in_progress", ""));
    }
    // A fragment for a call closed already (an upstream interleaving calls and text) cannot be
    // told to the client any more: the call stays as its `.done` events said.
    if (!args || call.done) return;
    call.args.push(args);
    if (call.custom || !this.streaming) return;
    this.emit(
      "response.function_call_arguments.delta",
      `"item_id":"${call.id}","output_index":${call.index},"delta":${JSON.stringify(args)}`,
    );
  }

  #callItem(call: OpenCall, status: string, args: string): Item {
    if (call.custom) {
      return {
        id: call.id,
        type: "custom_tool_call",
        status,
        call_id: call.callId,
        input: args,
        name: call.name,
      };
    }
    const item: Item = {
      id: call.id,
      type: "function_call",
      status,
      arguments: args,
      call_id: call.callId,
      name: call.name,
    };
    if (call.namespace) item.namespace = call.namespace;
    return item;
  }

  #added(index: number, item: Item): void {
    this.items[index] = item;
    this.#emitJson("response.output_item.added", { output_index: index, item });
  }

  #done(index: number, item: Item): void {
    this.items[index] = item;
    const shown = publicItem(item, this.encrypted);
    this.#emitJson("response.output_item.done", { output_index: index, item: shown });
  }

  /** Closes the open item with `status`. */
  closeOpen(status: Status): void {
    const open = this.#open;
    if (!open) return;
    this.#open = undefined;
    if (open.kind === "call") return this.#closeCall(open, status);
    const text = open.parts.join("");
    if (open.kind === "reasoning") {
      const part = { type: "summary_text", text };
      const at = { item_id: open.id, output_index: open.index, summary_index: 0 };
      this.#emitJson("response.reasoning_summary_text.done", { ...at, text });
      this.#emitJson("response.reasoning_summary_part.done", { ...at, part });
      const item: Item = { id: open.id, type: "reasoning", summary: text ? [part] : [] };
      if (open.signature) item.encrypted_content = open.signature;
      return this.#done(open.index, item);
    }
    const annotations = this.#annotate(open, text);
    const at = { item_id: open.id, output_index: open.index, content_index: 0 };
    this.#emitJson("response.output_text.done", { ...at, text, logprobs: [] });
    const part = { type: "output_text", annotations, logprobs: [], text };
    this.#emitJson("response.content_part.done", { ...at, part });
    this.#done(open.index, {
      id: open.id,
      type: "message",
      status,
      content: [part],
      role: "assistant",
    });
  }

  #closeCall(call: OpenCall, status: Status): void {
    call.done = true;
    const args = call.args.join("");
    let input = args;
    if (call.custom) {
      try {
        const v = JSON.parse(args);
        if (typeof v?.input === "string") input = v.input;
      } catch {
        // Not the JSON the tool's schema asks for: the text as it came is the input.
      }
      const at = { item_id: call.id, output_index: call.index };
      this.#emitJson("response.custom_tool_call_input.delta", { ...at, delta: input });
      this.#emitJson("response.custom_tool_call_input.done", { ...at, input });
    } else {
      this.#emitJson("response.function_call_arguments.done", {
        item_id: call.id,
        output_index: call.index,
        arguments: args,
        name: call.name,
      });
    }
    this.#done(call.index, this.#callItem(call, status, input));
  }

  /** The annotations of a message: each source spans its `[n]` marker in the text, if any. */
  #annotate(open: OpenText, text: string): Record<string, unknown>[] {
    const seen = new Set<number>();
    const out: Record<string, unknown>[] = [];
    for (const c of open.citations) {
      if (seen.has(c.index)) continue;
      seen.add(c.index);
      const marker = `[${c.index}]`;
      const at = text.indexOf(marker);
      const annotation = {
        type: "url_citation",
        start_index: at < 0 ? text.length : at,
        end_index: at < 0 ? text.length : at + marker.length,
        title: c.title ?? c.url,
        url: c.url,
      };
      this.#emitJson("response.output_text.annotation.added", {
        item_id: open.id,
        output_index: open.index,
        content_index: 0,
        annotation_index: out.length,
        annotation,
      });
      out.push(annotation);
    }
    return out;
  }

  /** Ends the output: sources cited outside any message, then the open item closed. */
  end(status: Status): void {
    if (this.#held.length > 0) {
      const notes = footnotes(this.#held).trimStart();
      const t = this.#text("message");
      t.parts.push(notes);
      this.#delta(t, notes);
    }
    this.closeOpen(status);
  }

  /** True when any tool call was made. */
  get called(): boolean {
    return this.#calls.size > 0;
  }
}
