/**
 * Decides from its first key whether a JSON value at a line start (or first in a code fence) is
 * a tool call, so that ordinary JSON in an answer streams on as text instead of being held to
 * its end, and a call is recognised before its arguments arrive.
 *
 * Fed one character at a time, it answers "yes" when the first key is a call key and either
 * names a declared tool (`{"name": "get_time"`: decided by name) or opens a value
 * (`{"function": {`: decided by key); a list counts by its first object. It answers "no" as soon
 * as anything else shows, and also when the decision stays open too long (a long run of
 * whitespace, a long key or name): what is held back while undecided is bounded.
 *
 * @module
 */
import { CALL_FIRST_KEYS, NAME_FIRST_KEYS } from "../calls.ts";
import { isIdentPart } from "../json.ts";
import { COLON, DQ, isWs, LBRACE, LBRACKET, opensValue, SQ } from "./chars.ts";

/** Characters that may leave the decision open. */
const MAX_UNDECIDED = 300;
/** Longest first key looked at. */
const MAX_KEY = 40;
/** Longest tool name looked at. */
const MAX_NAME = 128;

/** The answer to one character. */
export type Decision = "more" | "yes" | "no";

type State =
  /** The value's opening `{` or `[` comes next. */
  | "start"
  /** In a list, before its first element. */
  | "list"
  /** Before the first key. */
  | "key"
  /** In a quoted first key. */
  | "quotedKey"
  /** In a bare first key (`{name: ...}`). */
  | "bareKey"
  /** After the key, before its colon. */
  | "colon"
  /** After the colon, before the value. */
  | "value"
  /** In the string value of a name key. */
  | "name"
  /** Decided: a call by its tool name. */
  | "byName"
  /** Decided: a call by its key. */
  | "byKey";

/** The first-key decision of one JSON value. */
export class FirstKey {
  #state: State = "start";
  #key = "";
  #name = "";
  #undecided = 0;

  /** `isTool` tells declared tool names. */
  constructor(readonly isTool: (name: string) => boolean) {}

  /** Starts a new value. */
  reset(): void {
    this.#state = "start";
    this.#key = "";
    this.#name = "";
    this.#undecided = 0;
  }

  /** The value is a call (no more characters need feeding). */
  get decided(): boolean {
    return this.#state === "byName" || this.#state === "byKey";
  }

  /** The value is a call because its first key named a declared tool. */
  get byName(): boolean {
    return this.#state === "byName";
  }

  /**
   * Feeds the value's next character (starting with its `{` or `[`). `inString`: the character
   * is inside a string; `closedString`: it is the quote that closed one.
   */
  feed(c: number, inString: boolean, closedString: boolean): Decision {
    switch (this.#state) {
      case "start":
        this.#state = c === LBRACKET ? "list" : "key";
        return this.#more();
      case "list":
        if (c === LBRACE) {
          this.#state = "key";
          return this.#more();
        }
        return isWs(c) ? this.#more() : "no";
      case "key":
        return this.#keyStart(c);
      case "quotedKey":
        if (closedString) {
          this.#state = "colon";
          return this.#more();
        }
        return this.#addToKey(c);
      case "bareKey":
        if (isIdentPart(c)) return this.#addToKey(c);
        // The key ended: the same character comes after it.
        this.#state = "colon";
        return this.feed(c, inString, closedString);
      case "colon":
        if (isWs(c)) return this.#more();
        if (c !== COLON || !CALL_FIRST_KEYS.has(this.#key)) return "no";
        this.#state = "value";
        return this.#more();
      case "value":
        return this.#valueStart(c);
      case "name":
        return this.#nameChar(c, inString, closedString);
      default:
        return "no";
    }
  }

  /** Still open, unless that has lasted too long. */
  #more(): Decision {
    return ++this.#undecided > MAX_UNDECIDED ? "no" : "more";
  }

  #keyStart(c: number): Decision {
    if (isWs(c)) return this.#more();
    if (c === DQ || c === SQ) {
      this.#state = "quotedKey";
      return this.#more();
    }
    if (!isIdentPart(c)) return "no";
    this.#state = "bareKey";
    this.#key = String.fromCharCode(c);
    return this.#more();
  }

  #addToKey(c: number): Decision {
    this.#key += String.fromCharCode(c);
    return this.#key.length > MAX_KEY ? "no" : this.#more();
  }

  /** A name key needs a string (a tool name); any other call key an object or list. */
  #valueStart(c: number): Decision {
    if (isWs(c)) return this.#more();
    const nameKey = NAME_FIRST_KEYS.has(this.#key);
    if (c === DQ || c === SQ) {
      // `{"function": "get_time", ...}` names the tool too.
      if (!nameKey && this.#key !== "function") return "no";
      this.#state = "name";
      return this.#more();
    }
    if (!opensValue(c) || nameKey) return "no";
    this.#state = "byKey";
    return "yes";
  }

  #nameChar(c: number, inString: boolean, closedString: boolean): Decision {
    if (closedString) {
      if (!this.isTool(this.#name)) return "no";
      this.#state = "byName";
      return "yes";
    }
    if (inString) this.#name += String.fromCharCode(c);
    return this.#name.length > MAX_NAME ? "no" : this.#more();
  }
}
