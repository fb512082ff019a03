/**
 * Claude Code itself (`claude -p`, the pinned npm release, installed on first use) against the
 * gateway: it must finish a task that needs its `Write` tool, and the file must exist afterwards
 * with the right content. Once on a native-tools model (a `custom-llm` entry in front of the fake
 * OpenAI-compatible upstream) and once on an emulated-tools model (`tc: true` in front of the fake
 * tool LLM, which reads the tools from the prompt). Both fakes decide from what they receive: the
 * tools offered (or listed in the prompt) and the task in the user's message.
 *
 * Claude Code runs hermetic (its own HOME and config folder), with telemetry, updates and
 * non-essential traffic off and retries capped, through a recording proxy that keeps what it sent
 * (endpoints, headers, bodies). `UPDATE_FIXTURES=1` saves its first request as the fixture the
 * prompt-size tests use (`tests/fixtures/claude_code/messages_request.json`).
 */
import { assert, assertEquals, assertMatch } from "../assert.ts";
import { type ChatBody, type Script, startFakeOpenAi } from "../fakes/openai.ts";
import { type Recorded, serveFake } from "../fakes/serve.ts";
import { callText, startFakeToolLlm } from "../fakes/tool_llm.ts";
import { startGateway } from "../helpers.ts";
import { claudeCode } from "./install.ts";

const FIXTURE = new URL("../fixtures/claude_code/messages_request.json", import.meta.url);
const PASSWORD = "gateway-pass-0123456789";
/** The task, as the fakes read it from the user's message. */
const TASK = /Create the file (\/\S+) containing exactly: (.+)$/m;
const CONTENT = "written through the gateway";

/** A proxy that records every request Claude Code sends and passes it to `target`. */
async function recordingProxy(target: string) {
  return await serveFake(async (req, rec) => {
    const headers = new Headers(req.headers);
    headers.delete("host");
    headers.delete("content-length");
    const qs = rec.query.toString();
    const res = await fetch(`${target}${rec.path}${qs ? `?${qs}` : ""}`, {
      method: req.method,
      headers,
      body: rec.body === "" ? undefined : rec.body,
      signal: req.signal,
    });
    return new Response(res.body, { status: res.status, headers: res.headers });
  });
}

function lastUserText(body: ChatBody): string {
  const m = body.messages.findLast((x) => x.role === "user");
  if (typeof m?.content === "string") return m.content;
  if (Array.isArray(m?.content)) {
    return m.content.filter((p) => p?.type === "text").map((p) => p.text).join("\n");
  }
  return "";
}

/** The native-tools model: calls `Write` (as offered) with the path and text of the task. */
function nativeWriter(body: ChatBody): Script {
  if (body.messages.at(-1)?.role === "tool") return { text: "Done: the file is written." };
  const write = body.tools?.find((t) => t.function.name === "Write") as
    | { function: { parameters?: { properties?: Record<string, unknown> } } }
    | undefined;
  const props = write?.function.parameters?.properties ?? {};
  const task = TASK.exec(lastUserText(body));
  if (!task || !("file_path" in props) || !("content" in props)) {
    return { text: "I have no tool that writes files." };
  }
  return { toolCalls: [{ name: "Write", arguments: { file_path: task[1], content: task[2] } }] };
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  result?: { is_error?: boolean; result?: string; num_turns?: number };
}

/** A hermetic home for Claude Code, with the project folder it works in. */
async function hermeticHome(): Promise<{ home: string; work: string } & AsyncDisposable> {
  const home = await Deno.makeTempDir({ prefix: "claude-home-" });
  const work = `${home}/project`;
  await Deno.mkdir(work);
  return {
    home,
    work,
    [Symbol.asyncDispose]: () => Deno.remove(home, { recursive: true }),
  };
}

