// mtail's program dialect: exported counters, and pattern-action blocks whose conditions are
// regular expressions. The program is built as a small tree and emitted once. The gate: names
// are identifiers, a regex literal is made only by re() (which escapes its delimiter and refuses
// a line break), and an action is only a counter increment; nothing else can reach the text.

const IDENT = /^[a-z_][a-z0-9_]*$/;

function ident(name: string): string {
  if (!IDENT.test(name)) throw new Error(`internal: mtail name ${JSON.stringify(name)} is not an identifier`);
  return name;
}

/** A regex literal: `/.../`, with `/` escaped; a line break or control character would end the program's line. */
export class Re {
  readonly text: string;
  constructor(pattern: string) {
    if (/[\x00-\x1f\x7f]/.test(pattern)) throw new Error(`internal: mtail regex ${JSON.stringify(pattern)} has a control character`);
    this.text = `/${pattern.replace(/\\?\//g, '\\/')}/`;
  }
}
export const re = (pattern: string): Re => new Re(pattern);

export type Node =
  | { kind: 'counter'; name: string; by: string[] }
  | { kind: 'when'; capture?: string; match: Re; body: Node[] }
  | { kind: 'inc'; counter: string; keys: string[] }
  | { kind: 'comment'; text: string }
  | { kind: 'blank' };

export const counter = (name: string, ...by: string[]): Node => ({ kind: 'counter', name, by });
/** A block run on lines matching `match` (or, with `capture`, whose named capture matches it). */
export const when = (match: Re, body: Node[], capture?: string): Node => ({ kind: 'when', match, body, ...(capture ? { capture } : {}) });
/** `counter[$key]...++`: one increment, keyed by named captures. */
export const inc = (name: string, ...keys: string[]): Node => ({ kind: 'inc', counter: name, keys });
export const comment = (text: string): Node => ({ kind: 'comment', text });
export const blank: Node = { kind: 'blank' };

export function emitMtail(nodes: Node[], depth = 0): string[] {
  const pad = '  '.repeat(depth);
  return nodes.flatMap((n): string[] => {
    switch (n.kind) {
      case 'counter':
        return [`${pad}counter ${ident(n.name)}${n.by.length > 0 ? ` by ${n.by.map(ident).join(', ')}` : ''}`];
      case 'when': {
        if (!(n.match instanceof Re)) throw new Error('internal: an mtail condition is a regex made by re()');
        const cond = n.capture === undefined ? n.match.text : `$${ident(n.capture)} =~ ${n.match.text}`;
        return [`${pad}${cond} {`, ...emitMtail(n.body, depth + 1), `${pad}}`];
      }
      case 'inc':
        return [`${pad}${ident(n.counter)}${n.keys.map((k) => `[$${ident(k)}]`).join('')}++`];
      case 'comment':
        if (/[\x00-\x1f\x7f]/.test(n.text)) throw new Error(`internal: mtail comment ${JSON.stringify(n.text)} has a control character`);
        return [`${pad}# ${n.text}`];
      case 'blank':
        return [''];
    }
  });
}
