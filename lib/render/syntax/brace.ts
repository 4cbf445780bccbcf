// Brace-block dialects (bird, nginx, keepalived): build a small tree, emit it once.
// Quoting is not done here: each dialect module owns its one quote() and hands over vetted Words.
// The emitter is the gate: a word is a Word of its dialect (or a number or address), or a plain
// string of config syntax that matches the dialect's pattern. Anything else is refused.
import { num, Word, wordText, type Dialect } from './word.ts';

export type Token = Word | string;

export type Node =
  | { kind: 'stmt'; words: Token[] }
  | { kind: 'block'; head: Token[]; body: Node[]; after: '' | ';' }
  | { kind: 'code'; lines: Token[] }
  | { kind: 'blank' }
  | { kind: 'comment'; text: string };

const token = (w: Token | number): Token => (typeof w === 'number' ? num(w) : w);

export const stmt = (...words: (Token | number)[]): Node => ({ kind: 'stmt', words: words.map(token) });
export const block = (head: (Token | number)[], body: Node[], after: '' | ';' = ''): Node => ({ kind: 'block', head: head.map(token), body, after });
/** Pre-formatted lines (bird filter code), indented with the block they sit in. */
export const code = (...lines: Token[]): Node => ({ kind: 'code', lines });
export const blank: Node = { kind: 'blank' };

export interface BraceDialect {
  name: Dialect;
  /** Statement terminator: ';' for bird and nginx, '' for keepalived. */
  terminator: string;
  comment: string;
  indent: string;
  /** What a plain string word may look like: syntax that cannot open a string, comment or block. */
  syntax: RegExp;
  /** What a plain string line of code may look like; `(?!)` for dialects without code. */
  code: RegExp;
}

export function emitBrace(nodes: Node[], d: BraceDialect, depth = 0): string[] {
  const pad = d.indent.repeat(depth);
  const words = (ws: Token[]) => ws.map((w) => wordText(w, d.name, d.syntax)).join(' ');
  const out: string[] = [];
  for (const n of nodes) {
    switch (n.kind) {
      case 'stmt':
        out.push(`${pad}${words(n.words)}${d.terminator}`);
        break;
      case 'block':
        if (n.after !== '' && n.after !== ';') throw new Error(`internal: ${d.name} block closed by ${JSON.stringify(n.after)}`);
        out.push(`${pad}${words(n.head)} {`, ...emitBrace(n.body, d, depth + 1), `${pad}}${n.after}`);
        break;
      case 'code':
        out.push(...n.lines.map((l) => (l === '' ? '' : wordText(l, d.name, d.code))).map((l) => (l === '' ? '' : `${pad}${l}`)));
        break;
      case 'blank':
        out.push('');
        break;
      case 'comment':
        if (/[\x00-\x1f\x7f]/.test(n.text)) throw new Error(`internal: ${d.name} comment ${JSON.stringify(n.text)} has a control character`);
        out.push(`${pad}${d.comment} ${n.text}`);
        break;
    }
  }
  return out;
}
