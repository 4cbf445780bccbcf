// `npm run bench`: the figures we quote, measured here and recorded in test/.figures/bench.json.
//   toolkit: render and validate of the shipped sites and of 30 generated ones, a host view over
//            an empty machine and over one with 2,000 extra directories, the offline `cdk synth`;
//   lab (as root): `lab up` until ready for the shipped sites and a generated 5-site topology,
//            and the health checker's CPU and memory over 60 s, read from /proc/<pid>/stat;
//   and the lab scenarios' figures from their last run (test/.figures/lab.json).
// Nothing here is a test: it prints and records what it measured, targets beside the figures.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { checkerUsage, hostViewMs, timeCommand, type Figure } from './measure.ts';
import { writeSites } from './topology.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const OUT = join(ROOT, 'test', '.figures', 'bench.json');
const CLI = join(ROOT, 'bin', 'anycdn.js');
const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;

const scratch = mkdtempSync(join('/tmp', 'anycdn-bench-'));
const figures: Figure[] = [];
const add = (f: Figure) => {
  figures.push(f);
  console.log(`${f.what.padEnd(64)} ${f.median}${f.unit} (min ${f.min}, max ${f.max}, n=${f.n})${f.target ? `  target ${f.target}` : ''}`);
};

try {
  const sites30 = writeSites(join(scratch, 'sites30'), 30);
  const sites5 = writeSites(join(scratch, 'sites5'), 5);
  add(timeCommand('render, shipped sites (whole CLI)', 5, process.execPath, [CLI, 'render', '--out', join(scratch, 'out')], ROOT));
  add(timeCommand('validate, shipped sites (every checker)', 3, process.execPath, [CLI, 'validate'], ROOT, '<= 3000 ms'));
  add(timeCommand('validate, 30 generated sites', 1, process.execPath, [CLI, 'validate', '--sites', sites30], ROOT, '<= 30000 ms'));
  if (asRoot) {
    const empty = hostViewMs(join(scratch, 'view-empty'), 0, 5);
    const full = hostViewMs(join(scratch, 'view-full'), 2000, 5);
    add({ ...empty, what: 'host view, machine with no extra directories' });
    add({ ...full, what: 'host view, machine with 2,000 extra directories', target: `about the same as without (${empty.median} ms)` });
  }
  add(timeCommand('cdk synth --no-lookups, offline (unshare -n)', 1, 'unshare', ['-n', 'npx', 'cdk', 'synth', '--no-lookups', '-q', '-o', join(scratch, 'cdk.out')], ROOT));

  if (asRoot) {
    if (existsSync('/var/tmp/anycdn-lab')) throw new Error('bench: a lab is up; run `npx anycdn lab down` first');
    const up = (what: string, sites: string, target: string) => {
      try {
        return timeCommand(what, 1, process.execPath, [CLI, 'lab', 'up', '--sites', sites], ROOT, target);
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
    add(up('lab up until ready, 5 generated sites', sites5, '<= 20000 ms'));
    execFileSync(process.execPath, [CLI, 'lab', 'down'], { cwd: ROOT, stdio: 'ignore' });
  } else console.log('lab and host-view figures: skipped (they need root)');

  const labFile = join(ROOT, 'test', '.figures', 'lab.json');
  const lab = existsSync(labFile) ? (JSON.parse(readFileSync(labFile, 'utf8')) as { measuredAt: string; figures: { scenario: string; metric: string; min: number; median: number; max: number; unit: string; target: string }[] }) : undefined;
  if (lab) {
    console.log(`\nlab scenario figures from ${lab.measuredAt} (npm run test:lab):`);
    for (const f of lab.figures) console.log(`  ${f.scenario.padEnd(30)} ${f.metric.padEnd(60)} ${f.min}/${f.median}/${f.max} ${f.unit} (target ${f.target})`);
  } else console.log('lab scenario figures: none yet (run `npm run test:lab` as root)');

  const record = { measuredAt: new Date().toISOString(), machine: { cpus: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version }, figures, lab };
  mkdirSync(join(OUT, '..'), { recursive: true });
  writeFileSync(OUT, `${JSON.stringify(record, null, 2)}\n`);
  console.log(`recorded in ${OUT}`);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
