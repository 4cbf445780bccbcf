// The swap itself (lib/out/write.ts): the previous tree is checked once more when it is renamed
// aside, right before it is deleted, and is kept when it no longer passes; deleting it never
// follows a symlink out of it.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ReplaceRefused, writeTreeAtomically } from '../../lib/out/write.ts';
import type { RenderedFile } from '../../lib/render/types.ts';
import { treeState } from '../helpers/tree.ts';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

function scratch(): string {
  const d = mkdtempSync(join(tmpdir(), 'anycdn-write-'));
  dirs.push(d);
  return d;
}

const FILES: RenderedFile[] = [{ site: 'ams', host: 'ams-lb1', path: '/etc/x.conf', content: 'new\n', mode: 0o644 }];

describe('writeTreeAtomically', () => {
  it('deletes a previous tree holding a symlink to a directory outside without touching what it points to', async () => {
    const d = scratch();
    mkdirSync(join(d, 'outside'));
    writeFileSync(join(d, 'outside', 'data.txt'), 'keep\n');
    mkdirSync(join(d, 'out', 'ams'), { recursive: true });
    symlinkSync(join(d, 'outside'), join(d, 'out', 'ams', 'link'));
    const outside = treeState(join(d, 'outside'));
    await writeTreeAtomically(join(d, 'out'), FILES, [], () => undefined);
    expect(treeState(join(d, 'outside'))).toEqual(outside);
    expect(readFileSync(join(d, 'out', 'ams', 'ams-lb1', 'etc', 'x.conf'), 'utf8')).toBe('new\n');
    expect(readdirSync(d).sort()).toEqual(['out', 'outside']);
  });

  it('keeps the previous tree, and names it, when it no longer passes the check right before deletion', async () => {
    const d = scratch();
    mkdirSync(join(d, 'out'));
    writeFileSync(join(d, 'out', 'precious.txt'), 'mine\n');
    const asked: string[] = [];
    const e = await writeTreeAtomically(join(d, 'out'), FILES, [], (dir) => (asked.push(dir), 'holds precious.txt')).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ReplaceRefused);
    const kept = readdirSync(d).find((n) => n.endsWith('.old'))!;
    expect(asked).toEqual([join(d, kept)]);
    expect((e as Error).message).toBe(`the new tree is in place, but the previous one changed while rendering and was not deleted: ${join(d, kept)} holds precious.txt; check it, then remove it`);
    expect(readFileSync(join(d, kept, 'precious.txt'), 'utf8')).toBe('mine\n');
    expect(readFileSync(join(d, 'out', 'ams', 'ams-lb1', 'etc', 'x.conf'), 'utf8')).toBe('new\n');
  });
});
