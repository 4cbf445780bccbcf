// POSIX sh: shQuote() is the one place a value is quoted for a generated script, and emitSh() the
// gate every script goes through. sh reads every quoted value back as exactly one word, unchanged,
// whatever it holds; a value it cannot carry, and a plain string where code goes, are refused.
import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { argv, assign, emitSh, quote, sh, shAssignments, shQuote, varRef } from '../../lib/render/syntax/shell.ts';
import { vetted } from '../../lib/render/syntax/word.ts';
import { missingBinary } from '../helpers/daemons.ts';
import { dialectConformance } from '../helpers/dialect.ts';

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
    expect(() => varRef('X;id')).toThrow(/internal: bad shell variable/);
  });

  it('refuses what sh cannot carry: a NUL byte, a lone surrogate', () => {
    expect(() => shQuote('a\0b')).toThrow('internal: sh cannot carry "a\\u0000b" (a NUL byte ends a C string)');
    expect(() => quote('a\ud800')).toThrow('internal: sh cannot carry "a\\ud800" (a lone UTF-16 surrogate has no UTF-8 form)');
  });
});

describe('emitSh: the gate', () => {
  it('writes a script as its source reads, with each value quoted', () => {
    const path = "/srv/it's here";
    expect(
      emitSh([
        '#!/bin/sh',
        '# a comment',
        sh`set -u
${assign('DIR', path)}
for f in "\${DIR}"/*; do
	printf '%s\n' "$f" ${quote('$(id)')} ${3}
done`,
        '',
        sh`${argv(['rm', '-f', path])} ${varRef('DIR')}`,
      ]),
    ).toEqual([
      '#!/bin/sh',
      '# a comment',
      'set -u',
      "DIR='/srv/it'\\''s here'",
      'for f in "${DIR}"/*; do',
      "\tprintf '%s\\n' \"$f\" '$(id)' 3",
      'done',
      '',
      "'rm' '-f' '/srv/it'\\''s here' \"$DIR\"",
    ]);
  });

  it('says why it refuses a value that is not quoted, and a call that is not a template', () => {
    const model = 'x; rm -rf /';
    // @ts-expect-error: a plain string is not a Word; the check holds for untyped callers too
    expect(() => sh`echo ${model}`).toThrow('internal: sh code got the plain value "x; rm -rf /": pass it through quote()');
    expect(() => emitSh(['rm -rf /'])).toThrow('internal: sh line "rm -rf /" is neither a comment nor code from sh``');
  });
});

dialectConformance({
  name: 'sh',
  quote: shQuote,
  // argv and C strings end at NUL; a lone UTF-16 surrogate has no UTF-8 form to hand sh.
  cannotCarry: (v) => v.includes('\0') || /\p{Cs}/u.test(v),
  // In single quotes sh reads everything as it is; `'\''` closes, adds a quote, and reopens.
  readBack: (w) => (/^'(?:[^']|'\\'')*'$/.test(w) ? w.slice(1, -1).split("'\\''").join("'") : undefined),
  emitQuoted: (v) => emitSh([sh`printf '%s' ${quote(v)}`]),
  hostile: [
    ['a plain string as code', () => emitSh(['rm -rf /'])],
    ['a comment of two lines', () => emitSh(['# two\nlines'])],
    // @ts-expect-error: a plain string is not a Word; the check holds for untyped callers too
    ['a value not quoted', () => sh`echo ${'x; rm -rf /'}`],
    ['a word of another dialect', () => sh`echo ${vetted('bird', '"x"')}`],
    ['a call that is not a template literal', () => sh(Object.assign(['echo ', ''], { raw: ['echo ', ''] }) as unknown as TemplateStringsArray, quote('x'))],
    ['a number that is not one', () => sh`exit ${Number.NaN}`],
  ],
  daemon: {
    binary: '/bin/sh',
    debianPackage: 'dash',
    alphabet: 'binary',
    maxLength: 40,
    numRuns: 100,
    what: 'sh takes every quoted value as exactly one word, equal to the value',
    // Between two fixed words, so a value that split or vanished would show.
    check: (v) => expect(shWords(`a ${shQuote(v)} b`)).toBe(`[a]\n[${v}]\n[b]\n`),
  },
});

describe.skipIf(missingBinary('/bin/sh', 'dash'))('assignments, read back by sh', () => {
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
