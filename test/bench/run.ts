// `npm run bench [-- GROUP...] [--full] [--lab-lock FILE]`: the figures we quote, each beside the
// baseline a user would otherwise pick where there is one, measured in the same run and recorded
// in bench/results.json and bench/RESULTS.md (results.ts). Groups (all by default):
//   cli:      `anycdn --help` against `node -e 0` in the same run, `--version`;
//   toolkit:  render and validate of the shipped, 30 and 300 generated sites with peak memory
//             (growth.ts); 300 sites on disk against `cp -r` of the same tree on the same disk,
//             and with --out on tmpfs; render refusing a file of 60,000 unknown keys;
//   synth:    the offline `cdk synth` against a bare CDK app with the same resources
//             (bare-cdk-app.ts), both compiled, both through the cdk CLI;
//   hostview: (root) a host view over an empty machine and one with 2,000 extra directories;
//   lab:      (root) edge hit ratio and origin offload, hash-balance-factor against none,
//             throughput through the VIP, failover against the common default timers, lab up
//             and the health checker's cost (lab-bench.ts);
//   balance:  (root) only the hash-balance-factor trials, in their own lab (balance.ts); part of
//             lab, so it runs on its own only when asked for without lab;
//   throughput: (root) only the wrk runs through the VIP against the cache directly, in their own
//             lab (throughput.ts); part of lab, likewise.
//   transform: derived images per CPU second, libvips (anycdn-thumbnailer) against image_filter and
//             vipsthumbnail, per source, width and format, with the bytes (transform.ts).
//   ring:     (root) images moved between caches that stay when a cache is removed or added, through
//             a real haproxy, against the backend numbered by position (ring.ts).
// `--full` adds validate of 300 sites and `lab up` of 5 generated sites (minutes more).
// `--lab-lock FILE` holds flock(1) on FILE around the lab part only, on a machine whose lab is shared.
// It compiles dist/ first: the CLI measured is the compiled one.
// Nothing here is a test: it prints and records what it measured, targets beside the figures.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { buildDist, CDK_APP_BUILD } from '../../bin/build.ts';
import { growth, timeCli } from './growth.ts';
import { labBench, labLock, shippedLabPart } from './lab-bench.ts';
import { hostViewMs, timeCommand, type Figure, type TimeOptions } from './measure.ts';
import { Results, stats, type Stats } from './results.ts';
import { ringBench } from './ring.ts';
import { writeSites, writeUnknownKeys } from './topology.ts';
import { transformBench } from './transform.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const CLI = join(ROOT, 'bin', 'anycdn.js');
const CDK = join(ROOT, 'node_modules', '.bin', 'cdk');
const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;

const GROUPS = ['cli', 'toolkit', 'synth', 'hostview', 'lab', 'balance', 'throughput', 'transform', 'ring'] as const;
type Group = (typeof GROUPS)[number];
const args = process.argv.slice(2);
const full = args.includes('--full');
const lockArg = args.indexOf('--lab-lock');
const labLockFile = lockArg >= 0 ? args[lockArg + 1] : undefined;
const asked = args.filter((a, i) => !a.startsWith('--') && (lockArg < 0 || i !== lockArg + 1));
const unknown = asked.filter((g) => !(GROUPS as readonly string[]).includes(g));
if (unknown.length > 0) throw new Error(`bench: unknown group ${unknown.join(', ')}; groups: ${GROUPS.join(', ')}`);
const want = (g: Group) => asked.length === 0 || asked.includes(g);

// TMPDIR if set (a shared machine's /tmp is not the bench's), else the system's.
const scratch = mkdtempSync(join(tmpdir(), 'anycdn-bench-'));
const shm = existsSync('/dev/shm') ? mkdtempSync(join('/dev/shm', 'anycdn-bench-')) : undefined;
const res = new Results();
const asStats = (f: Figure): Stats => ({ n: f.n, trials: [], min: f.min, median: f.median, max: f.max });
const add = (section: string, f: Figure) => {
  res.add({ section, what: f.what, unit: f.unit, anycdn: asStats(f), ...(f.target ? { target: f.target } : {}) });
  return f;
};
/** `ours` beside `base`, measured in the same run; the ratio of the medians. */
const compare = (section: string, ours: Figure, base: Figure, target?: string) =>
  res.add({
    section,
    what: ours.what,
    unit: ours.unit,
    anycdn: asStats(ours),
    baseline: { ...asStats(base), what: base.what },
    ratio: ours.median / base.median,
    ...(target ? { target } : {}),
  });
