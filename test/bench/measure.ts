// How the bench measures: wall time of a command, the cost of a host view, and a running
// process's CPU and memory from /proc.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { viewLines } from '../../lib/check/hostview.ts';
import { loadTopology } from '../../lib/model/load.ts';
import { renderPlans } from '../../lib/render/index.ts';
import { readState } from '../../lib/lab/state.ts';

export interface Figure {
  what: string;
  unit: string;
  n: number;
  min: number;
  median: number;
  max: number;
  target?: string;
}

function stats(xs: number[]): { n: number; min: number; median: number; max: number } {
  const s = [...xs].sort((a, b) => a - b);
  return { n: s.length, min: s[0]!, median: s[Math.floor((s.length - 1) / 2)]!, max: s[s.length - 1]! };
}

export interface TimeOptions {
  target?: string;
  env?: NodeJS.ProcessEnv;
  /** Run before each timed run, untimed (remove the previous output, say). */
  before?: () => void;
  /** stderr must be empty: the compiled CLI, not the launcher's fallback to tsx. */
  quiet?: boolean;
  /** The exit status the run must end with (default 0), and what its stderr must end with. */
  status?: number;
  stderrEnds?: string;
}

/** Runs a command `runs` times; throws with its output when it fails. */
export function timeCommand(what: string, runs: number, cmd: string, args: string[], cwd: string, opts: TimeOptions | string = {}): Figure {
  const o: TimeOptions = typeof opts === 'string' ? { target: opts } : opts;
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    o.before?.();
    const t0 = performance.now();
    const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 600_000, maxBuffer: 64 * 2 ** 20, ...(o.env ? { env: o.env } : {}) });
    if (r.status !== (o.status ?? 0)) throw new Error(`${what}: ${cmd} ${args.join(' ')} exited ${r.status}: ${`${r.stderr}${r.stdout}`.slice(-4000)}`);
    if (o.quiet && r.stderr !== '') throw new Error(`${what}: ${cmd} ${args.join(' ')} wrote to stderr: ${r.stderr}`);
    if (o.stderrEnds !== undefined && !r.stderr.endsWith(o.stderrEnds)) throw new Error(`${what}: stderr does not end with ${JSON.stringify(o.stderrEnds)}: ${r.stderr.slice(-2000)}`);
    times.push(Math.round(performance.now() - t0));
  }
  return { what, unit: ' ms', ...stats(times), ...(o.target ? { target: o.target } : {}) };
}

/** a / b, of medians, as a figure of its own (min and max: the extremes of the two runs' ranges). */
export function ratio(what: string, a: Figure, b: Figure, target?: string): Figure {
  const r = (x: number, y: number) => Math.round((100 * x) / y) / 100;
  return { what, unit: '×', n: Math.min(a.n, b.n), min: r(a.min, b.max), median: r(a.median, b.median), max: r(a.max, b.min), ...(target ? { target } : {}) };
}

/**
 * Builds the host view of every shipped host (each in its own mount namespace, one after the
 * other) over scratch state dirs under `dir` that hold `extra` directories besides, as a large
 * machine's /var would; the wall time of all of them, `runs` times.
 */
export function hostViewMs(dir: string, extra: number, runs: number): Figure {
  const scratch = [join(dir, 'run'), join(dir, 'var')];
  for (const d of [...scratch, join(dir, 'stage')]) mkdirSync(d, { recursive: true });
  for (let i = 0; i < extra; i++) mkdirSync(join(dir, 'var', 'cache', `pkg${Math.floor(i / 40)}`, `d${i}`), { recursive: true });
  const plans = renderPlans(loadTopology(join(import.meta.dirname, '..', '..', 'sites')));
  const scripts = plans.map((p) =>
    viewLines({
      stage: join(dir, 'stage'),
      treeDir: '/nonexistent-tree',
      paths: [],
      dirs: p.needs.dirs.map((d) => ({ ...d, path: join(dir, d.path) })),
      scratchDirs: scratch,
    }).join('\n'),
  );
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    for (const s of scripts) execFileSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', s], { stdio: 'ignore' });
    times.push(Math.round(performance.now() - t0));
  }
  return { what: `host views (${plans.length} hosts)`, unit: ' ms', ...stats(times) };
}

/** CPU (% of one core) and resident memory of every running lab health checker over `ms`. */
export async function checkerUsage(ms: number): Promise<{ cpu: Omit<Figure, 'what' | 'unit'>; rssMiB: Omit<Figure, 'what' | 'unit'> }> {
  const pids = (readState()?.processes ?? []).filter((p) => p.unit === 'anycdn-healthcheck').map((p) => p.pid);
  if (pids.length === 0) throw new Error('bench: no health checker is running in the lab');
  const hz = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
  const ticks = (pid: number) => {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]); // utime + stime
  };
  const before = pids.map(ticks);
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, ms));
  const seconds = (performance.now() - t0) / 1000;
  const cpu = pids.map((p, i) => Math.round((10_000 * (ticks(p) - before[i]!)) / hz / seconds) / 100);
  const rss = pids.map((p) => Math.round(Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${p}/status`, 'utf8'))![1]) / 1024));
  return { cpu: stats(cpu), rssMiB: stats(rss) };
}
