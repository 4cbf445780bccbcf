// anycdn --version: the package version, and the commit of a git checkout read from .git itself,
// with -dirty when its tracked files changed, as `git describe --dirty` says.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../lib/cli/main.ts';
import { gitCommit, gitDirty, versionText } from '../../lib/cli/version.ts';
import { modelCommit } from '../../lib/out/commit.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
const scratch = () => {
  const d = mkdtempSync(join(tmpdir(), 'anycdn-version-'));
  dirs.push(d);
  writeFileSync(join(d, 'package.json'), '{"version": "9.8.7"}\n');
  return d;
};
const A = 'a'.repeat(40);
const B = 'b'.repeat(40);

describe('--version', () => {
  it('prints the package version and the checkout commit, as git itself sees it', async () => {
    const out: string[] = [];
    expect(await main(['--version'], { out: (l) => out.push(l), err: () => {} })).toBe(0);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    let head: string | undefined;
    try {
      head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    } catch {
      head = undefined; // not a checkout (a tarball): the version alone
    }
    const dirty = head && gitDirty(ROOT) ? '-dirty' : '';
    expect(out).toEqual([head ? `anycdn ${pkg.version} (commit ${head.slice(0, 12)}${dirty})` : `anycdn ${pkg.version}`]);
  });

  it.skipIf(spawnSync('git', ['--version']).status !== 0)('marks a dirty tree as git describe --dirty does: changed or staged tracked files, not untracked ones or a touch', () => {
    const repo = scratch();
    const git = (...args: string[]) => execFileSync('git', ['-C', repo, '-c', 'user.name=t', '-c', 'user.email=t@example.net', ...args], { encoding: 'utf8' }).trim();
    git('init', '-q');
    git('add', 'package.json');
    git('commit', '-q', '-m', 'one');
    const seen: [string, string, string][] = [];
    const look = (what: string) => seen.push([what, versionText(repo).replace(/^.*-dirty\)$/, 'dirty').replace(/^anycdn .*\)$/, 'clean'), git('describe', '--always', '--dirty').endsWith('-dirty') ? 'dirty' : 'clean']);
    look('committed');
    writeFileSync(join(repo, 'package.json'), '{"version": "9.8.8"}\n');
    look('changed');
    git('add', 'package.json');
    look('staged');
    git('commit', '-q', '-m', 'two');
    writeFileSync(join(repo, 'untracked.txt'), 'x\n');
    look('untracked');
    utimesSync(join(repo, 'package.json'), new Date(0), new Date(0));
    look('touched');
    expect(seen).toEqual([
      ['committed', 'clean', 'clean'],
      ['changed', 'dirty', 'dirty'],
      ['staged', 'dirty', 'dirty'],
      ['untracked', 'clean', 'clean'],
      ['touched', 'clean', 'clean'],
    ]);
  });

  it('asks nothing of git outside a checkout', () => {
    let asked = 0;
    expect(versionText(scratch(), () => (asked++, true))).toBe('anycdn 9.8.7');
    expect(asked).toBe(0);
  });

  it('reads a branch from its ref file, from packed-refs, a detached HEAD, and a worktree', () => {
    const clone = scratch();
    mkdirSync(join(clone, '.git', 'refs', 'heads'), { recursive: true });
    writeFileSync(join(clone, '.git', 'HEAD'), 'ref: refs/heads/main\n');
    writeFileSync(join(clone, '.git', 'refs', 'heads', 'main'), `${A}\n`);
    expect(versionText(clone)).toBe('anycdn 9.8.7 (commit aaaaaaaaaaaa)');

    rmSync(join(clone, '.git', 'refs', 'heads', 'main'));
    writeFileSync(join(clone, '.git', 'packed-refs'), `# pack-refs with: peeled fully-peeled sorted\n${B} refs/heads/main\n`);
    expect(gitCommit(clone)).toBe(B);

    writeFileSync(join(clone, '.git', 'HEAD'), `${A}\n`);
    expect(gitCommit(clone)).toBe(A);

    // git worktree add: .git is a file naming the worktree's git dir, whose commondir is the clone's.
    const wt = scratch();
    const wtGit = join(clone, '.git', 'worktrees', 'wt');
    mkdirSync(wtGit, { recursive: true });
    writeFileSync(join(wt, '.git'), `gitdir: ${wtGit}\n`);
    writeFileSync(join(wtGit, 'commondir'), '../..\n');
    writeFileSync(join(wtGit, 'HEAD'), 'ref: refs/heads/main\n');
    expect(gitCommit(wt)).toBe(B);
  });

  it('prints the version alone outside a checkout, or on a branch with no commit', () => {
    const plain = scratch();
    expect(versionText(plain)).toBe('anycdn 9.8.7');
    mkdirSync(join(plain, '.git'));
    writeFileSync(join(plain, '.git', 'HEAD'), 'ref: refs/heads/main\n');
    expect(versionText(plain)).toBe('anycdn 9.8.7');
  });
});

describe('the model commit render records', () => {
  it('is the commit of the checkout above the sites directory, as git rev-parse gives it, and null outside one', async () => {
    const sites = join(ROOT, 'sites');
    let head: string | null;
    try {
      head = execFileSync('git', ['-C', sites, 'rev-parse', '--verify', '-q', 'HEAD'], { encoding: 'utf8' }).trim();
    } catch {
      head = null;
    }
    expect(await modelCommit(sites)).toBe(head);
    const clone = scratch();
    mkdirSync(join(clone, '.git', 'refs', 'heads'), { recursive: true });
    mkdirSync(join(clone, 'model', 'sites'), { recursive: true });
    writeFileSync(join(clone, '.git', 'HEAD'), 'ref: refs/heads/main\n');
    writeFileSync(join(clone, '.git', 'refs', 'heads', 'main'), `${A}\n`);
    expect(await modelCommit(join(clone, 'model', 'sites'))).toBe(A);
    expect(await modelCommit(scratch())).toBeNull();
  });
});
