// POSIX sh quoting: shQuote() is the one place a value is quoted for a generated script. sh reads
// every quoted value back as exactly one word, unchanged, whatever it holds.
import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { shAssignments, shQuote } from '../../lib/render/syntax/shell.ts';
import { missingBinary } from '../helpers/daemons.ts';

/** What sh makes of `words`: each word it ends up with, one per line of `printf '[%s]\n'`. */
function shWords(words: string): string {
  const r = spawnSync('/bin/sh', ['-c', `printf '[%s]\\n' ${words}`], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`sh failed: ${r.stderr}`);
  return r.stdout;
}

describe('shQuote', () => {
  it.each([
    ['plain', "'plain'"],
    ["it's", "'it'\\''s'"],
    ['', "''"],
    ['$HOME `id` $(id) "x" \\ * ~', "'$HOME `id` $(id) \"x\" \\ * ~'"],
  ])('%j -> %s', (s, out) => expect(shQuote(s)).toBe(out));

  it('refuses a shell variable name that could run code', () => {
    expect(shAssignments([['A_1', 'x y'], ['B', 2]])).toEqual(["A_1='x y'", "B='2'"]);
    expect(() => shAssignments([['a=$(id);B', 'x']])).toThrow(/internal: bad shell variable/);
  });
});

describe.skipIf(missingBinary('/bin/sh', 'dash'))('shQuote, read back by sh', () => {
  // argv cannot carry NUL, and a lone UTF-16 surrogate has no UTF-8 form to hand sh.
  it('gives sh exactly one word, equal to the value, for any string without NUL', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }).filter((s) => !s.includes('\0') && !/\p{Cs}/u.test(s)), (s) => {
        // Between two fixed words, so a value that split or vanished would show.
        expect(shWords(`a ${shQuote(s)} b`)).toBe(`[a]\n[${s}]\n[b]\n`);
      }),
      { numRuns: 100 },
    );
  });

  it('keeps the value of an assignment line, as generated scripts use them', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }).filter((s) => !s.includes('\0')), (s) => {
        const r = spawnSync('/bin/sh', ['-c', `${shAssignments([['V', s]]).join('\n')}\nprintf '%s' "$V"`], { encoding: 'utf8' });
        expect(r.stdout).toBe(s);
      }),
      { numRuns: 50 },
    );
  });
});
