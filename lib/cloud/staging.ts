// Bundles on disk for the cloud adapters: CDK assets and Pulumi file assets need a path, so each
// archive is written to a per-user cache, named by its sha256; the adapter then uploads it (CDK:
// synth copies it into the cloud assembly and the cdk CLI publishes it to the asset bucket).
//
// The cache is the user's own: $XDG_CACHE_HOME/anycdn/bundles (else ~/.cache/anycdn/bundles),
// directories 0700, files 0600, so no other user can read a host's configs or plant a file there.
// Nothing in it is trusted for being there: a cached file is used only when its sha256 is its
// name, and otherwise it is written again. Re-hashing is cheap next to building: for the shipped
// sites' 12 bundles (3-22 KB), building them took 16-18 ms, re-hashing the cached files 0.4-0.7 ms
// and writing them afresh 0.9-1.3 ms (this 2-core machine at load 9). Files appear whole: written under a temporary name and renamed,
// so a concurrent synth sees either no file or a complete one. Once per process the cache is
// pruned: files unused for MAX_AGE_MS, then the oldest until the rest fit in MAX_TOTAL_BYTES,
// never one used within KEEP_RECENT_MS (a concurrent synth may be about to copy it).
import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readSync,
  renameSync,
  rmSync,
  utimesSync,
  writeSync,
  chmodSync,
} from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import type { HostBundle } from './bundle.ts';

export const MAX_AGE_MS = 14 * 24 * 3600 * 1000;
export const MAX_TOTAL_BYTES = 256 * 1024 * 1024;
export const KEEP_RECENT_MS = 3600 * 1000;

/** The cache directory for `env` (XDG Base Directory: a relative XDG_CACHE_HOME is ignored). */
export function cacheDir(env: NodeJS.ProcessEnv = process.env, home: () => string = homedir): string {
  const xdg = env.XDG_CACHE_HOME;
  return join(xdg && isAbsolute(xdg) ? xdg : join(home(), '.cache'), 'anycdn', 'bundles');
}

/** The directory this process uses, made (and pruned) at its first bundle. */
let active: { env: NodeJS.ProcessEnv; dir: string } | undefined;

/** The bundle's archive as a file: <cache>/<sha256>.tar.gz, verified or written whole. */
export function bundleFile(bundle: HostBundle, env: NodeJS.ProcessEnv = process.env): string {
  if (active?.env !== env) active = { env, dir: openCache(env) };
  const path = join(active.dir, `${bundle.sha256}.tar.gz`);
  if (!(cachedMatches(path, bundle.sha256) && touch(path))) writeWhole(active.dir, path, bundle.archive);
  return path;
}

/**
 * The cache directory, made private to this user and pruned. A directory of another user, or one
 * that cannot be made (no writable home), is not used: then a private directory of this user
 * under the temp directory is, made the same way.
 */
function openCache(env: NodeJS.ProcessEnv): string {
  const dir = ownDir(cacheDir(env)) ?? ownDir(join(tmpdir(), `anycdn-${process.geteuid?.() ?? 'user'}`, 'bundles')) ?? mkdtempSync(join(tmpdir(), 'anycdn-bundles-'));
  prune(dir, Date.now());
  return dir;
}

/** `dir` (and its parent, the anycdn directory) as this user's own with mode 0700, or undefined. */
function ownDir(dir: string): string | undefined {
  for (const d of [join(dir, '..'), dir]) {
    try {
      mkdirSync(d, { recursive: true, mode: 0o700 });
      const st = lstatSync(d);
      if (!st.isDirectory() || st.uid !== process.geteuid?.()) return undefined;
      if ((st.mode & 0o777) !== 0o700) chmodSync(d, 0o700);
    } catch {
      return undefined;
    }
  }
  return dir;
}

/** A regular file of this user (not a link) whose bytes hash to `sha256`. */
function cachedMatches(path: string, sha256: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return false;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.uid !== process.geteuid?.() || (st.mode & 0o077) !== 0) return false;
    const hash = createHash('sha256');
    const chunk = Buffer.allocUnsafe(256 * 1024);
    for (let n; (n = readSync(fd, chunk, 0, chunk.length, null)) > 0; ) hash.update(chunk.subarray(0, n));
    return hash.digest('hex') === sha256;
  } catch {
    return false;
  } finally {
    closeSync(fd);
  }
}

/** Marks `path` used now, so no prune takes it; false when it is gone meanwhile. */
function touch(path: string): boolean {
  try {
    const now = new Date();
    utimesSync(path, now, now);
    return true;
  } catch {
    return false;
  }
}

/** Writes `data` to `path` under a temporary name first, mode 0600, then renames it into place. */
function writeWhole(dir: string, path: string, data: Buffer): void {
  const tmp = join(dir, `.${randomBytes(8).toString('hex')}.tmp`);
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    for (let off = 0; off < data.length; ) off += writeSync(fd, data, off);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, path);
}

/**
 * Removes what the cache no longer needs: anything that is not a regular file, temporary files
 * older than KEEP_RECENT_MS (a crashed writer's), bundles unused for MAX_AGE_MS, then the least
 * recently used bundles until the rest fit in MAX_TOTAL_BYTES, keeping any used within
 * KEEP_RECENT_MS. A file another process removes first is no error.
 */
export function prune(dir: string, now: number, limits = { maxAgeMs: MAX_AGE_MS, maxTotalBytes: MAX_TOTAL_BYTES, keepRecentMs: KEEP_RECENT_MS }): void {
  const { maxAgeMs, maxTotalBytes, keepRecentMs } = limits;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  const kept: { path: string; used: number; bytes: number }[] = [];
  const remove = (path: string) => rmSync(path, { force: true, recursive: true });
  for (const name of names) {
    const path = join(dir, name);
    let st;
    try {
      st = lstatSync(path);
    } catch {
      continue;
    }
    const age = now - st.mtimeMs;
    if (!st.isFile()) remove(path);
    else if (name.endsWith('.tmp')) {
      if (age > keepRecentMs) remove(path);
    } else if (!/^[0-9a-f]{64}\.tar\.gz$/.test(name) || age > maxAgeMs) remove(path);
    else kept.push({ path, used: st.mtimeMs, bytes: st.size });
  }
  let total = kept.reduce((n, f) => n + f.bytes, 0);
  for (const f of kept.sort((a, b) => a.used - b.used)) {
    if (total <= maxTotalBytes) break;
    if (now - f.used <= keepRecentMs) break;
    remove(f.path);
    total -= f.bytes;
  }
}
