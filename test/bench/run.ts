// `npm run bench`: the figures we quote, each beside the baseline a user would otherwise pick,
// measured here and recorded in bench/results.json and bench/RESULTS.md (results.ts).
//   toolkit: render and validate of the shipped, 30 and 300 generated sites with peak memory
//            (growth.ts), a host view over an empty machine and over one with 2,000 extra
//            directories, the offline `cdk synth`;
//   lab (as root): edge hit ratio and origin offload, throughput through the VIP, failover
//            against the common default timers, lab up and the health checker's cost
//            (lab-bench.ts).
// `--full` adds validate of 300 sites and `lab up` of 5 generated sites (minutes more).
// `--lab-lock FILE` holds flock(1) on FILE around the lab part only, on a machine whose lab is shared.
// Nothing here is a test: it prints and records what it measured, targets beside the figures.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { growth } from './growth.ts';
import { labBench, labLock } from './lab-bench.ts';
import { hostViewMs, timeCommand, type Figure } from './measure.ts';
import { Results } from './results.ts';
import { writeSites } from './topology.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const CLI = join(ROOT, 'bin', 'anycdn.js');
const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const full = process.argv.includes('--full');
const lockArg = process.argv.indexOf('--lab-lock');
const labLockFile = lockArg > 0 ? process.argv[lockArg + 1] : undefined;

const scratch = mkdtempSync(join('/tmp', 'anycdn-bench-'));
const res = new Results();
const add = (f: Figure, section = 'toolkit') => res.add({ section, what: f.what, unit: f.unit, anycdn: { n: f.n, trials: [], min: f.min, median: f.median, max: f.max }, ...(f.target ? { target: f.target } : {}) });

try {
  await res.section('toolkit', () => {
    growth(res, CLI, ROOT, scratch, full);
    if (asRoot) {
      const empty = hostViewMs(join(scratch, 'view-empty'), 0, 5);
      const fullView = hostViewMs(join(scratch, 'view-full'), 2000, 5);
      add({ ...empty, what: 'host view, machine with no extra directories' });
      add({ ...fullView, what: 'host view, machine with 2,000 extra directories', target: `about the same as without (${empty.median} ms)` });
    }
    add(timeCommand('cdk synth --no-lookups, offline (unshare -n)', 1, 'unshare', ['-n', 'npx', 'cdk', 'synth', '--no-lookups', '-q', '-o', join(scratch, 'cdk.out')], ROOT));
  });

  if (asRoot) {
    const release = labLockFile ? await labLock(labLockFile) : () => {};
    try {
      await labBench(res, ROOT, scratch);
      if (full) {
        await res.section('lab: 5 generated sites', () => {
          try {
            add(timeCommand('lab up until ready, 5 generated sites', 1, process.execPath, [CLI, 'lab', 'up', '--sites', writeSites(join(scratch, 'sites5'), 5)], ROOT, '<= 20000 ms'), 'lab cost');
          } finally {
            execFileSync(process.execPath, [CLI, 'lab', 'down'], { cwd: ROOT, stdio: 'ignore' });
          }
        });
      }
    } finally {
      release();
    }
  } else res.notes.push('lab and host-view figures skipped: they need root');
  res.write(ROOT, join(ROOT, 'bench'));
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
