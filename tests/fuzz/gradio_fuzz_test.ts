/**
 * Property-based tests of gradio's streams (`net/gradio_stream.ts`, `net/gradio_diff.ts`): a queue
 * stream whose outputs change by random diff operations (replace, append, add, delete at any
 * depth) reads back every intermediate value as a simple model applies them, cut anywhere; a
 * truncated stream is an error or the completed event; odd messages and garbage are
 * `GatewayError`s only. The simple REST stream (`/call/<api>/<event>`) likewise.
 */
import { assertEquals } from "../assert.ts";
import type { DiffOp } from "../../src/net/gradio_diff.ts";
import {
  type GradioUpdate,
  readQueueStream,
  trackCall,
  trackOutputs,
} from "../../src/net/gradio_stream.ts";
import { readSse } from "../../src/net/sse.ts";
import {
  anyText,
  assertAllowedError,
  body,
  check,
  comparable,
  cutsArb,
  fc,
  type Outcome,
  outcome,
  timed,
} from "./fuzz.ts";
import { mutateJson, oddValue } from "./streams.ts";

type Path = (string | number)[];

/** Paths to the lists and objects inside `value` (the root included when it is one). */
function containers(value: unknown, at: Path = [], out: Path[] = []): Path[] {
  if (Array.isArray(value)) {
    out.push(at);
    value.forEach((v, i) => containers(v, [...at, i], out));
  } else if (value && typeof value === "object") {
    out.push(at);
    for (const [k, v] of Object.entries(value)) containers(v, [...at, k], out);
  }
  return out;
}

function get(value: unknown, path: Path): unknown {
  let v = value;
  for (const k of path) v = (v as Record<string | number, unknown>)[k];
  return v;
}

/** One random step, turned into a valid operation against the value it applies to. */
const step = fc.record({
  pick: fc.nat(),
  kind: fc.nat(),
  text: fc.string({ maxLength: 6 }),
  value: fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.parse(JSON.stringify(v))),
});
type Step = typeof step extends fc.Arbitrary<infer S> ? S : never;

/**
 * The operation `s` means for `value`, and the value after it (the model: a plain structured
 * clone and an assignment, independent of `applyDiff`).
 */
function operate(value: unknown, s: Step): { op: DiffOp; next: unknown } {
  const places = containers(value);
  if (places.length === 0 || s.kind % 5 === 0) {
    if (typeof value === "string" && s.kind % 2 === 0) {
      return { op: ["append", [], s.text], next: value + s.text };
    }
    return { op: ["replace", [], s.value], next: s.value };
  }
  const path = places[s.pick % places.length];
  const next = structuredClone(value);
  const node = get(next, path) as Record<string | number, unknown>;
  const keys: (string | number)[] = Array.isArray(node) ? node.map((_, i) => i) : Object.keys(node);
  const action = ["replace", "append", "add", "delete"][s.kind % 4];
  if (keys.length === 0 || action === "add") {
    if (Array.isArray(node)) {
      const at = s.pick % (node.length + 1);
      node.splice(at, 0, s.value);
      return { op: ["add", [...path, at], s.value], next };
    }
    const key = `k${s.text}`;
    node[key] = s.value;
    return { op: ["add", [...path, key], s.value], next };
  }
  const key = keys[s.pick % keys.length];
  if (action === "delete") {
    if (Array.isArray(node)) node.splice(key as number, 1);
    else delete node[key];
    return { op: ["delete", [...path, key], null], next };
  }
  if (action === "append" && typeof node[key] === "string") {
    node[key] = (node[key] as string) + s.text;
    return { op: ["append", [...path, key], s.text], next };
  }
  node[key] = s.value;
  return { op: ["replace", [...path, key], s.value], next };
}

/** A queue stream of one event: two outputs, whole values first, then diffs; and the model. */
const queueRun = fc.record({
  first: fc.tuple(
    fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.parse(JSON.stringify(v))),
    fc.string(),
  ),
  /** Per message, the steps of each output. */
  messages: fc.array(
    fc.tuple(fc.array(step, { maxLength: 3 }), fc.array(step, { maxLength: 2 })),
    { maxLength: 6 },
  ),
  heartbeats: fc.array(fc.boolean(), { maxLength: 8 }),
  others: fc.array(fc.boolean(), { maxLength: 8 }),
}).map((r) => {
  let values: unknown[] = [...r.first];
  const snapshots: unknown[][] = [structuredClone(values)];
  const lines: unknown[] = [
    { msg: "estimation", event_id: "E", rank: 0, queue_size: 1 },
    { msg: "process_starts", event_id: "E" },
    { msg: "process_generating", event_id: "E", output: { data: values }, success: true },
  ];
  r.messages.forEach((steps, i) => {
    const ops: DiffOp[][] = [];
    values = values.map((v, o) => {
      const list: DiffOp[] = [];
      let cur = v;
      for (const s of steps[o]) {
        const { op, next } = operate(cur, s);
        list.push(op);
        cur = next;
      }
      ops.push(list);
      return cur;
    });
    snapshots.push(structuredClone(values));
    if (r.heartbeats[i]) lines.push({ msg: "heartbeat" });
    if (r.others[i]) {
      lines.push({ msg: "process_generating", event_id: "X", output: { data: [1] } });
    }
    lines.push({ msg: "process_generating", event_id: "E", output: { data: ops }, success: true });
  });
  lines.push({ msg: "process_completed", event_id: "E", output: { data: values }, success: true });
  lines.push({ msg: "close_stream" });
  return { lines, snapshots, final: values };
});

