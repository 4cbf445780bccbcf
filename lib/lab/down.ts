// `anycdn lab down`: removes everything `up` created, by PID and by namespace name, even after a
// crash or a half-built `up`. Safe to run twice.
import { rmSync } from 'node:fs';
import { isAlive } from './control.ts';
import { run } from '../run.ts';
import { sleep } from './exec.ts';
import { labNamespaces } from './network.ts';
import { NS_PREFIX } from './plan.ts';
import { LAB_DIR, readState } from './state.ts';

export interface DownResult {
  killed: number;
  namespaces: number;
}


function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

export async function labDown(): Promise<DownResult> {
  const state = readState();
  const pids = new Set<number>(state?.processes.map((p) => p.pid) ?? []);
  const namespaces = [...new Set([...(state?.namespaces ?? []), ...(await labNamespaces(NS_PREFIX))])].filter((n) => n.startsWith(NS_PREFIX));
  // Everything still running inside a lab namespace, recorded or not (a crashed `up`).
  for (const ns of namespaces) {
    const r = await run('ip', ['netns', 'pids', ns], { timeoutMs: 5000 });
    for (const line of r.stdout.split('\n')) if (/^\d+$/.test(line.trim())) pids.add(Number(line.trim()));
  }
  const targets = [...pids].filter((p) => p > 1 && p !== process.pid);
  for (const pid of targets) signal(pid, 'SIGTERM');
  for (let i = 0; i < 40 && targets.some(isAlive); i++) await sleep(50);
  for (const pid of targets.filter(isAlive)) signal(pid, 'SIGKILL');
  for (let i = 0; i < 40 && targets.some(isAlive); i++) await sleep(50);
  for (const ns of namespaces) await run('ip', ['netns', 'del', ns], { timeoutMs: 5000 });
  rmSync(LAB_DIR, { recursive: true, force: true });
  return { killed: targets.length, namespaces: namespaces.length };
}
