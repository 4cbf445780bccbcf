// bird2's dialect: identifiers from model keys, the one place that quotes a string, and the one
// place that writes a BGP password statement. emitBird() takes only what these vetted.
import { emitBrace, stmt, type BraceDialect, type Node } from './brace.ts';
import { num, prefix, vetted, wordText, type Word } from './word.ts';
import { BIRD_KEYWORDS } from '../../model/bird-keywords.ts';

/** The bird keywords ident() refuses; the list lives in the model, whose rule refuses such peer names first. */
export { BIRD_KEYWORDS };

/** A bird symbol from a model key: `transit-1` -> `transit_1`. Model keys are [a-z][a-z0-9-]*. */
export function ident(prefixWord: string, key: string): Word {
  if (!/^[a-z][a-z0-9_]*$/.test(prefixWord)) throw new Error(`internal: ${JSON.stringify(prefixWord)} is not a bird symbol prefix`);
  if (!/^[a-z][a-z0-9-]*$/.test(key)) throw new Error(`internal: ${JSON.stringify(key)} is not a model key`);
  const symbol = `${prefixWord}_${key.replace(/-/g, '_')}`;
  if (BIRD_KEYWORDS.has(symbol)) throw new Error(`internal: ${JSON.stringify(key)} makes ${symbol}, a bird keyword`);
  return vetted('bird', symbol);
}

/**
 * A bird string literal. bird has no escape for `"` or `\`, and a newline ends a string with
 * "Unterminated string"; the model rejects them earlier, and control characters with them.
 */
export function quote(s: string): Word {
  if (/["\\\x00-\x1f\x7f]/.test(s)) throw new Error(`internal: bird cannot quote ${JSON.stringify(s)}`);
  return vetted('bird', `"${s}"`);
}

/** A prefix set constant: `[ 203.0.113.53/32 ]`. */
export function prefixSet(prefixes: string[]): Word {
  if (prefixes.length === 0) throw new Error('internal: an empty bird prefix set');
  return vetted('bird', `[ ${prefixes.map((p) => prefix(p).text).join(', ')} ]`);
}

/**
 * The one place a BGP password is written: `password "SECRET";`. The secrets fetcher on the host,
 * the lab's routers and secret files, and the checker's placeholder all come through here.
 */
export function passwordStmt(secret: string): Node {
  if (secret === '') throw new Error('internal: an empty bird password');
  return stmt('password', quote(secret));
}

/** A secret include file for a bird protocol: the password statement alone. */
export function passwordFile(secret: string): string {
  return `${emitBird([passwordStmt(secret)]).join('\n')}\n`;
}

/** A line of filter code: the interpolated values are bird Words, numbers or plain syntax words. */
export function line(parts: TemplateStringsArray, ...values: (Word | number | string)[]): Word {
  if (!CODE.test(parts.join(''))) throw new Error(`internal: bird code ${JSON.stringify(parts.join('…'))} is not plain syntax`);
  return vetted('bird', parts.reduce((text, part, i) => `${text}${wordText(token(values[i - 1]!), 'bird', SYNTAX)}${part}`));
}

const token = (v: Word | number | string): Word | string => (typeof v === 'number' ? num(v) : v);

/**
 * Plain bird syntax: bare tokens that open no string, comment or block. Single spaces between
 * them are allowed: the lab's router config hands over a prefix set `[ P ]` as one string.
 */
const SYNTAX = /^(?!.*(\/\*|\*\/))[^\s\x00-\x1f\x7f"';{}#\\]+( [^\s\x00-\x1f\x7f"';{}#\\]+)*$/;
/** A plain line of filter code: anything but a string, a comment, an escape or a control character (tabs lead). */
const CODE = /^(?!.*(\/\*|\*\/))\t*[^\x00-\x1f\x7f"'#\\]*$/;

export const BIRD: BraceDialect = { name: 'bird', terminator: ';', comment: '#', indent: '\t', syntax: SYNTAX, code: CODE };

export function emitBird(nodes: Node[]): string[] {
  return emitBrace(nodes, BIRD);
}

/** The statements of a BFD session block (interface or multihop) for the given timers. */
export function bfdTimerStmts(t: { intervalMs: number; multiplier: number }): Node[] {
  return [stmt('min', 'rx', 'interval', num(t.intervalMs), 'ms'), stmt('min', 'tx', 'interval', num(t.intervalMs), 'ms'), stmt('multiplier', num(t.multiplier))];
}
