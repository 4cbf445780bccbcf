// anycdn --version: the package version, and the git commit when running from a checkout. The
// commit is read from .git directly (lib/out/commit.ts), so printing it starts no process.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gitCommit } from '../out/commit.ts';
import { PACKAGE_ROOT } from '../package-root.ts';

export { gitCommit };

export function versionText(root: string = PACKAGE_ROOT): string {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
  const commit = gitCommit(root);
  return commit ? `anycdn ${pkg.version} (commit ${commit.slice(0, 12)})` : `anycdn ${pkg.version}`;
}
