// The bundle cache (lib/cloud/staging.ts): per user, private (0700 directories, 0600 files),
// nothing trusted for being there (a file is used only when its sha256 is its name), written
// whole (a concurrent reader never sees half a file), pruned by age and total size.
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import type { HostBundle } from '../../lib/cloud/bundle.ts';
import { bundleFile, cacheDir, prune } from '../../lib/cloud/staging.ts';
import { missingRoot } from '../helpers/daemons.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

function scratch(): string {
  const d = mkdtempSync(join(tmpdir(), 'anycdn-cache-'));
  dirs.push(d);
  return d;
}

function bundle(archive: Buffer = randomBytes(4096)): HostBundle {
  return { site: 'ams', host: 'ams-lb1', files: [], archive, sha256: createHash('sha256').update(archive).digest('hex') };
}

const mode = (p: string) => (lstatSync(p).mode & 0o777).toString(8);

describe('where the cache is', () => {
  it('$XDG_CACHE_HOME/anycdn/bundles when it is absolute, else ~/.cache/anycdn/bundles', () => {
    const home = () => '/home/alice';
    expect(cacheDir({ XDG_CACHE_HOME: '/var/cache/alice' }, home)).toBe('/var/cache/alice/anycdn/bundles');
    expect(cacheDir({ XDG_CACHE_HOME: 'relative/cache' }, home)).toBe('/home/alice/.cache/anycdn/bundles');
    expect(cacheDir({}, home)).toBe('/home/alice/.cache/anycdn/bundles');
  });
});

describe('bundleFile', () => {
  it('writes <sha256>.tar.gz, mode 0600, in directories of mode 0700, whatever the umask', () => {
    const d = scratch();
    const b = bundle();
    const old = process.umask(0o022);
    let path: string;
    try {
      path = bundleFile(b, { XDG_CACHE_HOME: d });
    } finally {
      process.umask(old);
    }
    expect(path).toBe(join(d, 'anycdn', 'bundles', `${b.sha256}.tar.gz`));
    expect(readFileSync(path)).toEqual(b.archive);
    expect([mode(join(d, 'anycdn')), mode(join(d, 'anycdn', 'bundles')), mode(path)]).toEqual(['700', '700', '600']);
  });

  it('makes an existing cache directory private', () => {
    const d = scratch();
    mkdirSync(join(d, 'anycdn', 'bundles'), { recursive: true, mode: 0o777 });
    chmodSync(join(d, 'anycdn'), 0o755);
    chmodSync(join(d, 'anycdn', 'bundles'), 0o777);
    bundleFile(bundle(), { XDG_CACHE_HOME: d });
    expect([mode(join(d, 'anycdn')), mode(join(d, 'anycdn', 'bundles'))]).toEqual(['700', '700']);
  });

  it('uses a cached file only when its sha256 is its name: other bytes, a link or a readable mode are written again', () => {
    const d = scratch();
    const env = { XDG_CACHE_HOME: d };
    const b = bundle();
    const path = join(d, 'anycdn', 'bundles', `${b.sha256}.tar.gz`);
    mkdirSync(join(d, 'anycdn', 'bundles'), { recursive: true });
    writeFileSync(path, 'planted: not the bundle', { mode: 0o600 });
    expect(readFileSync(bundleFile(b, env))).toEqual(b.archive);
    // A link to a file elsewhere, even one holding the right bytes: replaced, the target untouched.
    writeFileSync(join(d, 'elsewhere'), b.archive);
    rmSync(path);
    symlinkSync(join(d, 'elsewhere'), path);
    expect(lstatSync(bundleFile(b, env)).isSymbolicLink()).toBe(false);
    expect(readFileSync(join(d, 'elsewhere'))).toEqual(b.archive);
    // The right bytes, readable by others: written again, private.
    chmodSync(path, 0o644);
    expect(mode(bundleFile(b, env))).toBe('600');
    // The right bytes and mode: used as it is (the same inode).
    const ino = statSync(path).ino;
    expect(statSync(bundleFile(b, env)).ino).toBe(ino);
  });

  it("does not use a cache directory of another user: a private one of this user's instead", (ctx) => {
    const skip = missingRoot();
    if (skip) return ctx.skip(`${skip} (to give the directory to another user)`);
    const d = scratch();
    mkdirSync(join(d, 'anycdn', 'bundles'), { recursive: true, mode: 0o700 });
    chownSync(join(d, 'anycdn'), 65534, 65534);
    // The fallback is per user under the temp directory; this test owns it while it runs.
    const fallback = join(tmpdir(), `anycdn-${process.geteuid!()}`);
    const existed = existsSync(fallback);
    if (!existed) dirs.push(fallback);
    const b = bundle();
    const path = bundleFile(b, { XDG_CACHE_HOME: d });
    expect(path).toBe(join(fallback, 'bundles', `${b.sha256}.tar.gz`));
    expect([mode(fallback), mode(join(fallback, 'bundles')), mode(path)]).toEqual(['700', '700', '600']);
    expect(readdirSync(join(d, 'anycdn', 'bundles'))).toEqual([]);
  });

  it('concurrent writers: a reader sees no file or the whole file, never part of one', { timeout: 300_000 }, async () => {
    const d = scratch();
    const b = bundle(randomBytes(2 * 1024 * 1024));
    writeFileSync(join(d, 'archive'), b.archive);
    const child = join(d, 'child.ts');
    // Each writer removes the file and has bundleFile write it again, 10 times.
    writeFileSync(
      child,
      [
        `import { readFileSync, rmSync } from 'node:fs';`,
        `import { bundleFile } from ${JSON.stringify(join(ROOT, 'lib', 'cloud', 'staging.ts'))};`,
        `const archive = readFileSync(${JSON.stringify(join(d, 'archive'))});`,
        `const b = { site: 'ams', host: 'ams-lb1', files: [], archive, sha256: ${JSON.stringify(b.sha256)} };`,
        `const env = { XDG_CACHE_HOME: ${JSON.stringify(d)} };`,
        `for (let i = 0; i < 10; i++) { rmSync(bundleFile(b, env), { force: true }); bundleFile(b, env); }`,
      ].join('\n'),
    );
    const path = join(d, 'anycdn', 'bundles', `${b.sha256}.tar.gz`);
    let done = 0;
    const writers = [1, 2, 3].map(() => promisify(execFile)(process.execPath, ['--import', 'tsx', child], { cwd: ROOT, timeout: 240_000 }).finally(() => done++));
    const seen = { whole: 0, missing: 0, partial: 0 };
    for (let i = 0; i < 5000 && done < 3; i++) {
      let bytes: Buffer;
      try {
        bytes = readFileSync(path);
      } catch {
        seen.missing++;
        await new Promise((r) => setTimeout(r, 1));
        continue;
      }
      if (createHash('sha256').update(bytes).digest('hex') === b.sha256) seen.whole++;
      else seen.partial++;
      await new Promise((r) => setImmediate(r)); // lets the writers' exits be counted
    }
    await Promise.all(writers);
    expect(seen.partial).toBe(0);
    expect(seen.whole).toBeGreaterThan(0);
    // No temporary file is left behind.
    expect(readdirSync(join(d, 'anycdn', 'bundles'))).toEqual([`${b.sha256}.tar.gz`]);
  });
});

