// anycdn --version: the package version, and the git commit when running from a checkout, with
// `-dirty` when tracked files differ from it, as `git describe --dirty` marks it. The commit is
// read from .git directly (lib/out/commit.ts). Whether the tree is dirty takes one `git status`
// (about 40 ms here at load 24, under 10 ms of CPU), and only when --version is asked for in a
// checkout: an installed package has no .git and starts no process, and no other command calls this.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gitCommit } from '../out/commit.ts';
import { PACKAGE_ROOT } from '../package-root.ts';

export { gitCommit };

/**
 * Whether the checkout at `root` has changes to tracked files, staged or not (untracked files do
 * not count), as `git describe --dirty` counts them; undefined when git cannot tell (no git, a
 * repository it refuses to read). Read-only: no index refresh is written.
 */
export function gitDirty(root: string): boolean | undefined {
  const r = spawnSync('git', ['-C', root, '--no-optional-locks', 'status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8', timeout: 5000 });
  return r.status === 0 ? r.stdout !== '' : undefined;
}

export function versionText(root: string = PACKAGE_ROOT, dirty: (root: string) => boolean | undefined = gitDirty): string {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
  const commit = gitCommit(root);
  if (!commit) return `anycdn ${pkg.version}`;
  return `anycdn ${pkg.version} (commit ${commit.slice(0, 12)}${dirty(root) ? '-dirty' : ''})`;
}
