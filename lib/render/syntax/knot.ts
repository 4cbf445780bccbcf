// Knot's configuration dialect (a YAML subset): sections of items, lists of records.
// Every value is a number, a Word from quote() or listen(), or a plain syntax word (`on`,
// `mod-rrl/default`) that emitKnot checks; item keys are Knot's own lowercase names.
import { isIP } from 'node:net';
import { num, vetted, Word, wordText } from './word.ts';

export type KnotValue = Word | number | string | (Word | string)[];
export type KnotItems = [key: string, value: KnotValue][];
/** A section of items, a section that is a list of records, or a top-level value (`include: "path"`). */
export type KnotSection = { name: string; items: KnotItems } | { name: string; list: KnotItems[] } | { name: string; value: KnotValue };

/** A Knot string value. Knot's quoted strings have no escapes: the model never hands it `"`, `\` or a control character. */
export function quote(s: string): Word {
  if (/["\\\x00-\x1f\x7f]/.test(s)) throw new Error(`internal: knot cannot quote ${JSON.stringify(s)}`);
  return vetted('knot', `"${s}"`);
}

/** A listen address `ADDRESS@PORT`: bare for IPv4, quoted for IPv6 (its colons would read as YAML). */
export function listen(address: string, port: number): Word {
  const family = isIP(address);
  if (family === 0 || !Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`internal: knot cannot listen on ${JSON.stringify(`${address}@${port}`)}`);
  return family === 4 ? vetted('knot', `${address}@${port}`) : quote(`${address}@${port}`);
}

/** Plain Knot syntax: one word of letters, digits and `.-_/@`, not starting as YAML punctuation would. */
const SYNTAX = /^[A-Za-z0-9][A-Za-z0-9._\/@-]*$/;
const KEY = /^[a-z][a-z0-9-]*$/;

function text(v: Word | string): string {
  return wordText(v, 'knot', SYNTAX);
}

function value(v: KnotValue): string {
  if (Array.isArray(v)) return `[ ${v.map(text).join(', ')} ]`;
  return text(typeof v === 'number' ? num(v) : v);
}

function key(k: string): string {
  if (!KEY.test(k)) throw new Error(`internal: knot key ${JSON.stringify(k)} is not a Knot name`);
  return k;
}

export function emitKnot(sections: KnotSection[]): string[] {
  const out: string[] = [];
  for (const s of sections) {
    if ('value' in s) {
      out.push(`${key(s.name)}: ${value(s.value)}`, '');
      continue;
    }
    out.push(`${key(s.name)}:`);
    if ('items' in s) {
      for (const [k, v] of s.items) out.push(`    ${key(k)}: ${value(v)}`);
    } else {
      for (const entry of s.list) {
        entry.forEach(([k, v], i) => out.push(`${i === 0 ? '  - ' : '    '}${key(k)}: ${value(v)}`));
      }
    }
    out.push('');
  }
  return out;
}
