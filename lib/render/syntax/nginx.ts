// nginx's dialect: brace blocks with ';', and the one place that quotes a value.
import { emitBrace, type Node } from './brace.ts';

/** Characters nginx reads as one bare word: no whitespace, quotes, braces, `;`, `#`, `$` or `\`. */
const BARE = /^[A-Za-z0-9._\/:=,@*~+%^!?|()\[\]-]+$/;

/**
 * An nginx value. Bare when it is one plain word, else double-quoted with `"` and `\` escaped.
 * A `$` would start a variable and a control character would end the line, so both are refused:
 * the model never lets them through, and a renderer that tries is a bug.
 */
export function quote(s: string): string {
  if (/[$\x00-\x1f\x7f]/.test(s)) throw new Error(`internal: nginx cannot carry ${JSON.stringify(s)}`);
  if (BARE.test(s)) return s;
  return `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

export function emitNginx(nodes: Node[]): string[] {
  return emitBrace(nodes, { terminator: ';', comment: '#', indent: '\t' });
}
