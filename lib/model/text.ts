// The character sets the model accepts for values that end up inside daemon configs. Anything
// outside them is rejected at load time, so no dialect ever has to carry a quote, a backslash, a
// brace, a semicolon or a newline from user input.

/** Free text for humans (locations). No quotes, backslashes, braces, `;`, `#` or control characters. */
export const SAFE_TEXT = /^[A-Za-z0-9 ,.\-_/()]*$/;

/** A lowercase DNS name, without the trailing dot. */
export const DNS_NAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$/;

/** Model keys that become daemon identifiers (site ids, host names, peer names, subnet names). */
export const IDENT = /^[a-z][a-z0-9-]{0,31}$/;
