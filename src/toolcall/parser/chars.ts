/**
 * The character codes the readers compare (`charCodeAt` values: cheaper than one-character
 * strings on the hot path) and the JSON whitespace test.
 *
 * @module
 */

/** `\t` */
export const TAB = 9;
/** `\n` */
export const NL = 10;
/** `\r` */
export const CR = 13;
/** ` ` */
export const SP = 32;
/** `"` */
export const DQ = 34;
/** `'` */
export const SQ = 39;
/** `,` */
export const COMMA = 44;
/** `:` */
export const COLON = 58;
/** `<` */
export const LT = 60;
/** `[` */
export const LBRACKET = 91;
/** `\` */
export const BSL = 92;
/** `]` */
export const RBRACKET = 93;
/** `` ` `` */
export const BACKTICK = 96;
/** `{` */
export const LBRACE = 123;
/** `}` */
export const RBRACE = 125;

/** JSON whitespace. */
export function isWs(c: number): boolean {
  return c === SP || c === NL || c === CR || c === TAB;
}

/** The first character of a JSON object or list. */
export function opensValue(c: number): boolean {
  return c === LBRACE || c === LBRACKET;
}

/** True when `text` (not empty) ends with a line feed. */
export function endsLine(text: string): boolean {
  return text.charCodeAt(text.length - 1) === NL;
}
