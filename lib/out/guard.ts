// What `render` may replace. It swaps --out whole, so deleting the old tree deletes everything in
// it: an existing --out may go only when it is a tree anycdn wrote, which its manifest describes.
// Names alone prove nothing (a home directory is all lowercase directories too), so every entry
// is checked against the manifest, without following a symlink anywhere.
import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fsReason } from '../model/errors.ts';
import { ROUTING_DIR, ROUTING_FILES } from '../render/routing.ts';
import { isManifestProblem, MANIFEST_DIR, MANIFEST_PATH, readManifest, type Manifest } from './manifest.ts';

/** How many foreign entries a refusal names before it stops looking. */
const SHOWN = 3;

/**
 * Replaceable, with the manifest found; or not, with what is wrong (naming the path) and the fix,
 * and `file` when the problem is in one (the manifest).
 */
export type Replaceable = { ok: true; manifest?: Manifest } | { ok: false; what: string; fix: string; file?: string };

const PASS_ANOTHER = 'pass another --out';

/**
 * Whether `dir` may be replaced whole: it does not exist, it is empty, or it holds anycdn's
 * manifest (`.anycdn/manifest.json`, in a known format) and nothing but what that manifest lists:
 * its files, the directories above them, the manifest and out/routing/'s files. Symlinks, FIFOs,
 * sockets and devices are never anycdn's. The problem names `shown` (the --out as the user wrote
 * it) and the first foreign paths.
 */
export function replaceable(dir: string, shown: string = dir): Replaceable {
  let entries: string[];
  try {
    const st = lstatSync(dir);
    if (st.isSymbolicLink()) return { ok: false, what: 'is a symlink, and render replaces --out whole, never through a link', fix: 'pass the directory it points to' };
    if (!st.isDirectory()) return { ok: false, what: 'is a file, not a directory', fix: 'remove it or pass another --out' };
    entries = readdirSync(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { ok: true };
    return { ok: false, what: `cannot read ${shown}: ${fsReason(e)}`, fix: PASS_ANOTHER };
  }
  if (entries.length === 0) return { ok: true };
  const refuse = (what: string) => ({
    ok: false as const,
    what: `${what}, and render replaces --out whole, deleting everything in it`,
    fix: 'pass a new or empty directory, or a --out that render wrote',
  });
  const manifest = readManifest(dir);
  if (manifest === undefined) return refuse(`holds ${list(entries.sort().slice(0, SHOWN + 1).map((e) => join(shown, e)))} and no ${MANIFEST_PATH}, so anycdn did not write it`);
  if (isManifestProblem(manifest)) return { ok: false, file: join(shown, MANIFEST_PATH), ...manifest };
  const foreign = foreignEntries(dir, manifest);
  if (typeof foreign === 'string') return { ok: false, what: `cannot read ${join(shown, foreign)}`, fix: PASS_ANOTHER };
  if (foreign.length > 0) return refuse(`holds ${list(foreign.map((f) => join(shown, f)))}, which ${foreign.length > 1 ? 'are' : 'is'} not among the files and directories its ${MANIFEST_PATH} lists`);
  return { ok: true, manifest };
}

/**
 * The entries under `dir` that `m` does not account for (up to SHOWN + 1), as paths relative to
 * `dir`, in walk order; or the path that could not be read. A foreign directory is named, not
 * entered.
 */
function foreignEntries(dir: string, m: Manifest): string[] | string {
  const files = new Set([...m.files.map((f) => f.path), MANIFEST_PATH, ...ROUTING_FILES.map((n) => `${ROUTING_DIR}/${n}`)]);
  const dirs = new Set<string>();
  for (const f of files) for (let i = f.indexOf('/'); i !== -1; i = f.indexOf('/', i + 1)) dirs.add(f.slice(0, i));
  dirs.add(MANIFEST_DIR);
  const foreign: string[] = [];
  const stack = [''];
  while (stack.length > 0 && foreign.length <= SHOWN) {
    const rel = stack.pop()!;
    let dirents;
    try {
      // withFileTypes is lstat's view (a symlink is a symlink, whatever it points to).
      dirents = readdirSync(join(dir, rel), { withFileTypes: true });
    } catch {
      return rel;
    }
    for (const e of dirents.sort((a, b) => (a.name < b.name ? 1 : -1))) {
      const path = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory() && dirs.has(path)) stack.push(path);
      else if (!(e.isFile() && files.has(path))) foreign.push(e.isDirectory() ? `${path}/` : path);
    }
  }
  return foreign.sort();
}

function list(paths: string[]): string {
  if (paths.length <= SHOWN) return paths.join(', ');
  return `${paths.slice(0, SHOWN).join(', ')} and more`;
}
