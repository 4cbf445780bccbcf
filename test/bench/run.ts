// `npm run bench`: the figures we quote, measured here and recorded in test/.figures/bench.json.
// Render and validate wall time for the shipped sites (median of several runs), the offline
// `cdk synth` time, and the lab's figures from its last run (test/.figures/lab.json, written by
// `npm run test:lab`; the lab needs root, so the bench does not start it itself).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');
const OUT = join(ROOT, 'test', '.figures', 'bench.json');

function timeIt(label: string, runs: number, cmd: string, args: string[]): { label: string; runs: number; medianMs: number; minMs: number; maxMs: number } {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const r = spawnSync(cmd, args, { cwd: ROOT, encoding: 'utf8', timeout: 300_000 });
    if (r.status !== 0) throw new Error(`${label}: ${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
    times.push(Math.round(performance.now() - t0));
  }
  times.sort((a, b) => a - b);
  return { label, runs, medianMs: times[Math.floor((times.length - 1) / 2)]!, minMs: times[0]!, maxMs: times[times.length - 1]! };
}

const scratch = mkdtempSync(join(tmpdir(), 'anycdn-bench-'));
try {
  const results = [
    timeIt('npx anycdn render (shipped sites, whole CLI)', 5, 'npx', ['anycdn', 'render', '--out', join(scratch, 'out')]),
    timeIt('npx anycdn validate (shipped sites, every checker)', 3, 'npx', ['anycdn', 'validate']),
    timeIt('npx cdk synth --no-lookups (offline: unshare -n)', 1, 'unshare', ['-n', 'npx', 'cdk', 'synth', '--no-lookups', '-q', '-o', join(scratch, 'cdk.out')]),
  ];
  const files = Number(execFileSync('find', [join(scratch, 'out'), '-type', 'f'], { encoding: 'utf8' }).trim().split('\n').length);
  const labFile = join(ROOT, 'test', '.figures', 'lab.json');
  const lab = existsSync(labFile) ? (JSON.parse(readFileSync(labFile, 'utf8')) as { measuredAt: string; figures: unknown[] }) : undefined;
  const record = { measuredAt: new Date().toISOString(), machine: { cpus: (await import('node:os')).cpus().length, node: process.version }, renderedFiles: files, results, lab };
  mkdirSync(join(OUT, '..'), { recursive: true });
  writeFileSync(OUT, `${JSON.stringify(record, null, 2)}\n`);
  for (const r of results) console.log(`${r.label.padEnd(52)} median ${r.medianMs} ms (min ${r.minMs}, max ${r.maxMs}, ${r.runs} runs)`);
  console.log(`rendered files: ${files}`);
  if (lab) {
    console.log(`lab figures from ${lab.measuredAt}:`);
    for (const f of lab.figures as { scenario: string; metric: string; min: number; median: number; max: number; unit: string; target: string }[]) {
      console.log(`  ${f.scenario.padEnd(28)} ${f.metric.padEnd(46)} ${f.min}/${f.median}/${f.max} ${f.unit} (target ${f.target})`);
    }
  } else console.log('lab figures: none yet (run `npm run test:lab` as root)');
  console.log(`recorded in ${OUT}`);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
