/**
 * The completion request claude.ai receives (reference section 2, clewdr `request.rs`,
 * `transform.rs`): the whole conversation, flattened, travels as a `paste.txt` attachment; the
 * `prompt` is a short instruction (`claude.prompt`, empty by default); `model` only for paid
 * organizations (free ones answer with the account's default); `rendering_mode: "messages"` (the
 * Messages event vocabulary, with thinking) when the client streams or asked for reasoning, else
 * `"raw"` (the older `completion` events); the server's time zone; no tools.
 *
 * @module
 */
import type { ChatRequest } from "../../openai/schema.ts";
import { maxTokens, reasoningOf } from "../params.ts";
import type { ClaudeModel } from "./models.ts";

/** The pasted conversation. */
export interface Attachment {
  extracted_content: string;
  file_name: string;
  file_type: string;
  file_size: number;
}

/** The body of a completion request. */
export interface CompletionBody {
  prompt: string;
  attachments: Attachment[];
  /** Uploaded files' ids (`api/{org}/upload`); none are uploaded here. */
  files: string[];
  model?: string;
  rendering_mode: "messages" | "raw";
  timezone: string;
  max_tokens_to_sample?: number;
  tools: never[];
}

/** What the request needs of the account and the configuration. */
export interface ClaudeRequestOptions {
  /** The flattened conversation (`prompt.ts`). */
  conversation: string;
  model: ClaudeModel;
  /** A paid plan: the model is named and thinking can be turned on. */
  paid: boolean;
  /** `claude.prompt`. */
  prompt: string;
  /** IANA time zone (default: this server's). */
  timezone?: string;
}

/** The completion body and whether extended thinking is to be turned on first. */
export interface ClaudeRequest {
  body: CompletionBody;
  thinking: boolean;
}

/**
 * True when the request asks for thinking: its reasoning settings (`reasoning_effort`, the
 * `reasoning` object) decide; without any, the model's `-thinking` suffix does.
 */
export function wantsThinking(req: ChatRequest, model: ClaudeModel): boolean {
  const r = reasoningOf(req);
  if (r?.enabled === false) return false;
  if (r && (r.enabled || r.effort || r.budget_tokens !== undefined)) return true;
  return model.thinking;
}

/** The time zone this server runs in. */
function serverTimezone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

/** Builds the completion body for `req`. */
export function toClaudeRequest(req: ChatRequest, o: ClaudeRequestOptions): ClaudeRequest {
  const thinking = o.paid && wantsThinking(req, o.model);
  const body: CompletionBody = {
    prompt: o.prompt,
    attachments: [{
      extracted_content: o.conversation,
      file_name: "paste.txt",
      file_type: "txt",
      file_size: new TextEncoder().encode(o.conversation).length,
    }],
    files: [],
    rendering_mode: req.stream === true || thinking ? "messages" : "raw",
    timezone: o.timezone ?? serverTimezone(),
    tools: [],
  };
  if (o.paid && o.model.id) body.model = o.model.id;
  const max = maxTokens(req);
  if (max !== undefined) body.max_tokens_to_sample = max;
  return { body, thinking };
}
