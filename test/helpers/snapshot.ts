// A snapshot of the machine's files, for test/lab/machine.test.ts: every entry under the walked
// trees and every entry of `/` itself, each as its type, owner, mode and mtime (nanoseconds), and
// for files their size. Bounded by a count of entries. Nothing is read but directory entries and
// lstat, so it is safe on any tree.
import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export interface SnapshotSpec {
  /** Trees walked whole (not following symbolic links). */
  trees: string[];
  /** Directories whose own entries are listed but not walked (`/`). */
  shallow: string[];
  /** Paths kept with their type, owner and mode but neither their mtime nor anything below them: path -> why. */
  skip: Map<string, string>;
  /** At most this many entries, or the snapshot fails: a bound, not a sample. */
  limit: number;
}

function describe(path: string, withTime: boolean): string | undefined {
  let s;
  try {
    s = lstatSync(path, { bigint: true });
  } catch {
    return undefined; // gone between readdir and lstat: absent, as the next snapshot will say
  }
  const type = s.isSymbolicLink() ? 'l' : s.isDirectory() ? 'd' : s.isFile() ? 'f' : 'o';
  const mode = (Number(s.mode) & 0o7777).toString(8).padStart(4, '0');
  return [type, `${s.uid}:${s.gid}`, mode, ...(withTime ? [String(s.mtimeNs)] : []), ...(withTime && type === 'f' ? [String(s.size)] : [])].join(' ');
}

export function snapshot(spec: SnapshotSpec): Map<string, string> {
  const out = new Map<string, string>();
  const add = (path: string): boolean => {
    const skipped = spec.skip.has(path);
    const d = describe(path, !skipped);
    if (d === undefined) return false;
    out.set(path, d);
    if (out.size > spec.limit) throw new Error(`snapshot: more than ${spec.limit} entries under ${[...spec.trees, ...spec.shallow].join(', ')}; raise the bound`);
    return !skipped && d.startsWith('d ');
  };
  const list = (dir: string) => {
    try {
      return readdirSync(dir).sort();
    } catch {
      return [];
    }
  };
  for (const dir of spec.shallow) {
    add(dir);
    for (const name of list(dir)) add(join(dir, name));
  }
  for (const tree of spec.trees) {
    const stack = [tree];
    while (stack.length > 0) {
      const path = stack.pop()!;
      if (!add(path)) continue;
      for (const name of list(path)) stack.push(join(path, name));
    }
  }
  return out;
}

/** What changed from `a` to `b`, one line per path, sorted. */
export function changes(a: Map<string, string>, b: Map<string, string>): string[] {
  const out: string[] = [];
  for (const [path, was] of a) {
    const now = b.get(path);
    if (now === undefined) out.push(`removed ${path} (${was})`);
    else if (now !== was) out.push(`changed ${path}: ${was} -> ${now}`);
  }
  for (const [path, now] of b) if (!a.has(path)) out.push(`added ${path} (${now})`);
  return out.sort();
}
