// Atomic tree replacement: write everything into a sibling staging directory, then swap it in
// with renames. On any error before the swap, the existing --out is untouched, and the staging
// directory is removed whatever failed.
import { chmod, mkdir, mkdtemp, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { RenderedFile } from '../render/types.ts';
import { outputPath } from '../render/index.ts';

/** `extra`: files that belong to no host (out/routing/), by path relative to outDir. */
export async function writeTreeAtomically(outDir: string, files: RenderedFile[], extra: { path: string; content: string }[] = []): Promise<void> {
  const target = resolve(outDir);
  const parent = dirname(target);
  await mkdir(parent, { recursive: true });
  const staging = await mkdtemp(join(parent, `.${basename(target)}.new-`));
  const old = `${staging}.old`;
  let moved = false;
  try {
    for (const f of files) {
      const p = join(staging, outputPath(f));
      await mkdir(dirname(p), { recursive: true });
      await writeFile(p, f.content);
      await chmod(p, f.mode);
    }
    for (const f of extra) {
      const p = join(staging, f.path);
      await mkdir(dirname(p), { recursive: true });
      await writeFile(p, f.content);
      await chmod(p, 0o644);
    }
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
