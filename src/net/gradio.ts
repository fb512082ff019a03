/**
 * A client of gradio apps (Hugging Face spaces, lmarena), as gradio's own clients speak to them:
 *
 * 1. `GET <root>/config` (always at the root): `version`, `api_prefix` (`/gradio_api` on Gradio 5
 *    and 6, absent on 4, so every other path below is `<root><prefix>/...`), `protocol`
 *    (`sse_v3`, or `ws` for Gradio 3), `dependencies[]` (each one's `id` is its `fn_index`, its
 *    first target's component the `trigger_id`).
 * 2. `GET <prefix>/info`: `named_endpoints["/<api_name>"].parameters[]` (name, default), which
 *    places inputs given by name.
 * 3. Calls: the queue (`gradio_queue.ts`, `fn_index` + `session_hash`), the simple REST route
 *    `POST <prefix>/call/<api_name>` `{data}` → `{event_id}` then `GET
 *    <prefix>/call/<api_name>/<event_id>` (SSE, `gradio_stream.ts`), or Gradio 3's websocket
 *    (`gradio_socket.ts`).
 * 4. Files: `POST <prefix>/upload?upload_id=` (multipart `files`) answers server paths, passed on
 *    as `FileData`; outputs point at `<prefix>/file=<path>`.
 *
 * This module re-exports the pieces so that callers import one place.
 *
 * @module
 */
import { upstreamFailed } from "../openai/errors.ts";
import { randomAlnum } from "../util/id.ts";
import { readJson, snippet, type Upstream } from "./http.ts";
import { requestHeaders } from "./gradio_queue.ts";
import type { CookieJar } from "./cookie_jar.ts";
import { type GradioUpdate, lastOutput, trackCall } from "./gradio_stream.ts";

export { CookieJar } from "./cookie_jar.ts";
export { applyDiff, type DiffOp, OutputTracker } from "./gradio_diff.ts";
export {
  joinQueue,
  type QueueCall,
  queueMessages,
  queueResult,
  runQueue,
  sessionHash,
} from "./gradio_queue.ts";
export { runSocket, type SocketOptions, socketResult, socketRoot } from "./gradio_socket.ts";
export {
  appError,
  type GradioMessage,
  type GradioUpdate,
  lastOutput,
  readQueueStream,
  trackCall,
  trackOutputs,
} from "./gradio_stream.ts";

/** One event handler of an app, as `/config` lists it. */
export interface GradioDependency {
  /** The `fn_index`. */
  id: number;
  api_name?: string | null | false;
  /** `[component_id, event]` pairs (gradio 4+) or component ids (gradio 3). */
  targets?: unknown[];
}

/** What an app's `/config` says about its API. */
export interface GradioApp {
  /** The `http(s)` root, without a trailing slash. */
  root: string;
  /** `/gradio_api` on Gradio 5+, "" before. */
  prefix: string;
  /** `sse_v3`, `sse_v2`, ... or `ws` (Gradio 3's websocket queue). */
  protocol: string;
  version?: string;
  dependencies: GradioDependency[];
}

/** Headers and cookies sent with every step. */
export interface GradioRequest {
  headers?: Record<string, string>;
  jar?: CookieJar;
}

/** `GET <root>/config`: the app's API prefix, protocol and event handlers. */
export async function discoverApp(
  http: Upstream,
  root: string,
  request: GradioRequest = {},
): Promise<GradioApp> {
  const res = await http.ok(`${root}/config`, {
    headers: requestHeaders(request, { accept: "application/json" }),
  });
  request.jar?.absorb(res);
  const config = await readJson<Record<string, unknown>>(http.provider, res);
  if (!config || typeof config !== "object" || Array.isArray(config)) {
    throw upstreamFailed(http.provider, `/config is not an object: ${snippet(String(config))}`);
  }
  const version = typeof config.version === "string" ? config.version : undefined;
  const prefix = typeof config.api_prefix === "string" ? config.api_prefix.replace(/\/+$/, "") : "";
  const protocol = typeof config.protocol === "string"
    ? config.protocol
    : version?.startsWith("3.")
    ? "ws"
    : "sse_v1";
  const deps = Array.isArray(config.dependencies) ? config.dependencies : [];
  const dependencies = deps.map((d, i): GradioDependency => {
    const dep = (d && typeof d === "object" ? d : {}) as Record<string, unknown>;
    return {
      id: typeof dep.id === "number" ? dep.id : i,
      api_name: dep.api_name as GradioDependency["api_name"],
      targets: Array.isArray(dep.targets) ? dep.targets : undefined,
    };
  });
  return { root, prefix, protocol, version, dependencies };
}

/** The trigger id of `fnIndex` (its first target's component), when `/config` tells it. */
export function triggerOf(app: GradioApp, fnIndex: number): number | undefined {
  const target = app.dependencies.find((d) => d.id === fnIndex)?.targets?.[0];
  const id = Array.isArray(target) ? target[0] : target;
  return typeof id === "number" ? id : undefined;
}

/** The name of an endpoint without its leading slash (`/infer` and `infer` are one). */
export function endpointName(apiName: string): string {
  return apiName.replace(/^\/+/, "");
}

