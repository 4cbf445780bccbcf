// Toolkit speed and growth: `render` and `validate` on the shipped sites and on generated 30- and
// 300-site topologies, wall time and the CLI process's peak memory (getrusage maxrss, read by a
// preloaded hook at exit; the checkers validate starts are separate processes, not counted).
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { stats, type Results } from './results.ts';
import { writeSites } from './topology.ts';

const HOOK = join(import.meta.dirname, 'peak-hook.mjs');

/** Runs `node cli args` `runs` times: wall ms and peak MiB of each run. */
export function timeCli(cli: string, args: string[], runs: number, cwd: string, scratch: string, before?: () => void): { ms: number[]; mib: number[] } {
  const ms: number[] = [];
  const mib: number[] = [];
  const peak = join(scratch, 'peak');
  for (let i = 0; i < runs; i++) {
    rmSync(peak, { force: true });
    before?.();
    const t0 = performance.now();
    const r = spawnSync(process.execPath, ['--import', HOOK, cli, ...args], { cwd, encoding: 'utf8', timeout: 900_000, env: { ...process.env, ANYCDN_BENCH_PEAK: peak } });
    if (r.status !== 0) throw new Error(`bench: anycdn ${args.join(' ')} exited ${r.status}: ${`${r.stderr}${r.stdout}`.slice(-2000)}`);
    ms.push(Math.round(performance.now() - t0));
    mib.push(Math.round(Number(readFileSync(peak, 'utf8')) / 1024));
  }
  return { ms, mib };
}

/**
 * Render (and validate, which runs every checker) on three sizes. Validating 300 sites runs some
 * 10,000 checker processes, minutes on this machine: it runs only with `full`. The render of 300
 * sites is measured once, by the caller, on disk against `cp -r` (run.ts): its wall time and peak
 * memory come from those runs, on the 300 sites written here (returned, so they are written once).
 */
export function growth(res: Results, cli: string, root: string, scratch: string, full: boolean, validate: boolean): { sites300: string } {
  const sites300 = writeSites(join(scratch, 'sites300'), 300);
  const sizes: [string, string, { render: number; validate: number }, { render?: string; validate?: string }][] = [
    ['shipped (3 sites)', join(root, 'sites'), { render: 5, validate: validate ? 3 : 0 }, { render: '<= 500 ms', validate: '<= 3000 ms' }],
    ['30 generated sites', writeSites(join(scratch, 'sites30'), 30), { render: 3, validate: validate ? 1 : 0 }, { validate: '<= 30000 ms' }],
    ['300 generated sites', sites300, { render: 0, validate: full ? 1 : 0 }, {}],
  ];
  for (const [label, sites, runs, target] of sizes) {
    if (runs.render > 0) {
      const r = timeCli(cli, ['render', '--sites', sites, '--out', join(scratch, 'out')], runs.render, root, scratch);
      res.add({ section: 'toolkit', what: `render, ${label}`, unit: ' ms', anycdn: stats(r.ms), ...(target.render ? { target: target.render } : {}) });
      res.add({ section: 'toolkit', what: `render, ${label}: peak memory`, unit: ' MiB', anycdn: stats(r.mib) });
      rmSync(join(scratch, 'out'), { recursive: true, force: true });
    }
    if (runs.validate === 0) {
      res.notes.push(validate ? `validate of ${label} skipped (minutes of checker processes); run \`npm run bench -- --full\` to include it` : `validate of ${label} skipped: it needs root`);
      continue;
    }
    const v = timeCli(cli, ['validate', '--sites', sites], runs.validate, root, scratch);
    res.add({ section: 'toolkit', what: `validate, ${label}`, unit: ' ms', anycdn: stats(v.ms), ...(target.validate ? { target: target.validate } : {}) });
    res.add({ section: 'toolkit', what: `validate, ${label}: peak memory`, unit: ' MiB', anycdn: stats(v.mib) });
  }
  return { sites300 };
}
