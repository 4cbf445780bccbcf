// `npm run bench [-- GROUP...]`: the figures we quote, measured here and recorded in
// test/.figures/bench.json. Groups (all by default):
//   cli:      `anycdn --help` against `node -e 0` in the same run, `--version`;
//   render:   the shipped sites; 300 generated sites on disk against `cp -r` of the same tree on
//             the same disk, and with --out on tmpfs (/dev/shm);
//   validate: the shipped sites and 30 generated ones;
//   synth:    the offline `cdk synth` against a bare CDK app with the same resources
//             (test/bench/bare-cdk-app.ts), both compiled, both through the cdk CLI;
//   hostview: (root) a host view over an empty machine and one with 2,000 extra directories;
//   lab:      (root) `lab up` until ready, the health checker's CPU and memory over 60 s;
//   and the lab scenarios' figures from their last run (test/.figures/lab.json).
// It compiles dist/ first (the CLI measured is the compiled one) and records the load average
// before and after: on a shared machine, read the figures with it.
// Nothing here is a test: it prints and records what it measured, targets beside the figures.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { buildDist } from '../../bin/build.ts';
import { checkerUsage, hostViewMs, ratio, timeCommand, type Figure } from './measure.ts';
import { writeSites } from './topology.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const OUT = join(ROOT, 'test', '.figures', 'bench.json');
const CLI = join(ROOT, 'bin', 'anycdn.js');
const CDK = join(ROOT, 'node_modules', '.bin', 'cdk');
const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const GROUPS = ['cli', 'render', 'validate', 'synth', 'hostview', 'lab'] as const;
const asked = process.argv.slice(2);
const unknown = asked.filter((g) => !(GROUPS as readonly string[]).includes(g));
if (unknown.length > 0) throw new Error(`bench: unknown group ${unknown.join(', ')}; groups: ${GROUPS.join(', ')}`);
const want = (g: (typeof GROUPS)[number]) => asked.length === 0 || asked.includes(g);

// On disk, beside the repository's own disk use; tmpfs for the --out-on-tmpfs figure.
const scratch = mkdtempSync(join('/tmp', 'anycdn-bench-'));
const shm = existsSync('/dev/shm') ? mkdtempSync(join('/dev/shm', 'anycdn-bench-')) : undefined;
const figures: Figure[] = [];
const add = (f: Figure) => {
  figures.push(f);
  console.log(`${f.what.padEnd(72)} ${f.median}${f.unit} (min ${f.min}, max ${f.max}, n=${f.n})${f.target ? `  target ${f.target}` : ''}`);
  return f;
};
const load = () => loadavg().map((x) => Math.round(x * 100) / 100);
const loadBefore = load();
console.log(`load average before: ${loadBefore.join(' ')} (${cpus().length} cores)`);
const cli = (what: string, runs: number, args: string[], opts: Parameters<typeof timeCommand>[5] & object = {}) =>
  timeCommand(what, runs, process.execPath, [CLI, ...args], ROOT, { quiet: true, ...opts });

