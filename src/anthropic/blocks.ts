/**
 * The content blocks of a Messages API answer, from the pipeline's events: which block each event
 * belongs to, when a block starts and stops, and their indexes. The stream writer renders the
 * operations as SSE events and the JSON writer folds them into `content`, so both give the same
 * blocks.
 *
 * The grammar every client relies on: blocks are numbered 0, 1, 2, ... in order; each is started,
 * given deltas, and stopped; a block starts only after the one before it stopped (blocks never
 * overlap). Events map to blocks thus: text → a `text` block, reasoning → a `thinking` block (its
 * signature as a `signature_delta`), each tool call → a `tool_use` block whose arguments are
 * `input_json_delta`s.
 *
 * Upstreams may interleave (a second call starting while the first one's arguments are still
 * coming). A `tool_use` block is therefore stopped only when its arguments are a complete JSON
 * value (tracked character by character, never re-parsed) or the answer ended; a block that starts
 * meanwhile is held, with its content, and started as soon as the open one stops. In the usual
 * order (one call after the other) nothing is held and every delta is passed on as it comes.
 *
 * @module
 */
import type { ChatEvent, CitationEvent, FinishEvent, UsageEvent } from "../core/events.ts";
import { footnotes } from "../openai/writer.ts";
import { toAnthropicId, toolUseId } from "./ids.ts";

/** A block as `content_block_start` announces it. */
export type BlockStart =
  | { type: "text"; text: string }
  | { type: "thinking"; thinking: string; signature: string }
  | { type: "tool_use"; id: string; name: string; input: Record<string, never> };

/** A `content_block_delta`'s delta. */
export type BlockDelta =
  | { type: "text_delta"; text: string }
  | { type: "thinking_delta"; thinking: string }
  | { type: "signature_delta"; signature: string }
  | { type: "input_json_delta"; partial_json: string };

/** One step of the block grammar. */
export type BlockOp =
  | { op: "start"; index: number; block: BlockStart }
  | { op: "delta"; index: number; delta: BlockDelta }
  | { op: "stop"; index: number };

/** Why the answer stopped, as the Messages API says it. */
export type StopReason = "end_turn" | "max_tokens" | "stop_sequence" | "tool_use" | "refusal";

/** Follows the nesting of a JSON value given in pieces, to tell when it is complete. */
export class JsonDepth {
  #depth = 0;
  #inString = false;
  #escape = false;
  #started = false;

  /** Reads the next piece. */
  feed(s: string): void {
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (this.#inString) {
        if (this.#escape) this.#escape = false;
        else if (c === 92) this.#escape = true; // backslash
        else if (c === 34) this.#inString = false; // quote
      } else if (c === 34) this.#inString = true;
      else if (c === 123 || c === 91) { // { [
        this.#depth++;
        this.#started = true;
      } else if (c === 125 || c === 93) this.#depth--; // } ]
    }
  }

  /** True once an object or array opened and closed again. */
  get complete(): boolean {
    return this.#started && this.#depth <= 0 && !this.#inString;
  }
}

type Kind = "text" | "thinking" | "tool_use";

/** A block that started or waits to start. */
class Block {
  index = -1;
  pieces: string[] = [];
  signature?: string;
  json?: JsonDepth;
  constructor(readonly key: string, readonly kind: Kind, readonly start: BlockStart) {
    if (kind === "tool_use") this.json = new JsonDepth();
  }

  /** It may stop now without cutting anything short. */
  get closable(): boolean {
    return this.json === undefined || this.json.complete;
  }
}

function deltaOf(kind: Kind, text: string): BlockDelta {
  if (kind === "text") return { type: "text_delta", text };
  if (kind === "thinking") return { type: "thinking_delta", thinking: text };
  return { type: "input_json_delta", partial_json: text };
}

/** Turns events into block operations; keeps the usage, the finish and the cited sources. */
export class BlockSequencer {
  #next = 0;
  #open?: Block;
  #queue: Block[] = [];
  #closed = new Set<string>();
  #citations: CitationEvent[] = [];
  #toolUses = 0;
  /** The answer's usage, as the pipeline's meter counted it. */
  usage?: UsageEvent;
  /** The finish event, when one came. */
  finish?: FinishEvent;

  constructor(readonly newId: () => string = toolUseId) {}

