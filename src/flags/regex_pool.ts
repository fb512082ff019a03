/**
 * Where the patterns clients write run: child processes (`regex_child.ts`) that are killed when a
 * job runs past its budget. JavaScript's syntax stays whole (lookarounds, backreferences), and a
 * catastrophic pattern (`(a+)+$`) costs a child process, never the server's event loop.
 *
 * Why not a Worker: in Deno 2.9 `Worker.terminate()` does not stop a worker that is busy in
 * JavaScript (a regex that backtracks, or a plain `while (true) {}`): the thread keeps its core
 * and the process cannot even exit (tests/flags/regex_budget_test.ts shows it). A process can be
 * killed for sure.
 *
 * The pool is owned by the server instance: children start on first use (a `ready` line marks
 * the end of their start-up, which does not count against a job's budget), serve one job at a
 * time, are reused across requests, and are stopped after a minute unused. A request's regex work
 * shares one budget (`RegexSession`); each call batches every text and rule it can.
 *
 * @module
 */
import { GatewayError } from "../openai/errors.ts";
import { LineSplitter } from "../util/line_splitter.ts";
import { REGEX_CHILD_ENV } from "./regex_child.ts";

/** One rule of a job: `pattern` (JavaScript syntax, flag `g`) replaced by `replacement`. */
export interface RegexRule {
  pattern: string;
  replacement: string;
  /** Applies to the texts whose `index` is below this (undefined: all). */
  before?: number;
  /** The marker it comes from, for errors: `<regex>` or `<matcher>`. */
  what: string;
}

/** One text of a job and the index rules' `before` compares with. */
export interface RegexText {
  text: string;
  index?: number;
}

/** Options of a pool. */
export interface RegexPoolOptions {
  /** Child processes at most (default 2). */
  size?: number;
  /** Milliseconds a child may stay unused before it is stopped (default 60 000). */
  idleMs?: number;
  /** Milliseconds a child may take to start (default 20 000). */
  startMs?: number;
}

/** The config key of the budget, for messages. */
const BUDGET_KEY = "server.limits.regex-ms";

interface Answer {
  texts?: string[];
  error?: string;
  at?: number;
  ready?: boolean;
}

/** One child process and the job it runs. */
class Child {
  readonly proc: Deno.ChildProcess;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  #current?: { resolve: (a: Answer) => void; reject: (e: Error) => void; at: number };
  #ready: Promise<void>;
  #dead = false;
  idleTimer?: ReturnType<typeof setTimeout>;

  constructor(command: Deno.Command, startMs: number) {
    this.proc = command.spawn();
    this.#writer = this.proc.stdin.getWriter();
    let ready!: () => void;
    let failed!: (e: Error) => void;
    this.#ready = new Promise((res, rej) => {
      ready = res;
      failed = rej;
    });
    const timer = setTimeout(() => {
      failed(new Error(`the regex process did not start within ${startMs} ms`));
      this.kill();
    }, startMs);
    this.#read((a) => {
      if (a.ready) {
        clearTimeout(timer);
        ready();
      } else if (a.at !== undefined && a.texts === undefined && a.error === undefined) {
        if (this.#current) this.#current.at = a.at;
      } else {
        const c = this.#current;
        this.#current = undefined;
        c?.resolve(a);
      }
    }).finally(() => {
      clearTimeout(timer);
      this.#dead = true;
      failed(new Error("the regex process ended"));
      this.#current?.reject(new Error("the regex process ended"));
      this.#current = undefined;
    });
    this.#ready.catch(() => {});
  }

  get dead(): boolean {
    return this.#dead;
  }

  /** Reads answer lines until the child's stdout ends. */
  async #read(onAnswer: (a: Answer) => void): Promise<void> {
    const lines = new LineSplitter();
    try {
      for await (const chunk of this.proc.stdout.pipeThrough(new TextDecoderStream())) {
        for (const line of lines.push(chunk)) {
          if (line !== "") onAnswer(JSON.parse(line) as Answer);
        }
      }
    } catch {
      // Killed mid-line, or a line that is not JSON: the child is done either way.
    }
  }

  /**
   * Runs a job; past `budgetMs` (counted from when the child is ready) the child is killed and
   * the promise rejects with `{ timedOut: true, at }`.
   */
  async run(job: unknown, budgetMs: number): Promise<{ answer: Answer; ms: number }> {
    await this.#ready;
    if (this.#dead) throw new Error("the regex process ended");
    const bytes = new TextEncoder().encode(JSON.stringify(job) + "\n");
    const started = performance.now();
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const at = this.#current?.at ?? 0;
        this.#current = undefined;
        this.kill();
        reject(Object.assign(new Error("regex budget"), { timedOut: true, at }));
      }, Math.max(1, budgetMs));
      this.#current = {
        at: 0,
        resolve: (answer) => {
          clearTimeout(timer);
          resolve({ answer, ms: performance.now() - started });
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      };
      this.#writer.write(bytes).catch((err) => this.#current?.reject(err));
    });
  }

  kill(): void {
    if (this.#dead) return;
    this.#dead = true;
    clearTimeout(this.idleTimer);
    try {
      this.proc.kill("SIGKILL");
    } catch {
      // Already gone.
    }
    this.#writer.close().catch(() => {});
  }
}

