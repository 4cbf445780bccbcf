// Vetted words: the one currency the brace, Knot and zone emitters accept for a model value.
// A Word is made only by a dialect's quote()/ident() (or another of its vetted constructors) or by
// the dialect-neutral constructors below, each of which proves its text is exactly one token.
// The emitters refuse a Word of another dialect, and check every plain string (config syntax
// written in the renderer's source) against the dialect's syntax pattern.
import { isIP } from 'node:net';

export type Dialect = 'bird' | 'nginx' | 'keepalived' | 'knot' | 'zone' | 'sh' | 'nft';

const MINT = Symbol('word');

export class Word {
  /** Use vetted() or a constructor below; the token keeps other modules from minting words. */
  constructor(
    token: typeof MINT,
    readonly text: string,
    /** The dialect whose rules vetted the text; `any` for numbers and addresses. */
    readonly dialect: Dialect | 'any',
  ) {
    if (token !== MINT) throw new Error('internal: a Word is made only by a vetted constructor');
  }

  /** The text, so a word can sit in a template; the emitters re-check any string they get. */
  toString(): string {
    return this.text;
  }
}

/** For the dialect modules in syntax/: a word their own rules have vetted. */
export function vetted(dialect: Dialect, text: string): Word {
  return new Word(MINT, text, dialect);
}

/** A decimal number: an integer, a finite float, or a decimal string such as `0.1`. */
export function num(n: number | string): Word {
  const text = String(n);
  if (typeof n === 'number' ? !Number.isFinite(n) : !/^-?\d+(\.\d+)?$/.test(n)) throw new Error(`internal: ${JSON.stringify(text)} is not a number`);
  return new Word(MINT, text, 'any');
}

/** An IPv4 or IPv6 address. */
export function ip(a: string): Word {
  if (isIP(a) === 0) throw new Error(`internal: ${JSON.stringify(a)} is not an IP address`);
  return new Word(MINT, a, 'any');
}

/** An address prefix `ADDRESS/LENGTH`. */
export function prefix(p: string): Word {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(p);
  const family = m ? isIP(m[1]!) : 0;
  if (!m || family === 0 || Number(m[2]) > (family === 4 ? 32 : 128)) throw new Error(`internal: ${JSON.stringify(p)} is not an address prefix`);
  return new Word(MINT, p, 'any');
}

/**
 * The text of a word or of a plain syntax string for `dialect`: a Word must be this dialect's or
 * dialect-neutral, and a plain string must match `syntax`. Anything else is a renderer bug.
 */
export function wordText(w: Word | string, dialect: Dialect, syntax: RegExp): string {
  if (w instanceof Word) {
    if (w.dialect !== dialect && w.dialect !== 'any') throw new Error(`internal: a ${w.dialect} word ${JSON.stringify(w.text)} in ${dialect}`);
    return w.text;
  }
  if (typeof w !== 'string' || !syntax.test(w)) throw new Error(`internal: ${dialect} word ${JSON.stringify(w)} is neither syntax nor a vetted word`);
  return w;
}