  /** The operations `ev` makes (none for usage, finish and citations). */
  push(ev: ChatEvent): BlockOp[] {
    if (ev.type === "usage") {
      this.usage = ev;
      return [];
    }
    if ((ev.choice ?? 0) !== 0) return []; // the Messages API has one answer
    switch (ev.type) {
      case "text":
        return ev.text === "" ? [] : this.#content("text", "text", ev.text);
      case "reasoning": {
        const ops = ev.text === "" && !ev.signature
          ? []
          : this.#content("thinking", "thinking", ev.text);
        if (ev.signature) ops.push(...this.#signature(ev.signature));
        return ops;
      }
      case "tool_call":
        return this.#content(`tool:${ev.index}`, "tool_use", ev.arguments, ev);
      case "citation":
        this.#citations.push(ev);
        return [];
      case "finish":
        this.finish = ev;
        return [];
    }
  }

  /** The operations that close the answer: held blocks, the footnotes of cited sources. */
  end(): BlockOp[] {
    const ops: BlockOp[] = [];
    for (const b of this.#queue.splice(0)) {
      if (this.#open) ops.push(this.#stop(this.#open));
      ops.push(...this.#begin(b));
    }
    const notes = footnotes(this.#citations);
    if (notes) {
      if (this.#open?.kind === "text") {
        ops.push({ op: "delta", index: this.#open.index, delta: deltaOf("text", notes) });
      } else {
        if (this.#open) ops.push(this.#stop(this.#open));
        ops.push(...this.#begin(new Block("text", "text", { type: "text", text: "" })));
        ops.push({ op: "delta", index: this.#open!.index, delta: deltaOf("text", notes) });
      }
    }
    if (this.#open) ops.push(this.#stop(this.#open));
    return ops;
  }

  /** The stop reason and the stop sequence that matched, if one did. */
  stopReason(): { reason: StopReason; sequence: string | null } {
    const f = this.finish;
    if (f?.reason === "length") return { reason: "max_tokens", sequence: null };
    if (f?.reason === "content_filter") return { reason: "refusal", sequence: null };
    if (this.#toolUses > 0) return { reason: "tool_use", sequence: null };
    if (f?.stop_sequence) return { reason: "stop_sequence", sequence: f.stop_sequence };
    return { reason: "end_turn", sequence: null };
  }

  #content(
    key: string,
    kind: Kind,
    text: string,
    call?: { id?: string; name?: string },
  ): BlockOp[] {
    const open = this.#open;
    if (open?.key === key) {
      if (text === "") return [];
      open.json?.feed(text);
      const ops: BlockOp[] = [{ op: "delta", index: open.index, delta: deltaOf(kind, text) }];
      if (open.json?.complete && this.#queue.length > 0) ops.push(...this.#promote());
      return ops;
    }
    if (this.#closed.has(key)) return []; // after its JSON was complete: nothing that counts
    const held = kind === "tool_use"
      ? this.#queue.find((b) => b.key === key)
      : this.#queue.at(-1)?.key === key
      ? this.#queue.at(-1)
      : undefined;
    if (held) {
      held.pieces.push(text);
      held.json?.feed(text);
      return [];
    }
    const block = new Block(key, kind, this.#startOf(kind, call));
    if (text !== "") {
      block.pieces.push(text);
      block.json?.feed(text);
    }
    if (open && (!open.closable || this.#queue.length > 0)) {
      this.#queue.push(block);
      return [];
    }
    const ops: BlockOp[] = open ? [this.#stop(open)] : [];
    ops.push(...this.#begin(block));
    if (block.json?.complete && this.#queue.length > 0) ops.push(...this.#promote());
    return ops;
  }

  #signature(signature: string): BlockOp[] {
    const open = this.#open;
    if (open?.kind === "thinking") {
      return [{ op: "delta", index: open.index, delta: { type: "signature_delta", signature } }];
    }
    const held = this.#queue.findLast((b) => b.kind === "thinking");
    if (held) held.signature = signature;
    return [];
  }

  #startOf(kind: Kind, call?: { id?: string; name?: string }): BlockStart {
    if (kind === "text") return { type: "text", text: "" };
    if (kind === "thinking") return { type: "thinking", thinking: "", signature: "" };
    this.#toolUses++;
    return {
      type: "tool_use",
      id: call?.id ? toAnthropicId(call.id) : this.newId(),
      name: call?.name ?? "",
      input: {},
    };
  }

  /** Starts `b` with what it holds; it becomes the open block. */
  #begin(b: Block): BlockOp[] {
    b.index = this.#next++;
    this.#open = b;
    const ops: BlockOp[] = [{ op: "start", index: b.index, block: b.start }];
    if (b.pieces.length > 0) {
      const text = b.pieces.join("");
      b.pieces = [];
      if (text !== "") ops.push({ op: "delta", index: b.index, delta: deltaOf(b.kind, text) });
    }
    if (b.signature) {
      ops.push({
        op: "delta",
        index: b.index,
        delta: { type: "signature_delta", signature: b.signature },
      });
    }
    return ops;
  }

  #stop(b: Block): BlockOp {
    this.#open = undefined;
    if (b.kind === "tool_use") this.#closed.add(b.key);
    return { op: "stop", index: b.index };
  }

  /** Starts held blocks while the open one may stop. */
  #promote(): BlockOp[] {
    const ops: BlockOp[] = [];
    while (this.#queue.length > 0 && (!this.#open || this.#open.closable)) {
      if (this.#open) ops.push(this.#stop(this.#open));
      ops.push(...this.#begin(this.#queue.shift()!));
    }
    return ops;
  }
}
