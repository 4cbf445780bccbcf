// keepalived's brace dialect: no statement terminator, `#` comments, and the one quote().
import { emitBrace, type Node } from './brace.ts';

/**
 * A keepalived string in double quotes (script command lines). keepalived has no escape for `"`
 * or `\`, and `#` / `!` start comments; the model never hands it any of them.
 */
export function quote(s: string): string {
  if (/["\\#!\x00-\x1f\x7f]/.test(s)) throw new Error(`internal: keepalived cannot quote ${JSON.stringify(s)}`);
  return `"${s}"`;
}

/** A vrrp_instance or vrrp_script name from a model key. */
export function ident(key: string): string {
  if (!/^[a-z][a-z0-9-]*$/.test(key)) throw new Error(`internal: ${JSON.stringify(key)} is not a model key`);
  return key.replace(/-/g, '_');
}

export function emitKeepalived(nodes: Node[]): string[] {
  return emitBrace(nodes, { terminator: '', comment: '#', indent: '\t' });
}
