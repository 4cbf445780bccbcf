// Brace-block dialects (bird, nginx, keepalived): build a small tree, emit it once.
// Quoting is not done here: each dialect module owns its one quote() and passes finished words.

export type Node =
  | { kind: 'stmt'; words: string[] }
  | { kind: 'block'; head: string[]; body: Node[]; after: string }
  | { kind: 'code'; lines: string[] }
  | { kind: 'blank' }
  | { kind: 'comment'; text: string };

export const stmt = (...words: (string | number)[]): Node => ({ kind: 'stmt', words: words.map(String) });
export const block = (head: (string | number)[], body: Node[], after = ''): Node => ({ kind: 'block', head: head.map(String), body, after });
/** Pre-formatted lines (bird filter code), indented with the block they sit in. */
export const code = (...lines: string[]): Node => ({ kind: 'code', lines });
export const blank: Node = { kind: 'blank' };

export interface BraceDialect {
  /** Statement terminator: ';' for bird and nginx, '' for keepalived. */
  terminator: string;
  comment: string;
  indent: string;
}

export function emitBrace(nodes: Node[], d: BraceDialect, depth = 0): string[] {
  const pad = d.indent.repeat(depth);
  const out: string[] = [];
  for (const n of nodes) {
    switch (n.kind) {
      case 'stmt':
        out.push(`${pad}${n.words.join(' ')}${d.terminator}`);
        break;
      case 'block':
        out.push(`${pad}${n.head.join(' ')} {`, ...emitBrace(n.body, d, depth + 1), `${pad}}${n.after}`);
        break;
      case 'code':
        out.push(...n.lines.map((l) => (l === '' ? '' : `${pad}${l}`)));
        break;
      case 'blank':
        out.push('');
        break;
      case 'comment':
        out.push(`${pad}${d.comment} ${n.text}`);
        break;
    }
  }
  return out;
}
