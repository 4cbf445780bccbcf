// The compiled CLI (bin/build.ts -> dist/, run by bin/launch.js): what it loads, that it renders
// exactly what the source renders, and that the launcher never runs a stale or missing bundle.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDist } from '../../bin/build.ts';
import { loadTopology } from '../../lib/model/load.ts';
import { outputPath, renderTopology } from '../../lib/render/index.ts';
import { SITES_DIR } from '../helpers/topology.ts';

const ROOT = join(import.meta.dirname, '..', '..');
// Inside the package (the bundle finds package.json and node_modules above it), not in dist/,
// which a developer's `npx anycdn` may be using.
const DIST = join(ROOT, 'test', `.build-${process.pid}`);
const HEAVY = /^(aws-cdk-lib|constructs|cdk-nag|@aws-cdk\/|@pulumi\/)/;

interface Meta {
  outputs: Record<string, { imports: { path: string; kind: string; external?: boolean }[] }>;
}

beforeAll(async () => {
  await buildDist(DIST);
});
afterAll(() => rmSync(DIST, { recursive: true, force: true }));

/** Every external module an output file can load, following its static and dynamic imports. */
function externalsReachable(meta: Meta, entry: string, dynamic = true): string[] {
  const seen = new Set<string>();
  const ext = new Set<string>();
  const visit = (out: string) => {
    if (seen.has(out)) return;
    seen.add(out);
    for (const i of meta.outputs[out]?.imports ?? []) {
      if (!dynamic && i.kind === 'dynamic-import') continue;
      if (i.external) ext.add(i.path);
      else visit(i.path);
    }
  };
  visit(entry);
  return [...ext].sort();
}

