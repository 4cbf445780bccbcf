// The machine snapshot of test/lab/machine.test.ts sees every kind of change it is there to see:
// a file written, one added, one removed, a mode or an owner changed, a directory's entries
// changed; and it leaves out what it is told to, by path.
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { changes, snapshot } from './snapshot.ts';
import { IS_ROOT } from './daemons.ts';

const root = mkdtempSync(join(tmpdir(), 'anycdn-snapshot-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('machine snapshot', () => {
  it('names every change by path, and leaves out a skipped path and what is below it', () => {
    for (const d of ['etc/a', 'var/log', 'var/skip']) mkdirSync(join(root, d), { recursive: true });
    for (const f of ['etc/a/same', 'etc/a/written', 'etc/a/gone', 'etc/a/mode', 'var/skip/x']) writeFileSync(join(root, f), 'x');
    const past = new Date('2020-01-01T00:00:00Z');
    for (const p of ['etc/a', 'etc/a/same', 'etc/a/written', 'etc/a/mode', 'var/log', 'var/skip', 'var/skip/x']) utimesSync(join(root, p), past, past);
    const spec = { trees: [join(root, 'etc'), join(root, 'var')], shallow: [root], skip: new Map([[join(root, 'var/skip'), 'test']]), limit: 100 };
    const before = snapshot(spec);
    expect([...before.keys()].sort()).toEqual(
      [root, 'etc', 'var', 'etc/a', 'etc/a/same', 'etc/a/written', 'etc/a/gone', 'etc/a/mode', 'var/log', 'var/skip'].map((p) => (p === root ? p : join(root, p))).sort(),
    );
    writeFileSync(join(root, 'etc/a/written'), 'xx');
    utimesSync(join(root, 'etc/a/written'), past, past); // same mtime, new size
    rmSync(join(root, 'etc/a/gone'));
    writeFileSync(join(root, 'var/log/new'), '');
    chmodSync(join(root, 'etc/a/mode'), 0o600);
    writeFileSync(join(root, 'var/skip/y'), ''); // skipped: neither its entries nor its mtime count
    if (IS_ROOT) chownSync(join(root, 'etc/a/same'), 65534, 65534);
    const c = changes(before, snapshot(spec));
    const what = (l: string) => /^(\w+) (\S+?)(?::| \()/.exec(l)!.slice(1, 3).join(' ').replace(`${root}/`, '');
    expect(c.map(what)).toEqual(['added var/log/new', 'changed etc/a/mode', ...(IS_ROOT ? ['changed etc/a/same'] : []), 'changed etc/a/written', 'changed etc/a', 'changed var/log', 'removed etc/a/gone']);
    const t = BigInt(past.getTime()) * 1_000_000n;
    const id = `${process.getuid?.() ?? 0}:${process.getgid?.() ?? 0}`;
    expect(c.filter((l) => /etc\/a\/(mode|written):/.test(l))).toEqual([
      `changed ${root}/etc/a/mode: f ${id} 0644 ${t} 1 -> f ${id} 0600 ${t} 1`,
      `changed ${root}/etc/a/written: f ${id} 0644 ${t} 1 -> f ${id} 0644 ${t} 2`,
    ]);
  });

  it('stops at its bound rather than sample', () => {
    expect(() => snapshot({ trees: [root], shallow: [], skip: new Map(), limit: 3 })).toThrow(/more than 3 entries/);
  });
});