try {
  await buildDist();

  if (want('cli')) {
    const node = add(timeCommand('node -e 0 (the floor)', 10, process.execPath, ['-e', '0'], ROOT));
    const help = add(cli('anycdn --help', 10, ['--help'], { target: '<= 300 ms' }));
    add(ratio('anycdn --help / node -e 0', help, node, '<= 3×'));
    add(cli('anycdn --version', 10, ['--version']));
  }

  if (want('render')) {
    add(cli('render, shipped sites (whole CLI)', 5, ['render', '--out', join(scratch, 'out')], { target: '<= 500 ms' }));
    const sites300 = writeSites(join(scratch, 'sites300'), 300);
    const out300 = join(scratch, 'out300');
    const copy = join(scratch, 'copy300');
    const fresh = (dir: string) => () => rmSync(dir, { recursive: true, force: true });
    const disk = add(cli('render, 300 generated sites, --out on disk', 3, ['render', '--sites', sites300, '--out', out300], { before: fresh(out300) }));
    const cp = add(timeCommand('cp -r of that output tree, same disk', 3, 'cp', ['-r', out300, copy], ROOT, { before: fresh(copy) }));
    add(ratio('render 300 sites / cp -r of its tree', disk, cp, '<= 1.5×'));
    if (shm) add(cli('render, 300 generated sites, --out on tmpfs', 3, ['render', '--sites', sites300, '--out', join(shm, 'out')], { before: fresh(join(shm, 'out')), target: '<= 5000 ms' }));
    rmSync(out300, { recursive: true, force: true });
    rmSync(copy, { recursive: true, force: true });
  }

  if (want('validate')) {
    if (!asRoot) console.log('validate figures: skipped (validate needs root)');
    else {
      add(cli('validate, shipped sites (every checker)', 3, ['validate'], { target: '<= 3000 ms', quiet: false }));
      add(cli('validate, 30 generated sites', 1, ['validate', '--sites', writeSites(join(scratch, 'sites30'), 30)], { target: '<= 30000 ms', quiet: false }));
    }
  }

  if (want('synth')) {
    const ours = join(scratch, 'cdk.out');
    const offline = (what: string, app: string[], out: string, env: NodeJS.ProcessEnv = {}) =>
      add(timeCommand(what, 1, 'unshare', ['-n', CDK, 'synth', ...app, '--no-lookups', '-q', '-o', out], ROOT, { env: { ...process.env, CI: '', CDK_VALIDATION: '', ...env } }));
    const synth = offline('cdk synth --no-lookups, offline (unshare -n): anycdn', [], ours);
    // Inside the repository, where its external packages resolve.
    const bareApp = join(ROOT, 'test', `.build-bench-${process.pid}.js`);
    await build({ entryPoints: [join(ROOT, 'test', 'bench', 'bare-cdk-app.ts')], bundle: true, format: 'esm', platform: 'node', packages: 'external', outfile: bareApp, logLevel: 'warning', absWorkingDir: ROOT });
    try {
      const plain = offline('the same resources in a bare CDK app (aws-cdk-lib defaults)', ['--app', `node ${bareApp}`], join(scratch, 'bare.out'), { BARE_TEMPLATES: ours });
      add(ratio('cdk synth: anycdn / bare app', synth, plain, '<= 1.0×'));
      const noVal = offline('the bare app without the built-in validation (CDK_VALIDATION=false)', ['--app', `node ${bareApp}`], join(scratch, 'bare2.out'), { BARE_TEMPLATES: ours, CDK_VALIDATION: 'false' });
      add(ratio('cdk synth: anycdn / bare app, both without the validation', synth, noVal));
      offline('cdk synth as in CI (CI=true: with the built-in validation)', [], join(scratch, 'ci.out'), { CI: 'true' });
    } finally {
      rmSync(bareApp, { force: true });
    }
  }

  if (want('hostview') && asRoot) {
    const empty = hostViewMs(join(scratch, 'view-empty'), 0, 5);
    const full = hostViewMs(join(scratch, 'view-full'), 2000, 5);
    add({ ...empty, what: 'host view, machine with no extra directories' });
    add({ ...full, what: 'host view, machine with 2,000 extra directories', target: `about the same as without (${empty.median} ms)` });
  }

  if (want('lab') && asRoot) {
    if (existsSync('/var/tmp/anycdn-lab')) throw new Error('bench: a lab is up; run `npx anycdn lab down` first');
    const up = (what: string, sites: string, target: string) => {
      try {
        return cli(what, 1, ['lab', 'up', '--sites', sites], { target, quiet: false });
      } catch (e) {
        execFileSync(process.execPath, [CLI, 'lab', 'down'], { cwd: ROOT, stdio: 'ignore' });
        throw e;
      }
    };
    add(up('lab up until ready, shipped sites (3)', join(ROOT, 'sites'), '<= 10000 ms'));
    try {
      const usage = await checkerUsage(60_000);
      add({ what: 'health checker CPU, % of one core over 60 s (worst host)', unit: '%', ...usage.cpu, target: '<= 1 %' });
      add({ what: 'health checker resident memory (worst host)', unit: ' MiB', ...usage.rssMiB });
    } finally {
      execFileSync(process.execPath, [CLI, 'lab', 'down'], { cwd: ROOT, stdio: 'ignore' });
    }
    add(up('lab up until ready, 5 generated sites', writeSites(join(scratch, 'sites5'), 5), '<= 20000 ms'));
    execFileSync(process.execPath, [CLI, 'lab', 'down'], { cwd: ROOT, stdio: 'ignore' });
  } else if (!asRoot) console.log('lab and host-view figures: skipped (they need root)');

  const labFile = join(ROOT, 'test', '.figures', 'lab.json');
  const lab = existsSync(labFile) ? (JSON.parse(readFileSync(labFile, 'utf8')) as { measuredAt: string; figures: { scenario: string; metric: string; min: number; median: number; max: number; unit: string; target: string }[] }) : undefined;
  if (lab) {
    console.log(`\nlab scenario figures from ${lab.measuredAt} (npm run test:lab):`);
    for (const f of lab.figures) console.log(`  ${f.scenario.padEnd(30)} ${f.metric.padEnd(60)} ${f.min}/${f.median}/${f.max} ${f.unit} (target ${f.target})`);
  } else console.log('lab scenario figures: none yet (run `npm run test:lab` as root)');

  const loadAfter = load();
  console.log(`load average after: ${loadAfter.join(' ')}`);
  const record = {
    measuredAt: new Date().toISOString(),
    groups: asked.length > 0 ? asked : [...GROUPS],
    machine: { cpus: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, loadBefore, loadAfter },
    figures,
    lab,
  };
  mkdirSync(join(OUT, '..'), { recursive: true });
  writeFileSync(OUT, `${JSON.stringify(record, null, 2)}\n`);
  console.log(`recorded in ${OUT}`);
} finally {
  rmSync(scratch, { recursive: true, force: true });
  if (shm) rmSync(shm, { recursive: true, force: true });
}
