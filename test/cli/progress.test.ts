// Progress and colour: plain lines in a pipe or CI, one live line on a terminal; colour only on a
// terminal and never with NO_COLOR.
import { describe, expect, it } from 'vitest';
import { formatMs, progress } from '../../lib/cli/progress.ts';
import { colorAllowed, paint, printDiagnostics, type Io } from '../../lib/cli/report.ts';

function fakeIo(tty: boolean) {
  const lines: string[] = [];
  let raw = '';
  const io: Io = { out: () => {}, err: (l) => lines.push(l), errTty: tty, errRaw: (t) => (raw += t) };
  return { io, lines, raw: () => raw };
}

function clock(...ticks: number[]) {
  return () => ticks.shift()!;
}

describe('progress', () => {
  it('in a pipe: one plain line per step, each with its own time and the total', () => {
    const { io, lines, raw } = fakeIo(false);
    const p = progress(io, 'validate', clock(0, 120, 1620, 14_000));
    p.step('loaded 3 sites');
    p.step('checked ams/ams-lb1: 12 files');
    p.step('done: 100 files');
    p.done();
    expect(lines).toEqual([
      'validate: loaded 3 sites (120 ms, 120 ms in all)',
      'validate: checked ams/ams-lb1: 12 files (1.5 s, 1.6 s in all)',
      'validate: done: 100 files (12 s, 14 s in all)',
    ]);
    expect(raw()).toBe('');
  });

  it('on a terminal: one live line, redrawn per step, ended by a newline', () => {
    const { io, lines, raw } = fakeIo(true);
    const p = progress(io, 'lab', clock(0, 500, 900));
    p.step('built 23 namespaces');
    p.step('started 80 processes');
    p.done();
    expect(lines).toEqual([]);
    expect(raw()).toBe('\r\u001b[2Klab: built 23 namespaces (500 ms, 500 ms in all)\r\u001b[2Klab: started 80 processes (400 ms, 900 ms in all)\n');
  });

  it('formats times short and exact enough', () => {
    expect([0.4, 999, 1000, 9949, 10_000, 61_400].map(formatMs)).toEqual(['0 ms', '999 ms', '1.0 s', '9.9 s', '10 s', '61 s']);
  });
});

describe('colour', () => {
  it('only on a terminal, never with NO_COLOR or TERM=dumb', () => {
    expect(colorAllowed(true, {})).toBe(true);
    expect(colorAllowed(false, {})).toBe(false);
    expect(colorAllowed(undefined, {})).toBe(false);
    expect(colorAllowed(true, { NO_COLOR: '1' })).toBe(false);
    expect(colorAllowed(true, { NO_COLOR: '' })).toBe(true); // no-color.org: set and non-empty
    expect(colorAllowed(true, { TERM: 'dumb' })).toBe(false);
  });

  it('paints only when allowed, and the error count of a report', () => {
    expect(paint(false, 'red', '2 errors')).toBe('2 errors');
    expect(paint(true, 'green', 'ok')).toBe('\u001b[32mok\u001b[0m');
    const err: string[] = [];
    printDiagnostics({ out: () => {}, err: (l) => err.push(l), color: { out: false, err: true } }, [{ file: 'a.yaml', line: 1, col: 2, message: 'bad' }]);
    expect(err).toEqual(['a.yaml:1:2: bad', '\u001b[31m1 error\u001b[0m']);
  });
});