function wire(lines: unknown[]): string {
  return lines.map((l) => `data: ${JSON.stringify(l)}\n\n`).join("");
}

/** The updates of a queue body, each snapshotted when it came (the tracker edits in place). */
async function readQueue(data: string | Uint8Array, cuts: number[] | "bytes" = []) {
  async function* snap(updates: AsyncIterable<GradioUpdate>) {
    for await (const u of updates) {
      yield u.type === "status" ? `status:${u.message.msg}` : [u.type, structuredClone(u.data)];
    }
  }
  return await outcome(snap(trackOutputs("g", readQueueStream("g", body(data, cuts), "E"))));
}

function valuesOf(o: Outcome<unknown>): unknown[] {
  if (!o.ok) throw o.error;
  return o.items.filter((u) => typeof u !== "string");
}

Deno.test("fuzz gradio queue: diffs at any depth read back as the model's values, cut anywhere", async () => {
  await check(
    fc.asyncProperty(
      queueRun,
      cutsArb,
      timed(async (run, cuts) => {
        const text = wire(run.lines);
        const whole = await readQueue(text);
        assertEquals(valuesOf(whole), [
          ...run.snapshots.map((s) => ["generating", s]),
          ["completed", run.final],
        ]);
        assertEquals(await readQueue(text, cuts), whole);
      }),
    ),
    200,
  );
});

Deno.test("fuzz gradio queue: a truncated stream is an error or the completed event", async () => {
  await check(
    fc.asyncProperty(
      queueRun,
      fc.nat(),
      timed(async (run, at) => {
        const bytes = new TextEncoder().encode(wire(run.lines));
        const got = await readQueue(bytes.slice(0, at % (bytes.length + 1)));
        if (!got.ok) return assertAllowedError(got.error);
        assertEquals(valuesOf(got).at(-1), ["completed", run.final]);
      }),
    ),
    300,
  );
});

Deno.test("fuzz gradio queue: odd messages and garbage are GatewayErrors only", async () => {
  await check(
    fc.asyncProperty(
      queueRun,
      fc.array(fc.tuple(fc.nat(), fc.nat(), oddValue), { minLength: 1, maxLength: 4 }),
      anyText,
      cutsArb,
      timed(async (run, edits, garbage, cuts) => {
        const lines = [...run.lines];
        for (const [at, pick, value] of edits) {
          const i = at % lines.length;
          lines[i] = mutateJson(lines[i], pick, value) ?? null;
        }
        const text = wire(lines) + (garbage ? `data: ${garbage.replace(/[\r\n]/g, "")}\n\n` : "");
        const whole = await readQueue(text);
        if (!whole.ok) assertAllowedError(whole.error);
        assertEquals(comparable(await readQueue(text, cuts)), comparable(whole));
      }),
    ),
    400,
  );
});

/** A REST call stream: `generating` whole values, then `complete`. */
const callRun = fc.array(fc.jsonValue({ maxDepth: 2 }), { minLength: 1, maxLength: 5 }).map(
  (values) => {
    const outputs = values.map((v) => [JSON.parse(JSON.stringify(v))]);
    const text = [
      "event: heartbeat\ndata: null\n\n",
      ...outputs.slice(0, -1).map((o) => `event: generating\ndata: ${JSON.stringify(o)}\n\n`),
      `event: complete\ndata: ${JSON.stringify(outputs.at(-1))}\n\n`,
    ].join("");
    return { text, final: outputs.at(-1) };
  },
);

function readCall(data: string | Uint8Array, cuts: number[] | "bytes" = []) {
  return outcome(trackCall("g", readSse(body(data, cuts))));
}

Deno.test("fuzz gradio call stream: cut anywhere the same; truncated is an error or complete", async () => {
  await check(
    fc.asyncProperty(
      callRun,
      fc.nat(),
      cutsArb,
      timed(async (run, at, cuts) => {
        const whole = await readCall(run.text);
        if (!whole.ok) throw whole.error;
        const end = whole.items.at(-1);
        assertEquals(end?.type === "completed" ? end.data : "not completed", run.final);
        assertEquals(comparable(await readCall(run.text, cuts)), comparable(whole));
        const bytes = new TextEncoder().encode(run.text);
        const cut = await readCall(bytes.slice(0, at % (bytes.length + 1)));
        if (!cut.ok) return assertAllowedError(cut.error);
        const last = cut.items.at(-1);
        assertEquals(last?.type === "completed" ? last.data : "not completed", run.final);
      }),
    ),
    300,
  );
});

Deno.test("fuzz gradio call stream: garbage events are GatewayErrors only", async () => {
  await check(
    fc.asyncProperty(
      fc.array(
        fc.tuple(
          fc.constantFrom("generating", "complete", "error", "heartbeat", "x"),
          fc.oneof(anyText, fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v))),
        ),
        { maxLength: 5 },
      ),
      timed(async (events) => {
        const text = events.map(([e, d]) => `event: ${e}\ndata: ${d.replace(/[\r\n]/g, "")}\n\n`)
          .join("");
        const got = await readCall(text);
        if (!got.ok) assertAllowedError(got.error);
      }),
    ),
    400,
  );
});