/** One parameter of a named endpoint, as `/info` describes it. */
export interface EndpointParameter {
  parameter_name?: string;
  label?: string;
  parameter_has_default?: boolean;
  parameter_default?: unknown;
}

/** `GET <prefix>/info`: the parameters of the named endpoint `apiName`, in order. */
export async function endpointParameters(
  http: Upstream,
  app: GradioApp,
  apiName: string,
  request: GradioRequest = {},
): Promise<EndpointParameter[]> {
  const info = await http.json<{ named_endpoints?: Record<string, { parameters?: unknown }> }>(
    `${app.root}${app.prefix}/info`,
    { headers: requestHeaders(request, { accept: "application/json" }) },
  );
  const named = info?.named_endpoints ?? {};
  const endpoint = named[`/${endpointName(apiName)}`];
  if (!endpoint || !Array.isArray(endpoint.parameters)) {
    throw upstreamFailed(
      http.provider,
      `the app has no endpoint /${endpointName(apiName)} (it has: ${
        Object.keys(named).join(", ") || "none"
      })`,
    );
  }
  return endpoint.parameters as EndpointParameter[];
}

/**
 * Positional inputs from inputs given by name: each parameter takes its value, else its
 * default; a parameter without either, or a name the endpoint does not have, is an error.
 */
export function placeByName(
  provider: string,
  parameters: readonly EndpointParameter[],
  values: Record<string, unknown>,
): unknown[] {
  const names = parameters.map((p, i) => p.parameter_name ?? p.label ?? `#${i}`);
  const unknown = Object.keys(values).filter((k) => !names.includes(k));
  if (unknown.length > 0) {
    throw upstreamFailed(
      provider,
      `the endpoint has no parameter ${unknown.join(", ")} (it takes: ${names.join(", ")})`,
    );
  }
  return parameters.map((p, i) => {
    const name = names[i];
    if (name in values) return values[name];
    if (p.parameter_has_default) return p.parameter_default ?? null;
    throw upstreamFailed(provider, `the endpoint's parameter '${name}' needs a value`);
  });
}

/** One simple REST call. */
export interface CallOptions extends GradioRequest {
  app: Pick<GradioApp, "root" | "prefix">;
  apiName: string;
  data: unknown[];
}

/** `POST <prefix>/call/<api_name>` then its event stream, as updates with whole values. */
export async function* runCall(http: Upstream, call: CallOptions): AsyncGenerator<GradioUpdate> {
  const base = `${call.app.root}${call.app.prefix}/call/${endpointName(call.apiName)}`;
  const res = await http.ok(base, {
    method: "POST",
    headers: requestHeaders(call, {
      "content-type": "application/json",
      accept: "application/json",
    }),
    body: JSON.stringify({ data: call.data }),
  });
  call.jar?.absorb(res);
  const json = await readJson<{ event_id?: unknown }>(http.provider, res);
  if (typeof json?.event_id !== "string" || json.event_id === "") {
    throw upstreamFailed(
      http.provider,
      `call/${endpointName(call.apiName)} answered without an event id: ${
        snippet(JSON.stringify(json))
      }`,
    );
  }
  const events = await http.sse(`${base}/${encodeURIComponent(json.event_id)}`, {
    headers: requestHeaders(call, { accept: "text/event-stream" }),
  });
  yield* trackCall(http.provider, events);
}

/** The final output values of a simple REST call. */
export async function callResult(http: Upstream, call: CallOptions): Promise<unknown[]> {
  return await lastOutput(http.provider, runCall(http, call));
}

/** The URL of a file of the app's cache (`<root><prefix>/file=<path>`). */
export function fileUrl(app: Pick<GradioApp, "root" | "prefix">, path: string): string {
  return `${app.root}${app.prefix}/file=${path}`;
}

/** A file to upload. */
export interface UploadFile {
  bytes: Uint8Array;
  name: string;
  type: string;
}

/**
 * `POST <prefix>/upload?upload_id=`: uploads files (multipart field `files`, repeated) and
 * returns each one's `FileData` for the inputs of a call.
 */
export async function uploadFiles(
  http: Upstream,
  app: Pick<GradioApp, "root" | "prefix">,
  files: readonly UploadFile[],
  request: GradioRequest = {},
): Promise<Record<string, unknown>[]> {
  const form = new FormData();
  for (const f of files) {
    form.append("files", new Blob([f.bytes as Uint8Array<ArrayBuffer>], { type: f.type }), f.name);
  }
  const url = `${app.root}${app.prefix}/upload?upload_id=${randomAlnum(11).toLowerCase()}`;
  const res = await http.ok(url, {
    method: "POST",
    headers: requestHeaders(request, { accept: "application/json" }),
    body: form,
  });
  const paths = await readJson<unknown>(http.provider, res);
  if (
    !Array.isArray(paths) || paths.length !== files.length ||
    !paths.every((p) => typeof p === "string")
  ) {
    throw upstreamFailed(
      http.provider,
      `upload answered no list of ${files.length} paths: ${snippet(JSON.stringify(paths))}`,
    );
  }
  return paths.map((path, i) => ({
    path,
    url: fileUrl(app, path),
    orig_name: files[i].name,
    size: files[i].bytes.length,
    mime_type: files[i].type,
    meta: { _type: "gradio.FileData" },
  }));
}
