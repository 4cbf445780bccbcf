// Site files that are not plain model files: render, validate and plan refuse each with one line
// naming it, show none of its content, and never hang. The real CLI in a child process with a kill
// timer, so a read that blocks (a FIFO) or never ends (/dev/zero) fails the test instead of
// hanging the runner.
import { execFile, execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SITES_DIR } from '../helpers/topology.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A scratch project: the shipped sites in ./sites, and a stand-in for /etc/shadow beside them. */
function scratch(): string {
  const d = mkdtempSync(join(tmpdir(), 'anycdn-inputs-'));
  dirs.push(d);
  cpSync(SITES_DIR, join(d, 'sites'), { recursive: true });
  writeFileSync(join(d, 'shadow'), 'root:$y$j9T$SECRETHASH:19700:0:99999:7:::\ndaemon:*:19700:0:99999:7:::\n');
  return d;
}

/** `anycdn ARGS` in `cwd`, killed after 60 s; a stale-dist notice from bin/launch.js is dropped. */
function cli(cwd: string, args: string[]): Promise<{ code: number | string; stdout: string; stderr: string[] }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(ROOT, 'bin', 'anycdn.js'), ...args], { cwd, timeout: 60_000, killSignal: 'SIGKILL' }, (e, stdout, stderr) => {
      const code = e ? (e.killed ? 'killed after 60 s' : (e.code as number)) : 0;
      resolve({ code, stdout, stderr: stderr.split('\n').filter((l) => l && !l.startsWith('anycdn: dist/')) });
    });
  });
}

const SECRET = /SECRETHASH|daemon:\*|root:/;

describe('site files: regular files inside --sites, read through one bounded descriptor', () => {
  it.each<[what: string, make: (d: string) => void, expected: (d: string) => string]>([
    [
      'a symlink to a file outside (a stand-in for /etc/shadow)',
      (d) => symlinkSync(join(d, 'shadow'), join(d, 'sites', 'x.yaml')),
      (d) => `sites/x.yaml:1:1: is a symlink to ${d}/shadow, outside sites; a site file must lie inside the sites directory: copy it in, or remove the link`,
    ],
    [
      'a symlink to /etc/shadow',
      (d) => symlinkSync('/etc/shadow', join(d, 'sites', 'x.yaml')),
      () => 'sites/x.yaml:1:1: is a symlink to /etc/shadow, outside sites; a site file must lie inside the sites directory: copy it in, or remove the link',
    ],
    [
      'a symlink to /dev/zero',
      (d) => symlinkSync('/dev/zero', join(d, 'sites', 'x.yaml')),
      () => 'sites/x.yaml:1:1: is a symlink to /dev/zero, outside sites; a site file must lie inside the sites directory: copy it in, or remove the link',
    ],
    [
      'a FIFO',
      (d) => execFileSync('mkfifo', [join(d, 'sites', 'x.yaml')]),
      () => 'sites/x.yaml:1:1: is a FIFO, not a regular file; a site file must be a regular file: remove it or rename it without .yaml',
    ],
    [
      'a directory named x.yaml',
      (d) => mkdirSync(join(d, 'sites', 'x.yaml')),
      () => 'sites/x.yaml:1:1: is a directory, not a site file; remove it or rename it without .yaml',
    ],
    [
      'a file that is not UTF-8',
      (d) => writeFileSync(join(d, 'sites', 'x.yaml'), Buffer.concat([Buffer.from('root:$y$j9T$SECRETHASH:19700\n'), Buffer.from([0xc3, 0x28, 0xff])])),
      () => 'sites/x.yaml:1:1: is not UTF-8 text (its content is not shown); save it as UTF-8, or remove it or rename it without .yaml',
    ],
    [
      'a file over the 1 MiB limit',
      (d) => writeFileSync(join(d, 'sites', 'x.yaml'), `# ${'SECRETHASH '.repeat(100_000)}\n`),
      () => 'sites/x.yaml:1:1: is larger than 1048576 bytes, the limit for a site file; split the site or shorten the file',
    ],
  ])('%s: one line naming it, none of its content, exit 1', { timeout: 300_000 }, async (_what, make, expected) => {
    const d = scratch();
    make(d);
    const r = await cli(d, ['render', '--sites', 'sites', '--out', 'out']);
    expect(r).toEqual({ code: 1, stdout: '', stderr: [expected(d), '1 error'] });
    expect(r.stderr.join('\n')).not.toMatch(SECRET);
    expect(existsSync(join(d, 'out'))).toBe(false);
  });

  it('validate and plan refuse the same way', { timeout: 300_000 }, async () => {
    const d = scratch();
    symlinkSync(join(d, 'shadow'), join(d, 'sites', 'x.yaml'));
    execFileSync('mkfifo', [join(d, 'sites', 'y.yaml')]);
    const lines = [
      `sites/x.yaml:1:1: is a symlink to ${d}/shadow, outside sites; a site file must lie inside the sites directory: copy it in, or remove the link`,
      'sites/y.yaml:1:1: is a FIFO, not a regular file; a site file must be a regular file: remove it or rename it without .yaml',
      '2 errors',
    ];
    for (const args of [['validate', '--sites', 'sites'], ['plan', '--sites', 'sites', '--no-cloud']]) {
      const r = await cli(d, args);
      expect(r).toEqual({ code: 1, stdout: '', stderr: lines });
    }
  });
});

