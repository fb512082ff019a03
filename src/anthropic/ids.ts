/**
 * Identifiers of the Messages API: message ids (`msg_…`) and tool-use ids (`toolu_…`), and the
 * one mapping between tool-use ids and the gateway's internal tool-call ids. The mapping is a
 * pure function both ways, so an id round-trips without any state: the `call_…` ids of OpenAI
 * upstreams and of the tool-call emulator become `toolu_…` with the same tail, and come back as
 * they were; any other id gets the `toolu_` prefix and is given back to upstreams with `call_`
 * (consistently within a request, which is all an upstream checks).
 *
 * @module
 */
import { randomAlnum } from "../util/id.ts";

/** A message id like Anthropic's: `msg_01` and 22 random characters. */
export function messageId(): string {
  return `msg_01${randomAlnum(22)}`;
}

/** A fresh tool-use id like Anthropic's: `toolu_01` and 22 random characters. */
export function toolUseId(): string {
  return `toolu_01${randomAlnum(22)}`;
}

/** Characters Anthropic allows in a tool-use id. */
const SAFE = /[^A-Za-z0-9_-]/g;

/** The `toolu_…` id a client sees for an internal tool-call id. */
export function toAnthropicId(id: string): string {
  if (id.startsWith("toolu_")) return id;
  const tail = id.startsWith("call_") ? id.slice(5) : id;
  return `toolu_${tail.replace(SAFE, "_")}`;
}

/** The internal tool-call id of a `toolu_…` id a client sent back. */
export function toInternalId(id: string): string {
  return id.startsWith("toolu_") ? `call_${id.slice(6)}` : id;
}
