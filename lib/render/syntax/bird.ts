// bird2's dialect: identifiers from model keys, and the one place that quotes a string.
import { emitBrace, type Node } from './brace.ts';

/** A bird symbol from a model key: `transit-1` -> `transit_1`. Model keys are [a-z][a-z0-9-]*. */
export function ident(prefix: string, key: string): string {
  if (!/^[a-z][a-z0-9-]*$/.test(key)) throw new Error(`internal: ${JSON.stringify(key)} is not a model key`);
  return `${prefix}_${key.replace(/-/g, '_')}`;
}

/** A bird string literal. bird has no escape for `"` or `\`; the model rejects them earlier. */
export function quote(s: string): string {
  if (/["\\\n\r]/.test(s)) throw new Error(`internal: bird cannot quote ${JSON.stringify(s)}`);
  return `"${s}"`;
}

export function emitBird(nodes: Node[]): string[] {
  return emitBrace(nodes, { terminator: ';', comment: '#', indent: '\t' });
}