describe('the bundle', () => {
  it('loads aws-cdk-lib, constructs, cdk-nag or Pulumi only for plan (it synthesizes the stacks to diff them) and in the CDK app', () => {
    const meta = JSON.parse(readFileSync(join(DIST, 'meta.json'), 'utf8')) as Meta;
    const rel = (f: string) => join('test', `.build-${process.pid}`, f);
    const entry = rel('anycdn.js');
    const start = externalsReachable(meta, entry, false);
    // commander, zod, yaml and ipaddr.js are bundled in: only Node's own modules are left.
    expect(start.filter((m) => !m.startsWith('node:') && !builtinModules.includes(m))).toEqual([]);
    const heavyBy = meta.outputs[entry]!.imports
      .filter((i) => i.kind === 'dynamic-import')
      .map((i) => [i.path.replace(/^.*\/|-[A-Z0-9]+\.js$/g, ''), externalsReachable(meta, i.path).some((m) => HEAVY.test(m))] as const);
    expect(heavyBy.filter(([, heavy]) => heavy).map(([command]) => command)).toEqual(['plan']);
    expect(externalsReachable(meta, rel('cdk.cjs')).filter((m) => HEAVY.test(m))).toContain('aws-cdk-lib');
  });

  it('loads only the command it runs: --help reads no model, renderer or checker module', () => {
    const meta = JSON.parse(readFileSync(join(DIST, 'meta.json'), 'utf8')) as Meta;
    const entry = join('test', `.build-${process.pid}`, 'anycdn.js');
    const staticOnly = meta.outputs[entry]!.imports.filter((i) => i.kind === 'import-statement' && !i.external).map((i) => i.path);
    const lazy = meta.outputs[entry]!.imports.filter((i) => i.kind === 'dynamic-import').map((i) => i.path.replace(/^.*\/|-[A-Z0-9]+\.js$/g, ''));
    expect(lazy.sort()).toEqual(['drain', 'graph', 'lab', 'lab', 'lab', 'plan', 'render', 'validate']);
    expect(staticOnly.every((p) => !/\/(render|validate|lab|plan|graph|drain)-/.test(p))).toBe(true);
  });

  it('renders byte for byte what the TypeScript source renders', () => {
    const out = mkdtempSync(join(tmpdir(), 'anycdn-compiled-'));
    try {
      const r = spawnSync(process.execPath, [join(DIST, 'anycdn.js'), 'render', '--sites', SITES_DIR, '--out', join(out, 'o')], { encoding: 'utf8' });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const files = renderTopology(loadTopology(SITES_DIR));
      const written = readdirSync(join(out, 'o'), { recursive: true, withFileTypes: true }).filter((e) => e.isFile() && !e.parentPath.startsWith(join(out, 'o', '.anycdn')) && !e.parentPath.startsWith(join(out, 'o', 'routing')));
      expect(written).toHaveLength(files.length);
      for (const f of files) expect(readFileSync(join(out, 'o', outputPath(f)), 'utf8'), outputPath(f)).toBe(f.content);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});

describe('a reader that stops early', () => {
  it('gets the command\'s own exit code and nothing on stderr, not an EPIPE stack trace (`anycdn plan | head`)', { timeout: 120_000 }, () => {
    const d = mkdtempSync(join(tmpdir(), 'anycdn-epipe-'));
    try {
      cpSync(SITES_DIR, join(d, 'sites'), { recursive: true });
      const cli = [process.execPath, join(DIST, 'anycdn.js')];
      expect(spawnSync(cli[0]!, [cli[1]!, 'render', '--sites', join(d, 'sites'), '--out', join(d, 'out')]).status).toBe(0);
      const cdn = join(d, 'sites', 'cdn.yaml');
      writeFileSync(cdn, readFileSync(cdn, 'utf8').replace('ttlSec: 60', 'ttlSec: 120'));
      // `true` has exited long before node writes its first line: every write meets a closed pipe.
      const script = `"$0" "$1" plan --sites "$2" --out "$3" --no-cloud --exit-code | true; echo "status \${PIPESTATUS[0]}"`;
      const r = spawnSync('bash', ['-c', script, ...cli, join(d, 'sites'), join(d, 'out')], { encoding: 'utf8' });
      expect({ stdout: r.stdout, stderr: r.stderr }).toEqual({ stdout: 'status 2\n', stderr: '' });
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
});

describe('bin/launch.js', () => {
  /** A package with the launcher, a source entry and a compiled one that say which they are. */
  function pkg(): string {
    const dir = mkdtempSync(join(tmpdir(), 'anycdn-launch-'));
    mkdirSync(join(dir, 'bin'));
    mkdirSync(join(dir, 'dist'));
    cpSync(join(ROOT, 'bin', 'launch.js'), join(dir, 'bin', 'launch.js'));
    cpSync(join(ROOT, 'bin', 'compile-cache.js'), join(dir, 'bin', 'compile-cache.js'));
    writeFileSync(join(dir, 'package.json'), '{"type": "module"}\n');
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
    writeFileSync(join(dir, 'bin', 'x.js'), "import { launch } from './launch.js';\nawait launch('x');\n");
    writeFileSync(join(dir, 'bin', 'x.ts'), "const from: string = 'source';\nconsole.log(from);\n");
    writeFileSync(join(dir, 'dist', 'x.js'), "console.log('compiled');\n");
    writeFileSync(join(dir, 'dist', 'meta.json'), JSON.stringify({ inputs: { 'bin/x.ts': {}, 'node_modules/y/index.js': {} } }));
    const past = new Date(Date.now() - 60_000);
    utimesSync(join(dir, 'bin', 'x.ts'), past, past);
    return dir;
  }
  const launch = (dir: string) => spawnSync(process.execPath, [join(dir, 'bin', 'x.js')], { encoding: 'utf8' });

  it('runs dist/ when it is newer than every source it was built from', () => {
    const dir = pkg();
    try {
      expect(launch(dir)).toMatchObject({ status: 0, stdout: 'compiled\n', stderr: '' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('runs the source through tsx, and says why, when a source is newer or dist/ is missing', () => {
    const dir = pkg();
    try {
      const future = new Date(Date.now() + 60_000);
      utimesSync(join(dir, 'bin', 'x.ts'), future, future);
      expect(launch(dir)).toMatchObject({ status: 0, stdout: 'source\n', stderr: 'x: dist/ is older than bin/x.ts; running the TypeScript source through tsx (`npm run build` makes it start fast)\n' });
      rmSync(join(dir, 'dist'), { recursive: true });
      expect(launch(dir)).toMatchObject({ status: 0, stdout: 'source\n', stderr: 'x: dist/ is missing; running the TypeScript source through tsx (`npm run build` makes it start fast)\n' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('npm run build', () => {
  it('is what npm ci runs (prepare), and cdk.json runs the compiled CDK app', () => {
    const pkgJson = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string>; dependencies: Record<string, string> };
    expect(pkgJson.scripts.prepare).toBe('npm run build');
    expect(pkgJson.scripts.build).toBe('tsx bin/build.ts');
    expect(pkgJson.dependencies.esbuild).toBeDefined();
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dependencies?: Record<string, string>; version?: string }> };
    expect(lock.packages['']!.dependencies!.esbuild).toBe(pkgJson.dependencies.esbuild);
    expect((JSON.parse(readFileSync(join(ROOT, 'cdk.json'), 'utf8')) as { app: string }).app).toBe('node bin/cdk.js');
    expect(execFileSync(process.execPath, ['-e', "import('esbuild').then((m) => console.log(m.version))"], { cwd: ROOT, encoding: 'utf8' }).trim()).toBe(lock.packages['node_modules/esbuild']!.version);
  });
});
