// The CLI contract from the design card: outputs, error lines, exit codes, atomic --out.
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../lib/cli/main.ts';
import { SITES_DIR } from '../helpers/topology.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

function scratch(): string {
  const d = mkdtempSync(join(tmpdir(), 'anycdn-cli-'));
  dirs.push(d);
  return d;
}

async function run(args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

function snapshotTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) out[join(e.parentPath, e.name).slice(dir.length)] = readFileSync(join(e.parentPath, e.name), 'utf8');
  }
  return out;
}

describe('anycdn render', () => {
  it('writes <site>/<host>/<path> for every host and is byte-identical across runs', async () => {
    const out = join(scratch(), 'out');
    const first = await run(['render', '--sites', SITES_DIR, '--out', out]);
    expect(first.code).toBe(0);
    expect(first.out).toEqual([expect.stringMatching(/^rendered \d+ files for 12 hosts in 3 sites to /)]);
    const tree = snapshotTree(out);
    expect(Object.keys(tree)).toContain('/ams/ams-lb1/etc/bird/bird.conf');
    expect((await run(['render', '--sites', SITES_DIR, '--out', out])).code).toBe(0);
    expect(snapshotTree(out)).toEqual(tree);
  });

  it('reports every error as FILE:LINE:COL sorted with a count, exits 1 and leaves --out untouched', async () => {
    const dir = scratch();
    const sites = join(dir, 'sites');
    cpSync(SITES_DIR, sites, { recursive: true });
    const out = join(dir, 'out');
    expect((await run(['render', '--sites', sites, '--out', out])).code).toBe(0);
    const before = snapshotTree(out);
    writeFileSync(join(sites, 'ams.yaml'), readFileSync(join(sites, 'ams.yaml'), 'utf8').replace('asn: 65010', 'asn: 0'));
    writeFileSync(join(sites, 'nyc.yaml'), readFileSync(join(sites, 'nyc.yaml'), 'utf8').replace('location: New York, US', 'location: "New York\\"; }"'));
    const r = await run(['render', '--sites', sites, '--out', out]);
    expect(r.code).toBe(1);
    expect(r.out).toEqual([]);
    expect(r.err).toEqual([
      expect.stringMatching(/sites\/ams\.yaml:5:6: asn: must be 1\.\.4294967295, got 0$/),
      expect.stringMatching(/sites\/nyc\.yaml:3:11: location: may hold only .*, got "New York\\"; }"$/),
      '2 errors',
    ]);
    expect(snapshotTree(out)).toEqual(before);
  });

  it('exits 2 on bad usage', async () => {
    expect((await run(['render', '--bogus'])).code).toBe(2);
    expect((await run(['no-such-command'])).code).toBe(2);
  });

  it('runs as `npx anycdn` from a fresh checkout with no build step', async () => {
    const out = join(scratch(), 'out');
    const { stdout } = await promisify(execFile)('npx', ['anycdn', 'render', '--out', out], { cwd: ROOT });
    expect(stdout).toMatch(/^rendered \d+ files for 12 hosts in 3 sites to /);
  });
});