/** Runs `claude -p` in `home` (working in `work`) against `baseUrl`, killed after 60 s. */
async function runClaude(
  where: { home: string; work: string },
  baseUrl: string,
  model: string,
  prompt: string,
  auth: Record<string, string>,
): Promise<Run> {
  const bin = await claudeCode();
  const { home, work } = where;
  const out = await new Deno.Command(bin, {
    args: [
      "-p",
      prompt,
      "--model",
      model,
      "--output-format",
      "json",
      "--permission-mode",
      "acceptEdits",
      "--allowedTools",
      "Write",
    ],
    cwd: work,
    clearEnv: true,
    env: {
      PATH: "/usr/local/bin:/usr/bin:/bin",
      HOME: home,
      CLAUDE_CONFIG_DIR: `${home}/.claude`,
      XDG_CONFIG_HOME: `${home}/.config`,
      XDG_CACHE_HOME: `${home}/.cache`,
      ANTHROPIC_BASE_URL: baseUrl,
      ANTHROPIC_SMALL_FAST_MODEL: model,
      ANTHROPIC_DEFAULT_HAIKU_MODEL: model,
      DISABLE_TELEMETRY: "1",
      DISABLE_ERROR_REPORTING: "1",
      DISABLE_AUTOUPDATER: "1",
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
      CLAUDE_CODE_MAX_RETRIES: "1",
      API_TIMEOUT_MS: "30000",
      ...auth,
    },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(60_000),
  }).output();
  const run: Run = {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
  try {
    run.result = JSON.parse(run.stdout);
  } catch {
    // Not JSON: the assertions below print stdout.
  }
  return run;
}

function describe(run: Run): string {
  return `exit ${run.code}\nstdout: ${run.stdout.slice(0, 2000)}\nstderr: ${
    run.stderr.slice(0, 2000)
  }`;
}

/** What every request of Claude Code looked like. */
function checkRequests(requests: Recorded[], auth: "x-api-key" | "authorization"): void {
  assert(requests.length >= 2, `${requests.length} requests`);
  for (const r of requests) {
    assertEquals(`${r.method} ${r.path}`, "POST /v1/messages");
    assertEquals(r.query.get("beta"), "true");
    assertEquals(r.headers.get("anthropic-version"), "2023-06-01");
    assertMatch(r.headers.get("anthropic-beta") ?? "", /claude-code-/);
    if (auth === "x-api-key") assertEquals(r.headers.get("x-api-key"), PASSWORD);
    else assertEquals(r.headers.get("authorization"), `Bearer ${PASSWORD}`);
  }
}

/** The first request as the fixture keeps it: paths and ids of this machine made neutral. */
function normalized(rec: Recorded, work: string): string {
  const home = work.slice(0, work.lastIndexOf("/"));
  const text = rec.body
    .replaceAll(work, "/home/user/project")
    .replaceAll(work.replaceAll("/", "-"), "-home-user-project")
    .replaceAll(home, "/home/user");
  const body = JSON.parse(text);
  if (typeof body.metadata?.user_id === "string") {
    body.metadata.user_id = body.metadata.user_id
      .replace(/"device_id":"[0-9a-f]+"/, `"device_id":"${"0".repeat(64)}"`)
      .replace(/"session_id":"[^"]+"/, '"session_id":"00000000-0000-4000-8000-000000000000"');
  }
  return `${JSON.stringify(body, null, 1)}\n`;
}

/** Saves (UPDATE_FIXTURES=1) or checks the fixture against what this release sent. */
async function checkFixture(rec: Recorded, work: string): Promise<void> {
  if (Deno.env.get("UPDATE_FIXTURES") === "1") {
    await Deno.writeTextFile(FIXTURE, normalized(rec, work));
    return;
  }
  const fixture = JSON.parse(await Deno.readTextFile(FIXTURE));
  const names = (b: { tools?: { name: string }[] }) => (b.tools ?? []).map((t) => t.name);
  assertEquals(
    names(rec.json as { tools?: { name: string }[] }),
    names(fixture),
    "Claude Code offers other tools than the fixture: refresh it with UPDATE_FIXTURES=1",
  );
}

Deno.test("Claude Code writes a file through a native-tools model", async () => {
  const upstream = await startFakeOpenAi({ keys: ["sk-upstream-0123456789"] });
  upstream.respond = nativeWriter;
  const gw = await startGateway({
    "custom-llm": [{
      prefix: "up",
      "base-url": upstream.baseUrl,
      "api-key": ["sk-upstream-0123456789"],
      models: ["gpt-4o-mini"],
    }],
    server: { password: [PASSWORD] },
  }, { level: "info" });
  const proxy = await recordingProxy(gw.origin);
  try {
    await using where = await hermeticHome();
    const file = `${where.work}/out.txt`;
    const run = await runClaude(
      where,
      proxy.origin,
      "up/gpt-4o-mini",
      `Create the file ${file} containing exactly: ${CONTENT}`,
      { ANTHROPIC_API_KEY: PASSWORD },
    );
    assertEquals(run.code, 0, describe(run));
    assertEquals(run.result?.is_error, false, describe(run));
    assertEquals(await Deno.readTextFile(file), CONTENT);

    checkRequests(proxy.requests, "x-api-key");
    await checkFixture(proxy.requests[0], where.work);
    const [first, second] = upstream.chatBodies() as unknown as ChatBody[];
    const offered = (first.tools ?? []).map((t) => t.function.name);
    for (const name of ["Write", "Bash", "Read", "Edit"]) assert(offered.includes(name), name);
    // The call went back upstream with its own id, answered by a tool message.
    const call = (second.messages.findLast((m) => m.role === "assistant")!.tool_calls as {
      id: string;
    }[])[0];
    const result = second.messages.at(-1)!;
    assertEquals(result.role, "tool");
    assertEquals(result.tool_call_id, call.id);
    assertMatch(String(result.content), /out\.txt/);
  } finally {
    await proxy.close();
    await gw.close();
    await upstream.close();
  }
});

Deno.test("Claude Code writes a file through an emulated-tools model", async () => {
  const llm = await startFakeToolLlm({ models: ["tool-model"] });
  llm.script = (view) => {
    if (view.results.length > 0) return "Done: the file is written.";
    const write = view.tools.find((t) => t.name === "Write");
    const task = TASK.exec(view.lastUser);
    if (!write || !task) return "I have no tool that writes files.";
    return `I will write it.\n${callText("Write", { file_path: task[1], content: task[2] })}`;
  };
  const gw = await startGateway({
    "custom-llm": [{ prefix: "web", "base-url": llm.baseUrl, tc: true, models: ["tool-model"] }],
    server: { password: [PASSWORD] },
  }, { level: "info" });
  const proxy = await recordingProxy(gw.origin);
  try {
    await using where = await hermeticHome();
    const file = `${where.work}/out.txt`;
    const run = await runClaude(
      where,
      proxy.origin,
      "web/tool-model",
      `Create the file ${file} containing exactly: ${CONTENT}`,
      { ANTHROPIC_AUTH_TOKEN: PASSWORD },
    );
    assertEquals(run.code, 0, describe(run));
    assertEquals(run.result?.is_error, false, describe(run));
    assertEquals(await Deno.readTextFile(file), CONTENT);

    checkRequests(proxy.requests, "authorization");
    // The upstream got no tool fields: the tools were in the prompt, every one of them.
    const sent = proxy.requests[0].json as { tools: { name: string; defer_loading?: boolean }[] };
    const offered = sent.tools.filter((t) => !t.defer_loading).map((t) => t.name);
    assertEquals(llm.views[0].tools.map((t) => t.name).sort(), offered.sort());
    assertEquals(llm.views[1].results.length, 1);
    assertEquals(llm.views[1].results[0].name, "Write");
  } finally {
    await proxy.close();
    await gw.close();
    await llm.close();
  }
});