const cli = (what: string, runs: number, argv: string[], opts: TimeOptions = {}) => timeCommand(what, runs, process.execPath, [CLI, ...argv], ROOT, { quiet: true, ...opts });

try {
  await buildDist();

  if (want('cli'))
    await res.section('cli', () => {
      const node = timeCommand('node -e 0 (the floor)', 10, process.execPath, ['-e', '0'], ROOT);
      compare('cli', cli('anycdn --help', 10, ['--help'], { target: '<= 300 ms, and <= 3× node -e 0' }), node, '<= 3×');
      add('cli', cli('anycdn --version', 10, ['--version']));
    });

  if (want('toolkit'))
    await res.section('toolkit', () => {
      const { sites300 } = growth(res, CLI, ROOT, scratch, full && asRoot, asRoot);
      const out300 = join(scratch, 'out300');
      const copy = join(scratch, 'copy300');
      const fresh = (dir: string) => () => rmSync(dir, { recursive: true, force: true });
      // One set of runs for both figures: the render of 300 sites (time, peak memory) is this one.
      const r = timeCli(CLI, ['render', '--sites', sites300, '--out', out300], 3, ROOT, scratch, fresh(out300));
      const disk: Figure = { what: 'render, 300 generated sites, --out on disk', unit: ' ms', ...stats(r.ms) };
      res.add({ section: 'toolkit', what: 'render, 300 generated sites, --out on disk: peak memory', unit: ' MiB', anycdn: stats(r.mib) });
      const cp = timeCommand('cp -r of that output tree, same disk', 3, 'cp', ['-r', out300, copy], ROOT, { before: fresh(copy) });
      compare('toolkit', disk, cp, '<= 1.5×');
      if (shm) add('toolkit', cli('render, 300 generated sites, --out on tmpfs', 3, ['render', '--sites', sites300, '--out', join(shm, 'out')], { before: fresh(join(shm, 'out')), target: '<= 5000 ms' }));
      // Issue 24: 60,000 unknown keys took 249 s (a scan per key); now linear, 100 lines printed.
      const unknown = writeUnknownKeys(join(scratch, 'unknown-keys'), 60_000);
      add('toolkit', cli('render refusing a site file with 60,000 unknown keys (0.9 MB)', 3, ['render', '--sites', unknown, '--out', join(scratch, 'out-unknown')], {
        quiet: false,
        status: 1,
        stderrEnds: 'and 59900 more\n60000 errors\n',
        target: '<= 5000 ms',
      }));
      rmSync(out300, { recursive: true, force: true });
      rmSync(copy, { recursive: true, force: true });
    });

  if (want('synth'))
    await res.section('synth', async () => {
      const ours = join(scratch, 'cdk.out');
      // CDK_VALIDATION: the cdk CLI reads an empty value as false and passes CDK_VALIDATION=false
      // to the app, so each run says which it means.
      const offline = (what: string, app: string[], out: string, env: NodeJS.ProcessEnv) =>
        timeCommand(what, 1, 'unshare', ['-n', CDK, 'synth', ...app, '--no-lookups', '-q', '-o', out], ROOT, { env: { ...process.env, CI: '', ...env } });
      /** `runs` runs of each, alternating, so a change of load falls on both sides alike. */
      const alternating = (runs: number, sides: (() => Figure)[]): Figure[] => {
        const got = sides.map(() => [] as Figure[]);
        for (let i = 0; i < runs; i++) sides.forEach((side, j) => got[j]!.push(side()));
        return got.map((figs) => ({ ...figs[0]!, ...stats(figs.map((f) => f.median)) }));
      };
      const plainSynth = 'cdk synth --no-lookups, offline (unshare -n)';
      offline(plainSynth, [], ours, { CDK_VALIDATION: 'false' }); // its templates are the bare app's input
      // Inside the repository, where its external packages resolve; compiled as anycdn's app is.
      const bareApp = join(ROOT, 'test', `.build-bench-${process.pid}.cjs`);
      await build({ ...CDK_APP_BUILD, entryPoints: [join(ROOT, 'test', 'bench', 'bare-cdk-app.ts')], packages: 'external', outfile: bareApp, absWorkingDir: ROOT });
      try {
        const bare = ['--app', `node ${bareApp}`];
        // Ours as an operator runs it (anycdn's default outside CI: no built-in validation, see
        // lib/cdk/context.ts) against the bare app as its author would get it (aws-cdk-lib's
        // defaults, the built-in validation on), and against the bare app with it off too.
        const [synth, bareDefaults, plain] = alternating(3, [
          () => offline(plainSynth, [], join(scratch, 'ours.out'), { CDK_VALIDATION: undefined }),
          () => offline('a bare CDK app with the same resources and aws-cdk-lib\'s defaults (the built-in validation on)', bare, join(scratch, 'bare-defaults.out'), { BARE_TEMPLATES: ours, CDK_VALIDATION: undefined }),
          () => offline('the bare app without the built-in validation, as anycdn\'s plain synth', bare, join(scratch, 'bare.out'), { BARE_TEMPLATES: ours, CDK_VALIDATION: 'false' }),
        ]);
        compare('synth', synth!, bareDefaults!, '<= 1.0×');
        compare('synth', synth!, plain!);
        const [ci] = alternating(1, [() => offline('cdk synth as in CI (CI=true: the built-in validation and cdk-nag)', [], join(scratch, 'ci.out'), { CI: 'true', CDK_VALIDATION: 'true' })]);
        compare('synth', ci!, bareDefaults!);
      } finally {
        rmSync(bareApp, { force: true });
      }
    });

  if (want('ring') && asRoot) await res.section('ring', () => ringBench(res));

  if (want('hostview') && asRoot)
    await res.section('hostview', () => {
      const empty = hostViewMs(join(scratch, 'view-empty'), 0, 5);
      const fullView = hostViewMs(join(scratch, 'view-full'), 2000, 5);
      compare('hostview', { ...fullView, what: 'host views, machine with 2,000 extra directories' }, { ...empty, what: 'machine with no extra directories' }, 'about 1×');
    });

  if (want('lab') && asRoot) {
    const release = labLockFile ? await labLock(labLockFile) : () => {};
    try {
      await labBench(res, ROOT, scratch);
      if (full) {
        await res.section('lab: 5 generated sites', () => {
          try {
            add('lab cost', timeCommand('lab up until ready, 5 generated sites', 1, process.execPath, [CLI, 'lab', 'up', '--sites', writeSites(join(scratch, 'sites5'), 5)], ROOT, '<= 20000 ms'));
          } finally {
            execFileSync(process.execPath, [CLI, 'lab', 'down'], { cwd: ROOT, stdio: 'ignore' });
          }
        });
      }
    } finally {
      release();
    }
  }
  for (const part of ['balance', 'throughput'] as const) {
    if (!asked.includes(part) || want('lab') || !asRoot) continue;
    const release = labLockFile ? await labLock(labLockFile) : () => {};
    try {
      await shippedLabPart(res, ROOT, part);
    } finally {
      release();
    }
  }
  if (want('transform')) {
    // CPU-bound: under the lab lock, so it neither skews nor is skewed by a lab run of others.
    const release = labLockFile ? await labLock(labLockFile) : () => {};
    try {
      await res.section('transform', () => transformBench(res, ROOT, scratch));
    } finally {
      release();
    }
  }
  if (!asRoot) res.notes.push('validate, host-view and lab figures skipped: they need root');
  res.write(ROOT, join(ROOT, 'bench'));
} finally {
  rmSync(scratch, { recursive: true, force: true });
  if (shm) rmSync(shm, { recursive: true, force: true });
}
