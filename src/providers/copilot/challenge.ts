/**
 * The proof-of-work challenges the chat socket sends before it answers (reference section 1,
 * request flow step 6; Windows-Copilot-API `copilot/challenges.py`), answered in process:
 *
 * - `hashcash`: `parameter` is `<seed>:<difficulty>`; the token is the smallest decimal nonce
 *   whose SHA-256 of seed + nonce starts with `difficulty` zero bits;
 * - `copilot`: `parameter` is a number a; the token is (a³/100 + 25a) mod 22 (the modulo of
 *   Python: never negative), rounded half up.
 *
 * A `null` or `cloudflare` method needs a Turnstile token from a browser (`mod.ts`).
 *
 * @module
 */
import { createHash } from "node:crypto";

/** A challenge the gateway cannot or will not solve. */
export class ChallengeError extends Error {
  override name = "ChallengeError";
}

/** Most leading zero bits accepted (2^22 hashes expected: a few seconds). */
export const MAX_DIFFICULTY = 22;
/** Nonces tried at most (64 times the expected work of the largest difficulty). */
const MAX_NONCE = 64 * 2 ** MAX_DIFFICULTY;
/** Hashes between two yields to the event loop, so that the server keeps serving. */
const SLICE = 20_000;

/** True when `digest` starts with `bits` zero bits. */
export function leadingZeroBits(digest: Uint8Array, bits: number): boolean {
  const full = bits >> 3;
  for (let i = 0; i < full; i++) if (digest[i] !== 0) return false;
  const rest = bits & 7;
  return rest === 0 || (digest[full] & ((0xff << (8 - rest)) & 0xff)) === 0;
}

/** Solves a `hashcash` challenge; `signal` stops the search. */
export async function solveHashcash(parameter: string, signal?: AbortSignal): Promise<string> {
  const cut = parameter.lastIndexOf(":");
  const seed = parameter.slice(0, cut);
  const difficulty = Number(parameter.slice(cut + 1));
  if (cut <= 0 || !Number.isInteger(difficulty) || difficulty < 0) {
    throw new ChallengeError(`a hashcash parameter that is not <seed>:<difficulty>`);
  }
  if (difficulty > MAX_DIFFICULTY) {
    throw new ChallengeError(
      `a hashcash difficulty of ${difficulty} bits (at most ${MAX_DIFFICULTY})`,
    );
  }
  for (let nonce = 0; nonce < MAX_NONCE; nonce++) {
    if (nonce % SLICE === SLICE - 1) {
      await new Promise((r) => setTimeout(r, 0));
      if (signal?.aborted) throw new ChallengeError("the search was cancelled");
    }
    const digest = createHash("sha256").update(seed + nonce).digest();
    if (leadingZeroBits(digest, difficulty)) return String(nonce);
  }
  throw new ChallengeError("no hashcash nonce within the search budget");
}

/** Solves the arithmetic `copilot` challenge. */
export function solveArithmetic(parameter: string): string {
  const a = Number(parameter);
  if (!Number.isFinite(a) || String(parameter).trim() === "") {
    throw new ChallengeError(`a copilot challenge parameter that is not a number`);
  }
  const v = a ** 3 / 100 + a * 25;
  const mod = v - 22 * Math.floor(v / 22);
  return String(Math.floor(mod + 0.5));
}
