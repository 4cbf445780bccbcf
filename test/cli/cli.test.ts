// The CLI contract from the design card: outputs, error lines, exit codes, atomic --out.
import { execFile } from 'node:child_process';
import { chownSync, cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { missingRoot } from '../helpers/daemons.ts';
import { SITES_DIR } from '../helpers/topology.ts';
import { runCli } from '../helpers/cli.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

function scratch(): string {
  const d = mkdtempSync(join(tmpdir(), 'anycdn-cli-'));
  dirs.push(d);
  return d;
}

const run = runCli;

function snapshotTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) out[join(e.parentPath, e.name).slice(dir.length)] = readFileSync(join(e.parentPath, e.name), 'utf8');
  }
  return out;
}

describe('arguments the CLI cannot use: one line naming the argument and the fix, nothing touched', () => {
  /** A scratch dir with a copy of the shipped sites, a plain file, a project directory and an existing --out tree. */
  async function setup() {
    const dir = scratch();
    const sites = join(dir, 'sites');
    cpSync(SITES_DIR, sites, { recursive: true });
    writeFileSync(join(dir, 'notes.txt'), 'keep me\n');
    mkdirSync(join(dir, 'project', 'src'), { recursive: true });
    writeFileSync(join(dir, 'project', 'README.md'), 'mine\n');
    const out = join(dir, 'out');
    expect((await run(['render', '--sites', sites, '--out', out])).code).toBe(0);
    return { dir, sites, out, before: snapshotTree(dir) };
  }

  it.each<[what: string, args: (d: { dir: string; sites: string; out: string }) => string[], expected: (d: { dir: string; sites: string }) => string]>([
    ['render: --sites does not exist', (d) => ['render', '--sites', join(d.dir, 'nope'), '--out', d.out],
      (d) => `${d.dir}/nope:1:1: --sites: no such directory; pass the directory that holds cdn.yaml and the site files`],
    ['validate: --sites does not exist', (d) => ['validate', '--sites', join(d.dir, 'nope')],
      (d) => `${d.dir}/nope:1:1: --sites: no such directory; pass the directory that holds cdn.yaml and the site files`],
    ['lab up: --sites does not exist', (d) => ['lab', 'up', '--sites', join(d.dir, 'nope')],
      (d) => `${d.dir}/nope:1:1: --sites: no such directory; pass the directory that holds cdn.yaml and the site files`],
    ['render: --sites is a file', (d) => ['render', '--sites', join(d.dir, 'notes.txt'), '--out', d.out],
      (d) => `${d.dir}/notes.txt:1:1: --sites: is a file, not a directory; pass the directory that holds cdn.yaml and the site files`],
    ['render: --out is a file', (d) => ['render', '--sites', d.sites, '--out', join(d.dir, 'notes.txt')],
      (d) => `${d.dir}/notes.txt:1:1: --out: is a file, not a directory; remove it or pass another --out`],
    ['render: --out below a file', (d) => ['render', '--sites', d.sites, '--out', join(d.dir, 'notes.txt', 'out')],
      (d) => `${d.dir}/notes.txt/out:1:1: --out: ${d.dir}/notes.txt is a file, not a directory; pass another --out`],
    ['render: --out is the --sites directory', (d) => ['render', '--sites', d.sites, '--out', d.sites],
      (d) => `${d.sites}:1:1: --out: would replace the --sites directory ${d.sites}; pass a directory of its own, such as ./out`],
    ['render: --out holds the --sites directory', (d) => ['render', '--sites', d.sites, '--out', d.dir],
      (d) => `${d.dir}:1:1: --out: would replace ${d.dir}, which holds the --sites directory ${d.sites}; pass a directory of its own, such as ./out`],
    ['render: --out holds files render did not write', (d) => ['render', '--sites', d.sites, '--out', join(d.dir, 'project')],
      (d) => `${d.dir}/project:1:1: --out: holds ${d.dir}/project/README.md, ${d.dir}/project/src and no .anycdn/manifest.json, so anycdn did not write it, and render replaces --out whole, deleting everything in it; pass a new or empty directory, or a --out that render wrote`],
    ['render: --out is the filesystem root', (d) => ['render', '--sites', d.sites, '--out', '/'],
      () => `/:1:1: --out: would replace /, which holds the --sites directory ${'${SITES}'}; pass a directory of its own, such as ./out`],
  ])('%s', async (_what, args, expected) => {
    const d = await setup();
    const r = await run(args(d));
    expect(r.code).toBe(1);
    expect(r.out).toEqual([]);
    expect(r.err).toEqual([expected(d).replace('${SITES}', d.sites), '1 error']);
    expect(snapshotTree(d.dir)).toEqual(d.before);
    expect(readdirSync(d.dir).sort()).toEqual(['notes.txt', 'out', 'project', 'sites']);
  });

  it('reports a bad --sites and a bad --out together', async () => {
    const d = await setup();
    const r = await run(['render', '--sites', join(d.dir, 'nope'), '--out', join(d.dir, 'notes.txt')]);
    expect(r.err).toEqual([
      `${d.dir}/nope:1:1: --sites: no such directory; pass the directory that holds cdn.yaml and the site files`,
      `${d.dir}/notes.txt:1:1: --out: is a file, not a directory; remove it or pass another --out`,
      '2 errors',
    ]);
    expect(r.code).toBe(1);
    expect(snapshotTree(d.dir)).toEqual(d.before);
  });

  it('names a site file that cannot be read, and reads the others', async () => {
    const d = await setup();
    symlinkSync(join(d.dir, 'gone.yaml'), join(d.sites, 'broken.yaml'));
    mkdirSync(join(d.sites, 'dir.yaml'));
    const r = await run(['render', '--sites', d.sites, '--out', d.out]);
    expect(r.err).toEqual([
      `${d.sites}/broken.yaml:1:1: cannot read: no such file (a symlink to a missing file?); fix or remove it`,
      `${d.sites}/dir.yaml:1:1: is a directory, not a site file; remove it or rename it without .yaml`,
      '2 errors',
    ]);
    expect(r.code).toBe(1);
  });
});

