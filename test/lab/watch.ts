// Timing a failover from inside the network: a sh loop in a namespace polls a condition every
// 10 ms and prints the epoch millisecond at which it first holds. Bounded by its timeout.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { DnsLoadOptions, DnsLoadResult } from './dnsload.ts';
import type { LoadOptions, LoadResult } from './loadgen.ts';
import { run } from '../../lib/run.ts';

export interface Watch {
  /** Resolves once the loop runs (arm the failure after this). */
  armed: Promise<void>;
  /** Epoch ms when the condition first held, or undefined at the timeout. */
  done: Promise<number | undefined>;
}

export function watchFor(ns: string, condition: string, timeoutMs: number): Watch {
  const script = [
    `end=$(( $(date +%s%3N) + ${Math.round(timeoutMs)} ))`,
    'echo armed',
    'while [ "$(date +%s%3N)" -lt "$end" ]; do',
    `\tif ${condition}; then date +%s%3N; exit 0; fi`,
    '\tsleep 0.01',
    'done',
    'exit 1',
  ].join('\n');
  const child = spawn('ip', ['netns', 'exec', ns, 'sh', '-c', script], { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  let armedResolve: () => void = () => {};
  const armed = new Promise<void>((r) => (armedResolve = r));
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    if (out.includes('armed')) armedResolve();
  });
  const killer = setTimeout(() => child.kill('SIGKILL'), timeoutMs + 5000);
  const done = new Promise<number | undefined>((resolve) => {
    child.on('close', (code) => {
      clearTimeout(killer);
      armedResolve();
      const m = /(\d{13})/.exec(out);
      resolve(code === 0 && m ? Number(m[1]) : undefined);
    });
  });
  return { armed, done };
}

/**
 * Times `act` until `condition` holds inside `ns`; milliseconds, or undefined at the timeout.
 * The clock starts when `act` starts, or at the epoch ms it returns (the moment a kill landed).
 */
export async function timeUntil(ns: string, condition: string, timeoutMs: number, act: () => Promise<number | void> | number | void): Promise<number | undefined> {
  const w = watchFor(ns, condition, timeoutMs);
  await w.armed;
  const started = Date.now();
  const at = await act();
  const t0 = typeof at === 'number' ? at : started;
  const t1 = await w.done;
  return t1 === undefined ? undefined : Math.max(0, t1 - t0);
}

/** Runs the fixed-rate load generator inside a client namespace. */
export function startLoad(ns: string, o: LoadOptions): Promise<LoadResult> {
  const script = join(import.meta.dirname, 'loadgen.ts');
  return run('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', script, JSON.stringify(o)], { timeoutMs: (o.durationSec + 30) * 1000 }).then((r) => {
    const line = r.stdout.trim().split('\n').pop() ?? '';
    if (r.code !== 0 || !line.startsWith('{')) throw new Error(`loadgen failed (exit ${r.code}): ${r.stderr.trim().slice(0, 500)}`);
    return JSON.parse(line) as LoadResult;
  });
}

/** Runs the fixed-rate DNS client (dnsload.ts) inside a client namespace. */
export function startDnsLoad(ns: string, o: DnsLoadOptions): Promise<DnsLoadResult> {
  const script = join(import.meta.dirname, 'dnsload.ts');
  return run('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', script, JSON.stringify(o)], { timeoutMs: (o.durationSec + 30) * 1000 }).then((r) => {
    const line = r.stdout.trim().split('\n').pop() ?? '';
    if (r.code !== 0 || !line.startsWith('{')) throw new Error(`dnsload failed (exit ${r.code}): ${r.stderr.trim().slice(0, 500)}`);
    return JSON.parse(line) as DnsLoadResult;
  });
}
