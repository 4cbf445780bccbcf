// The character sets the model accepts for values that end up inside daemon configs. Anything
// outside them is rejected at load time, so no dialect ever has to carry a quote, a backslash, a
// brace, a semicolon or a newline from user input.

/**
 * Free text for humans (locations): letters of any script with their combining accents (São,
 * Москва, 東京), ASCII digits, spaces and , . - _ / ( ) ' :. Every dialect's quote() carries all of
 * these (test/model/properties.test.ts proves it), so free text may go anywhere. Never `"`, `\`,
 * braces, `;`, `#`, `!`, `$`, `%`, other punctuation, lookalike digits, or control, format and
 * other space characters (zero-width, direction overrides, tabs, non-breaking spaces).
 */
export const SAFE_TEXT = /^[\p{L}\p{M}0-9 ,.\-_/()':]*$/u;
export const SAFE_TEXT_RULE = "may hold only letters of any script (with their accents), digits 0-9, spaces and , . - _ / ( ) ' :";

/** A lowercase DNS name, without the trailing dot. */
export const DNS_NAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$/;

/** Model keys that become daemon identifiers (site ids, host names, peer names, subnet names). */
export const IDENT = /^[a-z][a-z0-9-]{0,31}$/;
