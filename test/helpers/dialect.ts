// One conformance suite for every config dialect (lib/render/syntax/): what each dialect test file
// used to write out for itself, table by table.
// - Its one quoting function turns every value it can carry into one word that reads back as the
//   value (by a model of the daemon's own lexer), and refuses exactly the values it cannot carry.
// - Its emitter passes a quoted word through unchanged, and refuses every hostile word and node of
//   the dialect's table (a plain string that is not syntax, another dialect's word, ...).
// - The daemon itself reads quoted values back (skipped with its reason when the binary is
//   missing, a failure under CI=true).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { missingBinary } from './daemons.ts';

type Alphabet = 'binary' | 'grapheme' | 'grapheme-ascii';

export interface DialectConformance {
  /** As the tests name it: `bird`. */
  name: string;
  /** The dialect's one quoting function, as the text it writes. */
  quote: (value: string) => string;
  /** The values quote() must refuse: those the dialect cannot carry. */
  cannotCarry: (value: string) => boolean;
  /** How the daemon's lexer reads `word` back as one word; undefined when it would not. */
  readBack: (word: string) => string | undefined;
  /** The lines the emitter writes for one statement holding quote(value). */
  emitQuoted: (value: string) => string[];
  /** What the emitter must refuse: each a function that emits it, expected to throw `internal: `. */
  hostile: [what: string, emit: () => unknown][];
  /** The daemon reading quoted values back; it throws (an expect) when it reads another value. */
  daemon?: {
    binary: string;
    debianPackage: string;
    /** Another reason to skip (root, for a daemon that must run in a namespace of its own). */
    alsoNeeds?: () => string | undefined;
    /** What it reads back: values quote() carries, of this alphabet and length. */
    alphabet: Alphabet;
    maxLength: number;
    /** Values the daemon's check cannot show (an include path cannot hold `/`): left out. */
    skip?: (value: string) => boolean;
    numRuns: number;
    /** What it checks, in words, for the test's name. */
    what: string;
    /** Checks one value, with a scratch directory of its own to write files in. */
    check: (value: string, dir: string) => void;
  };
}

export function dialectConformance(d: DialectConformance): void {
  describe(`${d.name} dialect conformance`, () => {
    it('quotes every value it can carry into one word that reads back the same, and refuses exactly the rest', () => {
      fc.assert(
        fc.property(fc.string({ unit: 'binary', maxLength: 60 }), (s) => {
          if (d.cannotCarry(s)) {
            expect(() => d.quote(s)).toThrow(/^internal: /);
            return;
          }
          expect(d.readBack(d.quote(s))).toBe(s);
        }),
        { numRuns: 200 },
      );
    });

    it('passes a quoted word through the emitter unchanged', () => {
      fc.assert(
        fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }).filter((s) => !d.cannotCarry(s)), (s) => {
          expect(d.emitQuoted(s).join('\n')).toContain(d.quote(s));
        }),
        { numRuns: 50 },
      );
    });

    it.each(d.hostile)('refuses %s', (_what, emit) => expect(emit).toThrow(/internal: /));
  });

  const daemon = d.daemon;
  if (!daemon) return;
  describe.skipIf(missingBinary(daemon.binary, daemon.debianPackage) ?? daemon.alsoNeeds?.())(`${d.name}: the daemon reads quoted values back`, () => {
    const dir = mkdtempSync(join(tmpdir(), `anycdn-${d.name}-`));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    it(daemon.what, () => {
      fc.assert(
        fc.property(fc.string({ unit: daemon.alphabet, maxLength: daemon.maxLength }).filter((s) => !d.cannotCarry(s) && !daemon.skip?.(s)), (s) => {
          daemon.check(s, dir);
        }),
        { numRuns: daemon.numRuns },
      );
    });
  });
}

/** A double-quoted word with no escapes, as bird, keepalived and Knot read one: its content. */
export function plainQuoted(word: string): string | undefined {
  return /^"([^"\n]*)"$/.exec(word)?.[1];
}
