// Atomic tree replacement: write everything into a sibling staging directory, then swap it in
// with renames. On any error before the swap, the existing --out is untouched, and the staging
// directory is removed whatever failed.
//
// Writing is the bulk of a large render (300 sites: about 10,000 files in 14,000 directories), so
// each directory is made once, parents before children, and files are written concurrently,
// a bounded number at a time, each with its mode at creation (a chmod only where the umask would
// take bits away).
import { chmod, mkdir, mkdtemp, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { eachLimit } from '../pool.ts';
import type { RenderedFile } from '../render/types.ts';
import { outputPath } from '../render/index.ts';

/** File system calls in flight at once: enough to keep libuv's threads busy, few enough for any ulimit. */
const IN_FLIGHT = 32;

export async function writeTreeAtomically(outDir: string, files: RenderedFile[]): Promise<void> {
  const target = resolve(outDir);
  const parent = dirname(target);
  await mkdir(parent, { recursive: true });
  const staging = await mkdtemp(join(parent, `.${basename(target)}.new-`));
  const old = `${staging}.old`;
  let moved = false;
  try {
    await writeTree(staging, files);
    const exists = await stat(target).then(
      (s) => s.isDirectory(),
      () => false,
    );
    if (exists) {
      await rename(target, old);
      moved = true;
    }
    await rename(staging, target);
  } catch (e) {
    if (moved) await rename(old, target);
    await rm(staging, { recursive: true, force: true });
    throw e;
  }
  if (moved) await rm(old, { recursive: true, force: true });
}

/** Writes `files` under `root`, an existing empty directory. */
export async function writeTree(root: string, files: RenderedFile[]): Promise<void> {
  const paths = files.map((f) => join(root, outputPath(f)));
  // Every directory once, by depth: all of one depth at once, after their parents exist.
  const byDepth: string[][] = [];
  const seen = new Set<string>([root]);
  for (const p of paths) {
    for (let d = dirname(p); !seen.has(d); d = dirname(d)) {
      seen.add(d);
      const depth = d.split('/').length;
      (byDepth[depth] ??= []).push(d);
    }
  }
  for (const level of byDepth) if (level) await eachLimit(level, IN_FLIGHT, (d) => mkdir(d).then(() => undefined));
  const umask = process.umask();
  await eachLimit(files, IN_FLIGHT, async (f, i) => {
    await writeFile(paths[i]!, f.content, { mode: f.mode });
    if ((f.mode & umask) !== 0) await chmod(paths[i]!, f.mode);
  });
}
