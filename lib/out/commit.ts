// The git commit of a checkout, read from .git directly (HEAD, the ref file or packed-refs,
// worktrees included), so neither `render` (the manifest's model commit) nor `--version` starts a
// process for it.
import { statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { isProblem, readInput } from '../read-input.ts';

/**
 * The commit of the checkout holding `sitesDir` (the nearest directory upwards with a .git), as
 * `git rev-parse HEAD` there gives it; null outside a checkout or on a branch with no commit.
 */
export async function modelCommit(sitesDir: string): Promise<string | null> {
  for (let dir = resolve(sitesDir); ; dir = dirname(dir)) {
    if (exists(join(dir, '.git'))) return gitCommit(dir) ?? null;
    if (dir === dirname(dir)) return null;
  }
}

/** The commit checked out at `root`, or undefined when `root` is not the top of a git checkout. */
export function gitCommit(root: string): string | undefined {
  const gitDir = findGitDir(root);
  if (!gitDir) return undefined;
  const commonDir = readText(join(gitDir, 'commondir'));
  const common = commonDir ? resolve(gitDir, commonDir) : gitDir;
  const head = readText(join(gitDir, 'HEAD'));
  if (!head) return undefined;
  const ref = /^ref: (\S+)$/.exec(head)?.[1];
  if (!ref) return /^[0-9a-f]{40,64}$/.test(head) ? head : undefined;
  for (const dir of [gitDir, common]) {
    const direct = readText(join(dir, ref));
    if (direct && /^[0-9a-f]{40,64}$/.test(direct)) return direct;
  }
  const packed = readText(join(common, 'packed-refs')) ?? '';
  for (const line of packed.split('\n')) {
    const [sha, name] = line.split(' ');
    if (name === ref && sha && /^[0-9a-f]{40,64}$/.test(sha)) return sha;
  }
  return undefined; // a branch with no commit yet
}

/** `.git` is a directory in a clone and a `gitdir: PATH` file in a worktree or submodule. */
function findGitDir(root: string): string | undefined {
  const dotGit = join(root, '.git');
  try {
    if (statSync(dotGit).isDirectory()) return dotGit;
  } catch {
    return undefined;
  }
  const target = /^gitdir: (.+)$/.exec(readText(dotGit) ?? '')?.[1];
  return target ? (isAbsolute(target) ? target : resolve(root, target)) : undefined;
}

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** A git file's text, read as any input is (a FIFO or device in a .git cannot hang render); packed-refs can be large. */
function readText(path: string): string | undefined {
  const text = readInput(path, { maxBytes: 64 * 1024 * 1024 });
  return isProblem(text) ? undefined : text.trim();
}