describe('anycdn render', () => {
  it('writes <site>/<host>/<path> for every host and is byte-identical across runs', async () => {
    const out = join(scratch(), 'out');
    const first = await run(['render', '--sites', SITES_DIR, '--out', out]);
    expect(first.code).toBe(0);
    expect(first.out).toEqual([expect.stringMatching(/^rendered \d+ files for 12 hosts in 3 sites to /)]);
    const tree = snapshotTree(out);
    expect(Object.keys(tree)).toContain('/ams/ams-lb1/etc/bird/bird.conf');
    expect(Object.keys(tree).filter((p) => p.startsWith('/routing/')).sort()).toEqual(['/routing/irr.rpsl', '/routing/roas.slurm.json', '/routing/roas.txt']);
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
    writeFileSync(join(sites, 'ams.yaml'), readFileSync(join(sites, 'ams.yaml'), 'utf8').replace('asn: 64501', 'asn: 0'));
    writeFileSync(join(sites, 'nyc.yaml'), readFileSync(join(sites, 'nyc.yaml'), 'utf8').replace('location: New York, US', 'location: "New York\\"; }"'));
    const r = await run(['render', '--sites', sites, '--out', out]);
    expect(r.code).toBe(1);
    expect(r.out).toEqual([]);
    expect(r.err).toEqual([
      expect.stringMatching(/sites\/ams\.yaml:25:12: bgp\.peers\[0\]\.asn: must be 1\.\.4294967295, got 0$/),
      expect.stringMatching(/sites\/nyc\.yaml:3:11: location: may hold only .*, got "New York\\"; }"$/),
      '2 errors',
    ]);
    expect(snapshotTree(out)).toEqual(before);
  });

  it('refuses an aws site with BGP peers, which only cdk synth refused before (issue 10)', async () => {
    const sites = join(scratch(), 'sites');
    cpSync(SITES_DIR, sites, { recursive: true });
    const sin = readFileSync(join(sites, 'sin.yaml'), 'utf8');
    writeFileSync(join(sites, 'sin.yaml'), sin.replace('\nhosts:', '\nbgp:\n  peers:\n    - name: transit1\n      address: 10.30.0.1\n      asn: 64501\n\nhosts:'));
    const r = await run(['render', '--sites', sites, '--out', join(scratch(), 'out')]);
    expect(r.code).toBe(1);
    expect(r.err).toEqual([
      expect.stringMatching(/sites\/sin\.yaml:\d+:3: bgp\.peers: aws site sin is announced by Global Accelerator \(stack anycdn-global\); remove its BGP peers$/),
      '1 error',
    ]);
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

describe('as a user other than root (setpriv to nobody)', () => {
  /**
   * The real CLI as uid/gid 65534. It keeps only the capability to read files, so the checkout
   * is readable wherever it lives (CI clones under /root); it has no other privilege. Its home,
   * working and temporary directory is one of its own, made here and given to it: it writes
   * nowhere else, so the system temp directory's mode does not matter (issue 25 §7: at 0755,
   * nobody could not write there).
   */
  function nobodysDir(): string {
    const d = scratch();
    chownSync(d, 65534, 65534);
    return d;
  }

  async function asNobody(args: string[], home = nobodysDir()): Promise<{ code: number; stdout: string; stderr: string }> {
    const setpriv = ['--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=+dac_read_search', '--ambient-caps=+dac_read_search'];
    return promisify(execFile)('setpriv', [...setpriv, process.execPath, join(ROOT, 'bin', 'anycdn.js'), ...args], { cwd: home, env: { ...process.env, HOME: home, TMPDIR: home } }).then(
      (r) => ({ code: 0, ...r }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
    );
  }

  it('validate refuses up front with a one-line reason instead of false checker errors', async (ctx) => {
    const skip = missingRoot();
    if (skip) return ctx.skip(`${skip} (to switch to nobody)`);
    const r = await asNobody(['validate', '--sites', SITES_DIR]);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toEqual([
      "validate: needs root: in a user namespace nginx cannot chown its temp directories to www-data and keepalived refuses scripts whose files root does not own, so the checks would fail falsely; run it as root",
    ]);
    expect(r.code).toBe(1);
  });

  it('lab up refuses up front, before creating anything', async (ctx) => {
    const skip = missingRoot();
    if (skip) return ctx.skip(`${skip} (to switch to nobody)`);
    const r = await asNobody(['lab', 'up', '--sites', SITES_DIR]);
    // Preflight's lines, all at once: root first; a lab another run has up would add its own line.
    const lines = r.stderr.trim().split('\n');
    expect(lines[0]).toBe('lab: needs root (network namespaces, veth pairs, mounts): run it as root');
    expect(lines.at(-1)).toMatch(/^lab: (one problem|\d+ problems) with this machine; nothing was created$/);
    expect(lines.every((l) => l.startsWith('lab: '))).toBe(true);
    expect(r.stdout).toBe('');
    expect(r.code).toBe(1);
  });

  it('render works as any user', async (ctx) => {
    const skip = missingRoot();
    if (skip) return ctx.skip(`${skip} (to switch to nobody)`);
    const home = nobodysDir();
    const out = join(home, 'out');
    const r = await asNobody(['render', '--sites', SITES_DIR, '--out', out], home);
    expect(r.stdout).toMatch(/^rendered \d+ files for 12 hosts in 3 sites to /);
    expect(r.code).toBe(0);
  });
});
