// lib/read-input.ts, the one reader of user-supplied files: real path inside its directory, regular
// files only (checked before the open and on the descriptor after it), the size bounded by the read
// itself, UTF-8 or one line saying it is not. Whole results, so a problem's words are pinned too.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { inside, readInput, readRegular } from '../lib/read-input.ts';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

function scratch(): string {
  const d = mkdtempSync(join(tmpdir(), 'anycdn-read-'));
  dirs.push(d);
  mkdirSync(join(d, 'in'));
  return d;
}

describe('readInput', () => {
  it('reads a regular file inside its directory, directly or through a link that stays inside', () => {
    const d = scratch();
    writeFileSync(join(d, 'in', 'a.yaml'), '\ufeffid: a\n');
    symlinkSync('a.yaml', join(d, 'in', 'b.yaml'));
    expect(readInput(join(d, 'in', 'a.yaml'), { maxBytes: 100, within: join(d, 'in') })).toBe('\ufeffid: a\n');
    expect(readInput(join(d, 'in', 'b.yaml'), { maxBytes: 100, within: join(d, 'in') })).toBe('\ufeffid: a\n');
  });

  it('refuses a link out of the directory, naming where it leads, before opening anything', () => {
    const d = scratch();
    writeFileSync(join(d, 'secret'), 'root:$6$SECRET:19000:0:99999:7:::\n');
    symlinkSync(join(d, 'secret'), join(d, 'in', 'x.yaml'));
    symlinkSync('/dev/zero', join(d, 'in', 'zero.yaml'));
    mkdirSync(join(d, 'other'));
    writeFileSync(join(d, 'other', 'y.yaml'), 'id: y\n');
    symlinkSync(join(d, 'other'), join(d, 'in', 'sub'));
    const within = join(d, 'in');
    expect(readInput(join(within, 'x.yaml'), { maxBytes: 100, within })).toEqual({ kind: 'outside', message: `is a symlink to ${d}/secret, outside ${within}` });
    expect(readInput(join(within, 'zero.yaml'), { maxBytes: 100, within })).toEqual({ kind: 'outside', message: `is a symlink to /dev/zero, outside ${within}` });
    expect(readInput(join(within, 'sub', 'y.yaml'), { maxBytes: 100, within })).toEqual({ kind: 'outside', message: `resolves to ${d}/other/y.yaml through a symlinked directory, outside ${within}` });
  });

  it('refuses a FIFO, a device, a directory and a link loop without blocking', () => {
    const d = scratch();
    execFileSync('mkfifo', [join(d, 'in', 'fifo')]);
    mkdirSync(join(d, 'in', 'dir.yaml'));
    symlinkSync('loop.yaml', join(d, 'in', 'loop.yaml'));
    const within = join(d, 'in');
    expect(readInput(join(within, 'fifo'), { maxBytes: 100, within })).toEqual({ kind: 'special', message: 'is a FIFO, not a regular file' });
    expect(readInput('/dev/zero', { maxBytes: 100, within: '/dev' })).toEqual({ kind: 'special', message: 'is a character device, not a regular file' });
    expect(readInput(join(within, 'dir.yaml'), { maxBytes: 100, within })).toEqual({ kind: 'directory', message: 'is a directory, not a file' });
    expect(readInput(join(within, 'loop.yaml'), { maxBytes: 100, within })).toEqual({ kind: 'special', message: 'is a symlink (it changed while being read, or loops)' });
    expect(readInput(join(within, 'none.yaml'), { maxBytes: 100, within })).toEqual({ kind: 'missing', message: 'no such file' });
  });

  it('on the descriptor too: a FIFO swapped in after the type check opens without blocking and is refused', () => {
    // readRegular is the step after the lstat; handing it a FIFO with no writer is what a swap
    // between the two would do. A blocking open would hang here for good.
    const d = scratch();
    execFileSync('mkfifo', [join(d, 'fifo')]);
    expect(readRegular(join(d, 'fifo'), 100)).toEqual({ kind: 'special', message: 'is a FIFO, not a regular file' });
    expect(readRegular('/dev/zero', 100)).toEqual({ kind: 'special', message: 'is a character device, not a regular file' });
    symlinkSync(join(d, 'fifo'), join(d, 'link'));
    expect(readRegular(join(d, 'link'), 100)).toEqual({ kind: 'special', message: 'is a symlink (it changed while being read, or loops)' });
  });

  it('bounds the size by reading, not by the stat size', () => {
    const d = scratch();
    writeFileSync(join(d, 'in', 'f'), 'x'.repeat(100));
    expect(readInput(join(d, 'in', 'f'), { maxBytes: 100 })).toBe('x'.repeat(100));
    expect(readInput(join(d, 'in', 'f'), { maxBytes: 99 })).toEqual({ kind: 'too-large', message: 'is larger than 99 bytes, the limit' });
    // A /proc file is a regular file whose stat size is 0, whatever it holds.
    expect(statSync('/proc/self/maps').size).toBe(0);
    expect(readInput('/proc/self/maps', { maxBytes: 64, within: '/proc' })).toEqual({ kind: 'too-large', message: 'is larger than 64 bytes, the limit' });
  });

  it('refuses text that is not UTF-8 in one line, with none of its bytes', () => {
    const d = scratch();
    writeFileSync(join(d, 'in', 'bin'), Buffer.concat([Buffer.from('password: SECRET\n'), Buffer.from([0xff, 0xfe, 0x00])]));
    expect(readInput(join(d, 'in', 'bin'), { maxBytes: 100 })).toEqual({ kind: 'not-utf8', message: 'is not UTF-8 text' });
  });

  it('inside: a path equal to or below the root, never a sibling sharing its prefix', () => {
    expect([inside('/a/b', '/a/b'), inside('/a/b', '/a/b/c'), inside('/a/b', '/a/bc'), inside('/a/b', '/a'), inside('/', '/etc')]).toEqual([true, true, false, false, true]);
  });
});