describe('no raw Node error text on the error paths of render, validate and plan', () => {
  const RAW = /\b(E[A-Z]{3,}|scandir|mkdtemp|realpath|lstat|uv_\w+|errno|syscall)\b|^\s+at /m;

  it.each<[what: string, args: (d: string) => string[], expected: (d: string) => string[]]>([
    [
      'render: a site file that is a symlink loop',
      (d) => (symlinkSync('x.yaml', join(d, 'sites', 'x.yaml')), ['render', '--sites', join(d, 'sites'), '--out', join(d, 'out')]),
      (d) => [`${d}/sites/x.yaml:1:1: is a symlink (it changed while being read, or loops); a site file must be a regular file: remove it or rename it without .yaml`],
    ],
    [
      'render: an --out that cannot be created',
      (d) => ['render', '--sites', join(d, 'sites'), '--out', '/proc/anycdn-out'],
      () => ['/proc/anycdn-out:1:1: --out: cannot write: no such file or directory; check the directory and its permissions, or pass another --out'],
    ],
    [
      'validate: --sites missing',
      (d) => ['validate', '--sites', join(d, 'nope')],
      (d) => [`${d}/nope:1:1: --sites: no such directory; pass the directory that holds cdn.yaml and the site files`],
    ],
    [
      'plan: --out is a file',
      (d) => ['plan', '--sites', join(d, 'sites'), '--out', join(d, 'shadow'), '--no-cloud'],
      (d) => [`${d}/shadow/.anycdn/manifest.json:1:1: no record of a render in ${d}/shadow; run \`anycdn render\` first, or pass --against <git-ref|dir>`],
    ],
    [
      'plan --against: a tree holding a symlink loop',
      (d) => (mkdirSync(join(d, 'pulled', 'ams', 'ams-lb1'), { recursive: true }), symlinkSync('loop', join(d, 'pulled', 'ams', 'ams-lb1', 'loop')), ['plan', '--sites', join(d, 'sites'), '--against', join(d, 'pulled'), '--no-cloud']),
      (d) => [`${d}/pulled/ams/ams-lb1/loop:1:1: is a symlink (it changed while being read, or loops); render never writes one: remove it from the tree, or pass another --against`],
    ],
  ])('%s', async (_what, args, expected) => {
    const { main } = await import('../../lib/cli/main.ts');
    const d = scratch();
    const err: string[] = [];
    const code = await main(args(d), { out: () => {}, err: (l) => err.push(l) });
    expect({ code, err }).toEqual({ code: 1, err: [...expected(d), '1 error'] });
    expect(err.join('\n')).not.toMatch(RAW);
  });
});
