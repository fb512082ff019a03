/**
 * A stand-in for the parser's driver in reader tests: it records every call a reader makes on
 * its host, so a test sees what a reader passes on, holds back and hands over, with the index it
 * returns.
 *
 * @module
 */
import type {
  Host,
  ParseEvent,
  ParserOptions,
  ReleaseInto,
} from "../../../src/toolcall/parser/types.ts";

/** One call on the host. */
export type Call =
  | ["text", string]
  | ["emit", ParseEvent]
  | ["hold", string]
  | ["toText"]
  | ["release", string, ReleaseInto]
  | ["afterBlock", boolean]
  | ["open", string, number]
  | ["startFence"]
  | ["startJson", string, boolean]
  | ["startTag", string, string | undefined, boolean]
  | ["startFunction", string, string | undefined]
  | ["endAnswer"];

/** A host that records what readers do; `sawCall` can be set by the test. */
export class Recorder implements Host {
  /** Every call, in order. */
  calls: Call[] = [];
  /** What `sawCall` answers. */
  sawCall = false;

  /** A host for a request whose declared tools are `tools`. */
  constructor(tools: string[] = ["get_time", "get_weather"], readonly tasks = false) {
    this.options = { isTool: (n) => tools.includes(n), tasks };
  }
  /** The request's options. */
  readonly options: ParserOptions;

  /** Returns the calls so far and forgets them. */
  take(): Call[] {
    const out = this.calls;
    this.calls = [];
    return out;
  }

  /** Records passed-on text (empty text is nothing, as for the driver). */
  text(text: string): void {
    if (text !== "") this.calls.push(["text", text]);
  }
  /** Records an event. */
  emit(event: ParseEvent): void {
    this.calls.push(["emit", event]);
  }
  /** Records a held tail. */
  hold(tail: string): void {
    this.calls.push(["hold", tail]);
  }
  /** Records a return to text. */
  toText(): void {
    this.calls.push(["toText"]);
  }
  /** Records released text. */
  release(raw: string, into: ReleaseInto): void {
    this.calls.push(["release", raw, into]);
  }
  /** Records the end of a block. */
  afterBlock(fenced: boolean): void {
    this.calls.push(["afterBlock", fenced]);
  }
  /** Records an opener; reading goes on after it. */
  open(marker: string, at: number): number {
    this.calls.push(["open", marker, at]);
    return at + marker.length;
  }
  /** Records a fence. */
  startFence(): void {
    this.calls.push(["startFence"]);
  }
  /** Records a JSON start. */
  startJson(prefix: string, fenced: boolean): void {
    this.calls.push(["startJson", prefix, fenced]);
  }
  /** Records a tag body start. */
  startTag(prefix: string, name: string | undefined, fenced: boolean): void {
    this.calls.push(["startTag", prefix, name, fenced]);
  }
  /** Records a function body start. */
  startFunction(prefix: string, name: string | undefined): void {
    this.calls.push(["startFunction", prefix, name]);
  }
  /** Records the end of the answer. */
  endAnswer(): void {
    this.calls.push(["endAnswer"]);
  }
}
