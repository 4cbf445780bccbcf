// POSIX sh (and the bash of cloud user data): the one place a value is quoted for a shell script,
// and the emitter every generated script goes through.
//
// The gate: a script is a list of lines, each a Word of this dialect or a comment. Code is written
// with the `sh` tag, whose literal text is the renderer's own source (a template literal, read raw
// as String.raw reads it, so backslashes and `\` line ends stay as written, except that `\${`
// is sh's `${`, which a template literal cannot hold otherwise); every value placed in
// it is a Word that quote() (or a vetted constructor here or in word.ts) made, or a number. A plain
// string is refused, so a model value can reach a script only through quote(). A value that sh
// cannot carry (a NUL byte, or a lone UTF-16 surrogate, which has no UTF-8 form) is refused there.
import { num, vetted, Word, wordText } from './word.ts';

/**
 * A value as one sh word, read back unchanged: in single quotes, inside which sh interprets
 * nothing, with each `'` written as `'\''`.
 */
export function shQuote(s: string): string {
  if (s.includes('\0')) throw new Error(`internal: sh cannot carry ${JSON.stringify(s)} (a NUL byte ends a C string)`);
  if (/\p{Cs}/u.test(s)) throw new Error(`internal: sh cannot carry ${JSON.stringify(s)} (a lone UTF-16 surrogate has no UTF-8 form)`);
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** A value as a vetted sh word, for the `sh` tag. */
export function quote(s: string): Word {
  return vetted('sh', shQuote(s));
}

/** Words of a command line: each one quoted (argv[0] included). */
export function argv(words: string[]): Word {
  if (words.length === 0) throw new Error('internal: an empty sh command');
  return vetted('sh', words.map(shQuote).join(' '));
}

/** A shell variable name: upper case, as the generated scripts name their settings. */
function varName(name: string): string {
  if (!/^[A-Z][A-Z0-9_]*$/.test(name)) throw new Error(`internal: bad shell variable ${name}`);
  return name;
}

/** `"$NAME"`: a variable's value as one word. */
export function varRef(name: string): Word {
  return vetted('sh', `"$${varName(name)}"`);
}

/** `NAME='value'`: an assignment line. */
export function assign(name: string, value: string | number): Word {
  return vetted('sh', `${varName(name)}=${shQuote(String(value))}`);
}

/** `NAME='value'` lines for the top of a generated script. */
export function shAssignments(vars: [name: string, value: string | number][]): string[] {
  return vars.map(([name, value]) => assign(name, value).text);
}

/**
 * Shell code: the literal text as written in the renderer's source (raw, as String.raw reads it;
 * `\${` is written for sh's `${`),
 * with each value a Word of sh (quote(), varRef(), argv(), another `sh` block) or a dialect-neutral
 * one (num, ip, prefix), or a number. Anything else, a plain string above all, is refused.
 */
export function sh(parts: TemplateStringsArray, ...values: (Word | number)[]): Word {
  if (!Array.isArray(parts.raw) || !Object.isFrozen(parts)) throw new Error('internal: sh`` takes a template literal of the renderer\'s source');
  const source = (i: number) => parts.raw[i]!.replace(/\\\$\{/g, '${');
  let text = source(0);
  values.forEach((v, i) => {
    const w = typeof v === 'number' ? num(v) : v;
    if (!(w instanceof Word)) throw new Error(`internal: sh code got the plain value ${JSON.stringify(v)}: pass it through quote()`);
    text += wordText(w, 'sh', NOTHING) + source(i + 1);
  });
  return vetted('sh', text);
}

/** No plain string is sh syntax: code comes through the `sh` tag. */
const NOTHING = /(?!)/;

/** A line of a script: code (a Word of sh), or a plain string that is a comment (`#...`, the `#!` line too) or empty. */
export type ShLine = Word | string;

/** The lines of a script; a code Word of several lines gives each of them. */
export function emitSh(lines: ShLine[]): string[] {
  return lines.flatMap((l) => {
    if (l instanceof Word) return wordText(l, 'sh', NOTHING).split('\n');
    if (typeof l !== 'string' || !/^(#[^\n\r]*)?$/.test(l)) throw new Error(`internal: sh line ${JSON.stringify(l)} is neither a comment nor code from sh\`\``);
    return [l];
  });
}
