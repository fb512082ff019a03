/**
 * Codex itself (`codex exec` from npm `@openai/codex`, pinned) against the gateway's Responses
 * API: a custom `model_provider` with `wire_api = "responses"` in a hermetic `CODEX_HOME`, retries
 * off so that a failure fails fast. Codex must write a file through its own tool, on a model with
 * native tools (`custom-llm` in front of the fake OpenAI API) and on one whose tool calls the
 * gateway emulates (`tc: true`, the fake tool LLM reading the emulation prompt).
 *
 * The fake model decides from what it receives: the file task in the user's words and the writing
 * tool Codex offers (`apply_patch` if offered, else `exec_command`, else `shell`).
 */
import { assert, assertEquals, assertStringIncludes } from "../assert.ts";
import type { ChatBody, Script } from "../fakes/openai.ts";
import { startFakeOpenAi } from "../fakes/openai.ts";
import { callText, startFakeToolLlm } from "../fakes/tool_llm.ts";
import { startGateway, type TestGateway } from "../helpers.ts";
import { npmCli } from "./npm_cli.ts";

const CODEX_VERSION = "0.171.0";
const UPSTREAM_KEY = "sk-upstream-configured-0001";
/** What Codex sends as its key (env_key): not the upstream's. */
const CODEX_KEY = "sk-codex-client-key-0002";
const FILE = "hello.txt";
const CONTENT = "Hello from Codex via the gateway";
const PROMPT = `Create a file named ${FILE} containing exactly: ${CONTENT}`;

/** The file task in the user's words, if any. */
function taskOf(texts: string[]): { file: string; content: string } | undefined {
  for (const t of texts) {
    const m = /Create a file named (\S+) containing exactly: (.+)$/m.exec(t);
    if (m) return { file: m[1], content: m[2].trim() };
  }
  return undefined;
}

function shellQuote(s: string): string {
  return `'${s.replaceAll("'", `'"'"'`)}'`;
}

/** The call that writes `task`'s file with the writing tool among `tools`, if there is one. */
function writeCall(
  tools: string[],
  task: { file: string; content: string },
): { name: string; arguments: Record<string, unknown> } | undefined {
  if (tools.includes("apply_patch")) {
    return {
      name: "apply_patch",
      arguments: {
        input: `*** Begin Patch\n*** Add File: ${task.file}\n+${task.content}\n*** End Patch\n`,
      },
    };
  }
  const cmd = `printf '%s' ${shellQuote(task.content)} > ${shellQuote(task.file)}`;
  if (tools.includes("exec_command")) return { name: "exec_command", arguments: { cmd } };
  if (tools.includes("shell")) {
    return { name: "shell", arguments: { command: ["bash", "-lc", cmd] } };
  }
  return undefined;
}

function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) return content.map((p) => String(p?.text ?? "")).join("\n");
  return "";
}

/** The native-tools model: calls the writing tool, then says it is done. */
function nativeModel(body: ChatBody): Script {
  if (body.messages.at(-1)?.role === "tool") return { text: `Wrote ${FILE}.` };
  const task = taskOf(body.messages.filter((m) => m.role === "user").map((m) => textOf(m.content)));
  const call = task && writeCall((body.tools ?? []).map((t) => t.function.name), task);
  if (!call) return { text: "I have no tool to write files with." };
  return { text: "Writing the file.", toolCalls: [call] };
}

interface CodexRun {
  code: number;
  stdout: string;
  stderr: string;
  workdir: string;
}

