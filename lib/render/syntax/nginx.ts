// nginx's dialect: brace blocks with ';', and the one place that quotes a value.
import { emitBrace, type BraceDialect, type Node } from './brace.ts';
import { vetted, type Word } from './word.ts';

/** Characters nginx reads as one bare word: no whitespace, quotes, braces, `;`, `#`, `$` or `\`. */
const BARE = /^[A-Za-z0-9._\/:=,@*~+%^!?|()\[\]-]+$/;

/**
 * An nginx value. Bare when it is one plain word, else double-quoted with `"` and `\` escaped.
 * A `$` would start a variable and a control character would end the line, so both are refused:
 * the model never lets them through, and a renderer that tries is a bug.
 */
export function quote(s: string): Word {
  if (/[$\x00-\x1f\x7f]/.test(s)) throw new Error(`internal: nginx cannot carry ${JSON.stringify(s)}`);
  if (BARE.test(s)) return vetted('nginx', s);
  return vetted('nginx', `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`);
}

/**
 * A single-quoted string that nginx expands variables in (a log_format). Only for constants of the
 * renderer: it refuses `'`, `\` and control characters, which would end or escape the string.
 */
export function template(s: string): Word {
  if (/['\\\x00-\x1f\x7f]/.test(s)) throw new Error(`internal: nginx cannot template ${JSON.stringify(s)}`);
  return vetted('nginx', `'${s}'`);
}

/**
 * Plain nginx syntax: one bare word, no whitespace, quotes, braces, `;`, `#` or `\`. `$` is
 * allowed, since variables (`$uri`) are syntax written in the renderer, never model values.
 */
const SYNTAX = /^[^\s\x00-\x1f\x7f"';{}#\\]+$/;

export const NGINX: BraceDialect = { name: 'nginx', terminator: ';', comment: '#', indent: '\t', syntax: SYNTAX, code: /(?!)/ };

export function emitNginx(nodes: Node[]): string[] {
  return emitBrace(nodes, NGINX);
}
