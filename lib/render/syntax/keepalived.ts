// keepalived's brace dialect: no statement terminator, `#` comments, and the one quote().
import { emitBrace, type BraceDialect, type Node } from './brace.ts';
import { vetted, type Word } from './word.ts';

/**
 * A keepalived string in double quotes (script command lines). keepalived has no escape for `"`
 * or `\`, and `#` / `!` start comments; the model never hands it any of them.
 */
export function quote(s: string): Word {
  if (/["\\#!\x00-\x1f\x7f]/.test(s)) throw new Error(`internal: keepalived cannot quote ${JSON.stringify(s)}`);
  return vetted('keepalived', `"${s}"`);
}

/** A vrrp_instance or vrrp_script name from a model key. */
export function ident(key: string): Word {
  if (!/^[a-z][a-z0-9-]*$/.test(key)) throw new Error(`internal: ${JSON.stringify(key)} is not a model key`);
  return vetted('keepalived', key.replace(/-/g, '_'));
}

/** A model value keepalived reads as one bare word (an interface, a host name), unchanged. */
export function bare(s: string): Word {
  if (!SYNTAX.test(s)) throw new Error(`internal: keepalived cannot carry ${JSON.stringify(s)} as one word`);
  return vetted('keepalived', s);
}

/** Plain keepalived syntax: one word without blanks, quotes, braces, `#`, `!` or `\`. */
const SYNTAX = /^[^\s\x00-\x1f\x7f"'{}#!\\]+$/;

export const KEEPALIVED: BraceDialect = { name: 'keepalived', terminator: '', comment: '#', indent: '\t', syntax: SYNTAX, code: /(?!)/ };

export function emitKeepalived(nodes: Node[]): string[] {
  return emitBrace(nodes, KEEPALIVED);
}