/** The command that starts a child: this module's sibling, or the compiled binary itself. */
function childCommand(): Deno.Command {
  const common = { stdin: "piped", stdout: "piped", stderr: "null" } as const;
  if (Deno.build.standalone) {
    return new Deno.Command(Deno.execPath(), { ...common, env: { [REGEX_CHILD_ENV]: "1" } });
  }
  const url = new URL("./regex_child.ts", import.meta.url);
  const target = url.protocol === "file:" ? decodeURIComponent(url.pathname) : url.href;
  return new Deno.Command(Deno.execPath(), {
    ...common,
    args: ["run", "--quiet", "--no-config", "--no-prompt", target],
  });
}

/** The child processes of one server. */
export class RegexPool {
  #idle: Child[] = [];
  #count = 0;
  #waiters: (() => void)[] = [];
  #closed = false;
  readonly #size: number;
  readonly #idleMs: number;
  readonly #startMs: number;

  constructor(options: RegexPoolOptions = {}) {
    this.#size = options.size ?? 2;
    this.#idleMs = options.idleMs ?? 60_000;
    this.#startMs = options.startMs ?? 20_000;
  }

  /** Child processes running now (for tests). */
  get processes(): number {
    return this.#count;
  }

  /** A budget of `limitMs` for one request's regex work. */
  session(limitMs: number): RegexSession {
    return new RegexSession(this, limitMs);
  }

  /**
   * Applies `rules` in order to `texts` within `budgetMs`. Throws a `RegexBudgetError` naming
   * the rule that ran past it, a 400 for a pattern that does not compile.
   */
  async run(
    rules: readonly RegexRule[],
    texts: readonly RegexText[],
    budgetMs: number,
  ): Promise<{ texts: string[]; ms: number }> {
    const child = await this.#take();
    let reusable = false;
    try {
      const job = {
        id: 1,
        rules: rules.map((r) => ({ p: r.pattern, r: r.replacement, b: r.before ?? -1 })),
        texts: texts.map((t) => ({ t: t.text, m: t.index ?? 0 })),
      };
      const { answer, ms } = await child.run(job, budgetMs);
      reusable = true;
      if (answer.error !== undefined) {
        const rule = rules[answer.at ?? 0];
        throw new GatewayError(
          400,
          `Invalid regular expression in ${rule.what}: ${answer.error}`,
          "invalid_request_error",
          null,
          "messages",
        );
      }
      return { texts: answer.texts ?? [], ms };
    } catch (err) {
      const e = err as { timedOut?: boolean; at?: number };
      if (e.timedOut) throw new RegexBudgetError(rules[e.at ?? 0] ?? rules[0], budgetMs);
      if (err instanceof GatewayError) throw err;
      throw new GatewayError(
        503,
        `Patterns cannot be run now: ${(err as Error).message}`,
        "server_error",
        "regex_unavailable",
      );
    } finally {
      this.#give(child, reusable);
    }
  }

  async #take(): Promise<Child> {
    while (true) {
      if (this.#closed) throw new Error("the server is closing");
      const idle = this.#idle.pop();
      if (idle) {
        clearTimeout(idle.idleTimer);
        if (!idle.dead) return idle;
        this.#count--;
        continue;
      }
      if (this.#count < this.#size) {
        this.#count++;
        try {
          return new Child(childCommand(), this.#startMs);
        } catch (err) {
          this.#count--;
          throw err;
        }
      }
      await new Promise<void>((r) => this.#waiters.push(r));
    }
  }

  #give(child: Child, reusable: boolean): void {
    if (!reusable || child.dead || this.#closed) {
      child.kill();
      this.#count--;
    } else {
      child.idleTimer = setTimeout(() => {
        const i = this.#idle.indexOf(child);
        if (i >= 0) this.#idle.splice(i, 1);
        child.kill();
        this.#count--;
      }, this.#idleMs);
      Deno.unrefTimer(child.idleTimer);
      this.#idle.push(child);
    }
    this.#waiters.shift()?.();
  }

  /** Stops every child (at shutdown). */
  close(): void {
    this.#closed = true;
    for (const c of this.#idle) c.kill();
    this.#idle = [];
    for (const w of this.#waiters.splice(0)) w();
  }
}

/** A pattern ran past the request's regex budget: a 400 naming it and the limit. */
export class RegexBudgetError extends GatewayError {
  constructor(readonly rule: RegexRule, readonly limitMs: number) {
    const shown = rule.pattern.length > 80 ? `${rule.pattern.slice(0, 77)}...` : rule.pattern;
    super(
      400,
      `The ${rule.what} pattern '${shown}' ran past the regex budget of ${
        Math.round(limitMs)
      } ms for this request (${BUDGET_KEY}); patterns that backtrack without bound (such as (a+)+$) cannot run here`,
      "invalid_request_error",
      "regex_budget_exceeded",
      "messages",
    );
  }
}

/** One request's share of regex time: every call draws from the same budget. */
export class RegexSession {
  #left: number;

  constructor(private readonly pool: RegexPool, readonly limitMs: number) {
    this.#left = limitMs;
  }

  /** Milliseconds of the budget left. */
  get left(): number {
    return this.#left;
  }

  /** `texts` with `rules` applied in order (see `RegexPool.run`). */
  async replace(rules: readonly RegexRule[], texts: readonly RegexText[]): Promise<string[]> {
    if (rules.length === 0 || texts.length === 0) return texts.map((t) => t.text);
    if (this.#left <= 0) throw new RegexBudgetError(rules[0], this.limitMs);
    try {
      const { texts: out, ms } = await this.pool.run(rules, texts, this.#left);
      this.#left -= ms;
      return out;
    } catch (err) {
      if (err instanceof RegexBudgetError) {
        this.#left = 0;
        throw new RegexBudgetError(err.rule, this.limitMs);
      }
      throw err;
    }
  }
}
