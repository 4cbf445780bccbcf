// render replaces --out whole, so it may replace only a tree anycdn wrote: one holding its manifest
// and nothing the manifest does not list. Each refusal names the path, exits 1 and leaves every
// byte, mode and link of the scratch directory as it was (no staging directory left beside it).
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SITES_DIR } from '../helpers/topology.ts';
import { treeState } from '../helpers/tree.ts';
import { runCli } from '../helpers/cli.ts';

const dirs: string[] = [];
/** Where the test that appends a bad manifest entry put it (set by its setup, read by its expectation). */
let badIndex = -1;
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

const run = runCli;

function scratch(): { dir: string; sites: string } {
  const dir = mkdtempSync(join(tmpdir(), 'anycdn-guard-'));
  dirs.push(dir);
  cpSync(SITES_DIR, join(dir, 'sites'), { recursive: true });
  return { dir, sites: join(dir, 'sites') };
}

function file(path: string, content: string, mode = 0o644): void {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, content);
  chmodSync(path, mode);
}

async function rendered(d: { dir: string; sites: string }, out = join(d.dir, 'out')): Promise<string> {
  expect((await run(['render', '--sites', d.sites, '--out', out])).code).toBe(0);
  return out;
}

const REFUSED = 'and render replaces --out whole, deleting everything in it; pass a new or empty directory, or a --out that render wrote';
const NOT_LISTED = `which is not among the files and directories its .anycdn/manifest.json lists, ${REFUSED}`;

