// nftables' dialect: tables, chains and sets as brace blocks (emitNft, through brace.ts), or a
// one-line script of commands for `nft 'CMD; CMD'` (nftCommands). The one place a string is quoted
// is quote(); names come from ident(); anonymous sets, set references and a base chain's hook line
// have constructors here. Everything else is a number, an address or a prefix (word.ts), or plain
// syntax of the renderer's source, which may not hold a blank, a quote, a brace, `;`, `#`, `$`
// (an nft variable) or a control character.
import { emitBrace, type BraceDialect, type Node, type Token } from './brace.ts';
import { num, vetted, Word, wordText } from './word.ts';

/** A table, chain or set name: a lowercase model-style identifier. */
export function ident(name: string): Word {
  if (!/^[a-z][a-z0-9_]{0,62}$/.test(name)) throw new Error(`internal: ${JSON.stringify(name)} is not an nft name`);
  return vetted('nft', name);
}

/**
 * An nft string. nft's scanner reads a quoted string as everything up to the next `"`, with no
 * escapes (a `\` is kept as it is); a control character ends or breaks the line. Both are refused.
 */
export function quote(s: string): Word {
  if (/["\x00-\x1f\x7f]/.test(s)) throw new Error(`internal: nft cannot quote ${JSON.stringify(s)}`);
  return vetted('nft', `"${s}"`);
}

/** An anonymous set: `{ 80, 443 }`, `{ 192.0.2.0/24, 198.51.100.0/24 }`. */
export function set(items: (Word | number)[]): Word {
  if (items.length === 0) throw new Error('internal: an empty nft set');
  return vetted('nft', `{ ${items.map((i) => wordText(typeof i === 'number' ? num(i) : i, 'nft', NOTHING)).join(', ')} }`);
}

/** A reference to a named set: `@scrape4`. */
export function setRef(name: string): Word {
  return vetted('nft', `@${ident(name).text}`);
}

export interface Hook {
  type: 'filter' | 'nat' | 'route';
  hook: 'prerouting' | 'input' | 'forward' | 'output' | 'postrouting' | 'ingress';
  /** A standard priority name, and an offset from it (`filter - 10`). */
  priority: 'raw' | 'mangle' | 'dstnat' | 'filter' | 'security' | 'srcnat';
  offset?: number;
  policy?: 'accept' | 'drop';
}

function hookText(h: Hook): string {
  if (h.offset !== undefined && !Number.isInteger(h.offset)) throw new Error(`internal: nft priority offset ${h.offset}`);
  const priority = h.offset ? `${h.priority} ${h.offset < 0 ? '-' : '+'} ${Math.abs(h.offset)}` : h.priority;
  return `type ${h.type} hook ${h.hook} priority ${priority};${h.policy ? ` policy ${h.policy};` : ''}`;
}

/** A base chain's hook line: `type filter hook input priority filter; policy accept;`. */
export function hook(h: Hook): Node {
  return { kind: 'stmt', words: [vetted('nft', hookText(h))] };
}

/** A base chain's spec inside a command: `{ type filter hook input priority filter - 10; policy accept; }`. */
export function chainSpec(h: Hook): Word {
  return vetted('nft', `{ ${hookText(h)} }`);
}

/** No plain string is a set member or a list item: those come vetted. */
const NOTHING = /(?!)/;

/** Plain nft syntax: keywords, operators and parentheses; never a blank, quote, brace, `;`, `#`, `$` or control character. */
const SYNTAX = /^[A-Za-z0-9_.:\/@&|()=!<>+-]+$/;

export const NFT: BraceDialect = { name: 'nft', terminator: '', comment: '#', indent: '\t', syntax: SYNTAX, code: NOTHING };

export function emitNft(nodes: Node[]): string[] {
  return emitBrace(nodes, NFT);
}

/** A one-line script of commands, as `nft 'CMD; CMD'` takes it: each command's words, `; ` between. */
export function nftCommands(commands: Token[][]): string {
  if (commands.length === 0) throw new Error('internal: an empty nft script');
  return commands.map((c) => c.map((w) => wordText(w, 'nft', SYNTAX)).join(' ')).join('; ');
}