/** Runs `codex exec PROMPT` in a fresh folder against `gw` with model `model`. */
async function runCodex(gw: TestGateway, model: string): Promise<CodexRun> {
  const codex = await npmCli("@openai/codex", CODEX_VERSION, "codex");
  const home = await Deno.makeTempDir({ prefix: "codex-home-" });
  const workdir = await Deno.makeTempDir({ prefix: "codex-work-" });
  await Deno.writeTextFile(
    `${home}/config.toml`,
    [
      `model = ${JSON.stringify(model)}`,
      `model_provider = "gateway"`,
      `check_for_update_on_startup = false`,
      `[analytics]`,
      `enabled = false`,
      `[model_providers.gateway]`,
      `name = "chatgpt-adapter"`,
      `base_url = ${JSON.stringify(gw.url)}`,
      `env_key = "GATEWAY_KEY"`,
      `wire_api = "responses"`,
      `request_max_retries = 0`,
      `stream_max_retries = 0`,
      `stream_idle_timeout_ms = 30000`,
      "",
    ].join("\n"),
  );
  const env: Record<string, string> = {
    PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    HOME: home,
    CODEX_HOME: home,
    GATEWAY_KEY: CODEX_KEY,
    NO_COLOR: "1",
    TERM: "dumb",
    SHELL: "/bin/bash",
  };
  const out = await new Deno.Command(codex, {
    args: [
      "exec",
      "--skip-git-repo-check",
      "--dangerously-bypass-approvals-and-sandbox",
      "--ephemeral",
      "--color",
      "never",
      "-C",
      workdir,
      PROMPT,
    ],
    cwd: workdir,
    env,
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(60_000),
  }).output();
  await Deno.remove(home, { recursive: true }).catch(() => {});
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
    workdir,
  };
}

async function assertWrote(run: CodexRun): Promise<void> {
  const detail = `codex exit ${run.code}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`;
  try {
    assertEquals(run.code, 0, detail);
    const written = await Deno.readTextFile(`${run.workdir}/${FILE}`).catch(() => undefined);
    assertEquals(written?.trim(), CONTENT, detail);
  } finally {
    await Deno.remove(run.workdir, { recursive: true }).catch(() => {});
  }
}

Deno.test("codex exec writes a file through a native-tools model", async () => {
  const upstream = await startFakeOpenAi({ keys: [UPSTREAM_KEY], models: ["gpt-4.1"] });
  upstream.respond = nativeModel;
  const gw = await startGateway({
    "custom-llm": [{
      prefix: "up",
      "base-url": upstream.baseUrl,
      "api-key": [UPSTREAM_KEY],
      models: ["gpt-4.1"],
    }],
  });
  try {
    await assertWrote(await runCodex(gw, "up/gpt-4.1"));
    const bodies = upstream.chatBodies();
    assert(bodies.length >= 2, `${bodies.length} upstream calls`);
    // Codex's tools went upstream as functions; its hosted web_search was left out, logged.
    const names = (bodies[0].tools as { function: { name: string } }[]).map((t) => t.function.name);
    assert(names.includes("exec_command"), names.join(", "));
    // Its namespace tools were flattened into their functions.
    assert(names.includes("spawn_agent"), names.join(", "));
    assert(!names.includes("web_search"));
    assertStringIncludes(gw.logs.join("\n"), "hosted tools left out");
    // The second call carries the tool call and its output, matched by id.
    const second = bodies[1].messages as { role: string; tool_call_id?: string }[];
    const last = second.at(-1)!;
    assertEquals(last.role, "tool");
    assert(last.tool_call_id?.startsWith("call_"), last.tool_call_id);
    // Codex's own key never replaced the configured one.
    for (const r of upstream.requests) {
      assertEquals(r.headers.get("authorization"), `Bearer ${UPSTREAM_KEY}`);
    }
    assert(gw.logs.some((l) => l.includes("POST /v1/responses") && l.includes(" 200 ")));
  } finally {
    await gw.close();
    await upstream.close();
  }
});

Deno.test("codex exec writes a file through an emulated-tools model", async () => {
  const llm = await startFakeToolLlm({ keys: [UPSTREAM_KEY], models: ["plain-model"] });
  llm.script = (view) => {
    if (view.results.length > 0) return `Wrote ${FILE}.`;
    const task = taskOf(view.messages.filter((m) => m.role === "user").map((m) => m.text));
    const call = task && writeCall(view.tools.map((t) => t.name), task);
    if (!call) return "I have no tool to write files with.";
    return `I will write it.\n${callText(call.name, call.arguments)}`;
  };
  const gw = await startGateway({
    "custom-llm": [{
      prefix: "tc",
      "base-url": llm.baseUrl,
      "api-key": [UPSTREAM_KEY],
      models: ["plain-model"],
      tc: true,
    }],
  });
  try {
    await assertWrote(await runCodex(gw, "tc/plain-model"));
    assert(llm.views.length >= 2, `${llm.views.length} upstream calls`);
    assert(llm.views[0].tools.some((t) => t.name === "exec_command"));
    assertEquals(llm.views[1].results.length, 1);
  } finally {
    await gw.close();
    await llm.close();
  }
});