describe('render --out: refused unless anycdn wrote it, nothing changed', () => {
  it.each<[what: string, setup: (d: { dir: string; sites: string }) => Promise<string>, expected: (d: { dir: string }) => string]>([
    [
      'a home directory (alice/.ssh/authorized_keys, bob/projects/thesis.tex)',
      async (d) => {
        file(join(d.dir, 'home', 'alice', '.ssh', 'authorized_keys'), 'ssh-ed25519 AAAAC3Nza alice@laptop\n', 0o600);
        chmodSync(join(d.dir, 'home', 'alice', '.ssh'), 0o700);
        file(join(d.dir, 'home', 'bob', 'projects', 'thesis.tex'), '\\documentclass{article}\n');
        return join(d.dir, 'home');
      },
      (d) => `${d.dir}/home:1:1: --out: holds ${d.dir}/home/alice, ${d.dir}/home/bob and no .anycdn/manifest.json, so anycdn did not write it, ${REFUSED}`,
    ],
    [
      'a usr-shaped tree (bin, lib, share)',
      async (d) => {
        file(join(d.dir, 'usr', 'bin', 'tool'), '#!/bin/sh\n', 0o755);
        file(join(d.dir, 'usr', 'lib', 'libtool.so.1'), 'ELF');
        file(join(d.dir, 'usr', 'share', 'doc', 'tool', 'copyright'), 'GPL\n');
        return join(d.dir, 'usr');
      },
      (d) => `${d.dir}/usr:1:1: --out: holds ${d.dir}/usr/bin, ${d.dir}/usr/lib, ${d.dir}/usr/share and no .anycdn/manifest.json, so anycdn did not write it, ${REFUSED}`,
    ],
    [
      'a render tree with one foreign file deep inside',
      async (d) => {
        const out = await rendered(d);
        file(join(out, 'ams', 'ams-lb1', 'etc', 'haproxy', 'notes.txt'), 'my notes\n');
        return out;
      },
      (d) => `${d.dir}/out:1:1: --out: holds ${d.dir}/out/ams/ams-lb1/etc/haproxy/notes.txt, ${NOT_LISTED}`,
    ],
    [
      'a render tree with a symlink to a directory outside it',
      async (d) => {
        const out = await rendered(d);
        file(join(d.dir, 'outside', 'data.txt'), 'not anycdn\'s\n');
        symlinkSync(join(d.dir, 'outside'), join(out, 'ams', 'ams-lb1', 'etc', 'data'));
        return out;
      },
      (d) => `${d.dir}/out:1:1: --out: holds ${d.dir}/out/ams/ams-lb1/etc/data, ${NOT_LISTED}`,
    ],
    [
      'a render tree where a file the manifest lists is a symlink to a file outside',
      async (d) => {
        const out = await rendered(d);
        file(join(d.dir, 'outside', 'data.txt'), 'not anycdn\'s\n');
        unlinkSync(join(out, 'ams', 'ams-lb1', 'etc', 'haproxy', 'haproxy.cfg'));
        symlinkSync(join(d.dir, 'outside', 'data.txt'), join(out, 'ams', 'ams-lb1', 'etc', 'haproxy', 'haproxy.cfg'));
        return out;
      },
      (d) => `${d.dir}/out:1:1: --out: holds ${d.dir}/out/ams/ams-lb1/etc/haproxy/haproxy.cfg, ${NOT_LISTED}`,
    ],
    [
      'a render tree holding a FIFO',
      async (d) => {
        const out = await rendered(d);
        execFileSync('mkfifo', [join(out, 'ams', 'queue')]);
        return out;
      },
      (d) => `${d.dir}/out:1:1: --out: holds ${d.dir}/out/ams/queue, ${NOT_LISTED}`,
    ],
    [
      'a manifest that lists a path with ..',
      async (d) => {
        const out = await rendered(d);
        file(join(d.dir, 'victim', 'keep.txt'), 'keep\n');
        const path = join(out, '.anycdn', 'manifest.json');
        const m = JSON.parse(readFileSync(path, 'utf8'));
        // The bad entry goes last: its index is the number of files the render listed.
        badIndex = m.files.length;
        m.files.push({ path: 'ams/ams-lb1/../../../victim/keep.txt', sha256: '0'.repeat(64), mode: '0644' });
        writeFileSync(path, JSON.stringify(m));
        return out;
      },
      // The entry added last: its index is the manifest's file count less one.
      (d) =>
        `${d.dir}/out/.anycdn/manifest.json:1:1: files.${badIndex}.path: must have no empty, . or .. segment, got "ams/ams-lb1/../../../victim/keep.txt"; render into a new --out, or remove ${d.dir}/out (once you have checked that nothing in it is yours) and render again`,
    ],
    [
      'a manifest that is a symlink to one outside the tree',
      async (d) => {
        const out = await rendered(d);
        const path = join(out, '.anycdn', 'manifest.json');
        file(join(d.dir, 'elsewhere.json'), readFileSync(path, 'utf8'));
        unlinkSync(path);
        symlinkSync(join(d.dir, 'elsewhere.json'), path);
        return out;
      },
      (d) =>
        `${d.dir}/out/.anycdn/manifest.json:1:1: is a symlink to ${d.dir}/elsewhere.json, outside ${d.dir}/out; render into a new --out, or remove ${d.dir}/out (once you have checked that nothing in it is yours) and render again`,
    ],
    [
      '--out itself a symlink to a render tree',
      async (d) => {
        const out = await rendered(d);
        symlinkSync(out, join(d.dir, 'link'));
        return join(d.dir, 'link');
      },
      (d) => `${d.dir}/link:1:1: --out: is a symlink, and render replaces --out whole, never through a link; pass the directory it points to`,
    ],
  ])('%s', async (_what, setup, expected) => {
    const d = scratch();
    const out = await setup(d);
    const before = treeState(d.dir);
    const r = await run(['render', '--sites', d.sites, '--out', out]);
    expect(r).toEqual({ code: 1, out: [], err: [expected(d), '1 error'] });
    expect(treeState(d.dir)).toEqual(before);
  });

  it('names at most three foreign entries, then says there are more', async () => {
    const d = scratch();
    for (const n of ['a', 'b', 'c', 'd', 'e']) file(join(d.dir, 'many', n, 'f'), 'x\n');
    const r = await run(['render', '--sites', d.sites, '--out', join(d.dir, 'many')]);
    expect(r.err[0]).toBe(`${d.dir}/many:1:1: --out: holds ${d.dir}/many/a, ${d.dir}/many/b, ${d.dir}/many/c and more and no .anycdn/manifest.json, so anycdn did not write it, ${REFUSED}`);
  });

  it('replaces what it wrote: a new, an empty, an earlier tree, one with a file edited or removed', async () => {
    const d = scratch();
    const out = await rendered(d, join(d.dir, 'new'));
    const first = treeState(out);
    mkdirSync(join(d.dir, 'empty'));
    expect(treeState(await rendered(d, join(d.dir, 'empty')))).toEqual(first);
    writeFileSync(join(out, 'ams', 'ams-lb1', 'etc', 'haproxy', 'haproxy.cfg'), 'edited\n');
    rmSync(join(out, 'nyc', 'nyc-lb1'), { recursive: true });
    expect(treeState(await rendered(d, out))).toEqual(first);
  });
});
