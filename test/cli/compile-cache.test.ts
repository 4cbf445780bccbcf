// bin/compile-cache.js, the V8 code cache the CDK app starts with (bin/launch.js): a second start
// reads every module back from it, an edited module is compiled afresh (never a stale entry), and
// modules behave as Node's own compile makes them (require, require.resolve, errors, import()).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const CACHE_JS = pathToFileURL(join(import.meta.dirname, '..', '..', 'bin', 'compile-cache.js')).href;
const dir = mkdtempSync(join(tmpdir(), 'anycdn-compile-cache-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cache = join(dir, 'cache');
const mod = join(dir, 'mod');
writeFileSync(join(dir, 'package.json'), '{}');
const files = {
  'mod/a.cjs': "const b = require('./b.cjs'); module.exports = { value: b.value + 1, resolved: require.resolve('./b.cjs'), paths: Array.isArray(require.resolve.paths('x')), cached: require.cache[require.resolve('./b.cjs')] !== undefined, dyn: require('./c.cjs') };",
  // Dynamic import: compiled by Node, never from the cache (see compile-cache.js).
  'mod/c.cjs': "module.exports = () => import('node:path').then((p) => typeof p.join);",
  'mod/b.cjs': 'exports.value = 41;',
  'mod/bad.cjs': 'module.exports = ;',
};
mkdirSync(mod);
for (const [f, text] of Object.entries(files)) writeFileSync(join(dir, f), text);

/** Runs a module through the cache in a fresh process; prints what it exports. */
function run(entry: string): { stdout: string; stderr: string; status: number | null } {
  const script = `import { enableCompileCache } from ${JSON.stringify(CACHE_JS)}; import { createRequire } from 'node:module';
enableCompileCache(${JSON.stringify(cache)});
const m = createRequire(${JSON.stringify(join(dir, 'x.cjs'))})(${JSON.stringify(entry)});
console.log(JSON.stringify({ value: m.value, resolved: m.resolved, paths: m.paths, cached: m.cached, dyn: await m.dyn() }));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
  return { stdout: r.stdout, stderr: r.stderr, status: r.status };
}

const entries = () => readdirSync(cache).filter((f) => !f.endsWith('.tmp')).sort();
/** Each entry with its inode: a rewrite (a temporary file renamed over it) changes the inode. */
const identities = () => entries().map((f) => `${f} ${statSync(join(cache, f)).ino}`);

describe('the compile cache', () => {
  it('compiles modules as Node does, and writes one entry per module without a dynamic import', () => {
    const r = run('./mod/a.cjs');
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ value: 42, resolved: join(mod, 'b.cjs'), paths: true, cached: true, dyn: 'function' });
    expect(entries()).toHaveLength(2);
  });

  it('reads them back on the next start and writes nothing, not even the same entries again', () => {
    const before = identities();
    const r = run('./mod/a.cjs');
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).value).toBe(42);
    expect(identities()).toEqual(before);
  });

  it('compiles an edited module afresh instead of reading its old entry', () => {
    const before = entries();
    writeFileSync(join(mod, 'b.cjs'), 'exports.value = 99;');
    const r = run('./mod/a.cjs');
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).value).toBe(100);
    expect(entries()).toHaveLength(before.length + 1);
  });

  it('leaves a syntax error to Node, which reports the file', () => {
    const r = run('./mod/bad.cjs');
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(join(mod, 'bad.cjs'));
    expect(r.stderr).toContain('SyntaxError');
  });
});