describe('prune', () => {
  const HOUR = 3600_000;
  const limits = { maxAgeMs: 14 * 24 * HOUR, maxTotalBytes: 3000, keepRecentMs: HOUR };

  it('removes bundles unused for the age limit, stale temporary files, strangers and links; then the least recently used over the size limit', () => {
    const d = scratch();
    const now = Date.now();
    const put = (name: string, bytes: number, ageMs: number) => {
      writeFileSync(join(d, name), Buffer.alloc(bytes));
      const t = new Date(now - ageMs);
      utimesSync(join(d, name), t, t);
    };
    const sha = (c: string) => c.repeat(64);
    put(`${sha('a')}.tar.gz`, 1000, 15 * 24 * HOUR); // too old
    put(`${sha('b')}.tar.gz`, 1000, 5 * 24 * HOUR); // least recently used of the rest: goes for size
    put(`${sha('c')}.tar.gz`, 1000, 3 * 24 * HOUR);
    put(`${sha('d')}.tar.gz`, 1000, 2 * HOUR);
    put(`${sha('e')}.tar.gz`, 1000, 60_000); // used a minute ago: kept even over the limit
    put('.0123.tmp', 10, 2 * HOUR); // a crashed writer's
    put('.4567.tmp', 10, 60_000); // a writer at work
    put('notes.txt', 10, 0);
    writeFileSync(join(d, '..', `${d.split('/').pop()}-target`), 'keep');
    dirs.push(join(d, '..', `${d.split('/').pop()}-target`));
    symlinkSync(join(d, '..', `${d.split('/').pop()}-target`), join(d, `${sha('f')}.tar.gz`));
    prune(d, now, limits);
    expect(readdirSync(d).sort()).toEqual(['.4567.tmp', `${sha('c')}.tar.gz`, `${sha('d')}.tar.gz`, `${sha('e')}.tar.gz`].sort());
    expect(readFileSync(join(d, '..', `${d.split('/').pop()}-target`), 'utf8')).toBe('keep');
  });

  it('by default: 14 days unused, 256 MiB in all, never one used within the hour', () => {
    const d = scratch();
    const now = Date.now();
    // Sparse files: their size counts, and they take no disk.
    const put = (c: string, mib: number, ageMs: number) => {
      const path = join(d, `${c.repeat(64)}.tar.gz`);
      writeFileSync(path, '');
      truncateSync(path, mib * 1024 * 1024);
      utimesSync(path, new Date(now - ageMs), new Date(now - ageMs));
    };
    put('a', 1, 15 * 24 * HOUR);
    put('b', 1, 13 * 24 * HOUR);
    put('c', 100, 4 * HOUR);
    put('d', 100, 3 * HOUR);
    put('e', 100, 2 * HOUR);
    prune(d, now);
    // a is too old; then b (least recently used) and c go for size: d and e hold 200 MiB.
    expect(readdirSync(d).sort()).toEqual([`${'d'.repeat(64)}.tar.gz`, `${'e'.repeat(64)}.tar.gz`]);
  });

  it('keeps every bundle used within the hour, even over the size limit', () => {
    const d = scratch();
    for (const c of ['a', 'b', 'c', 'd', 'e']) writeFileSync(join(d, `${c.repeat(64)}.tar.gz`), Buffer.alloc(1000));
    prune(d, Date.now(), limits);
    expect(readdirSync(d)).toHaveLength(5);
  });
});
