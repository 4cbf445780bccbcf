// Breaking and mending a running lab: signal a unit's main process (by its recorded PID), start
// a unit again as its supervisor would, stop and start the origin.
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PATHS, renderPlans } from '../render/index.ts';
import type { Topology } from '../model/schema.ts';
import { startUnit } from './daemons.ts';
import { sleep, waitFor } from './exec.ts';
import { nsOf } from './plan.ts';
import { labPaths, readState, writeState, type LabState } from './state.ts';
import { hostUnits } from './units.ts';
import { originOwner, startOrigin } from './origin.ts';

export function mainPid(host: string, unit: string): number | undefined {
  const f = labPaths.pidFile(host, unit);
  if (!existsSync(f)) return undefined;
  const pid = Number(readFileSync(f, 'utf8').trim());
  return pid > 0 ? pid : undefined;
}

/** Whether `pid` still runs. A zombie (killed, not yet reaped by its parent) does not. */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Every descendant of `pid` (children first found through /proc), for killing a process tree. */
function descendants(pid: number): number[] {
  const parent = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parent.set(Number(d), ppid);
    } catch {
      // gone meanwhile
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const [child, pp] of parent) if (pp === p) {
      out.push(child);
      walk(child);
    }
  };
  walk(pid);
  return out;
}

/**
 * SIGKILLs processes and everything they started, children first: keepalived's VRRP child, told
 * of its parent's death (PDEATHSIG), would shut down cleanly and send a priority-0 advert, which
 * is not what a crash looks like; nginx's workers outlive a killed master and keep serving.
 * The whole tree is frozen (SIGSTOP, parents first, until no new child appears) before the first
 * SIGKILL: otherwise nginx's master replaces the worker killed first, and that new worker,
 * orphaned a moment later, keeps serving on the listening socket.
 * Waits (bounded) until they are gone; returns the epoch ms of the first SIGSTOP, when the
 * service died: a frozen keepalived sends no advert and a frozen haproxy accepts nothing, so a
 * failover clock started at the SIGKILL would leave out the freeze (and under load read 0 ms).
 */
async function killTrees(roots: number[]): Promise<number> {
  const signal = (p: number, sig: NodeJS.Signals) => {
    try {
      process.kill(p, sig);
    } catch {
      // already gone
    }
  };
  const at = Date.now();
  const frozen = new Set<number>();
  for (let pass = 0; pass < 10; pass++) {
    const tree = roots.flatMap((pid) => [pid, ...descendants(pid)]).filter((p) => !frozen.has(p));
    if (tree.length === 0) break;
    for (const p of tree) {
      signal(p, 'SIGSTOP');
      frozen.add(p);
    }
  }
  const all = roots.flatMap((pid) => [...descendants(pid).reverse(), pid]);
  for (const p of all) signal(p, 'SIGKILL');
  for (let i = 0; i < 100 && all.some(isAlive); i++) await sleep(20);
  return at;
}

/** SIGKILLs a unit's main process and everything it started; returns when it stopped serving. */
export async function killUnitTree(host: string, unit: string): Promise<number> {
  const pid = mainPid(host, unit);
  if (!pid || !isAlive(pid)) throw new Error(`lab: ${host} ${unit} is not running`);
  return killTrees([pid]);
}

/** Starts a unit again under a new supervisor, as `systemctl start` would. */
export async function startUnitAgain(t: Topology, host: string, unit: string): Promise<void> {
  const state = readState();
  if (!state) throw new Error('lab: not running');
  const plan = renderPlans(t).find((p) => p.host === host);
  const u = hostUnits(plan?.units ?? []).find((x) => x.name === unit);
  if (!u) throw new Error(`lab: ${host} has no unit ${unit}`);
  rmSync(labPaths.pidFile(host, unit), { force: true });
  const procs = await startUnit({ host, ns: nsOf.host(host) }, state.holders[host]!, u);
  state.processes.push(...procs);
  writeState(state);
}

/** The size of a unit's lab log now, to wait for lines written after this point. */
export function logSize(host: string, unit: string): number {
  const f = join(labPaths.logs(host), `${unit}.log`);
  return existsSync(f) ? statSync(f).size : 0;
}

/**
 * The health checker's state on a host (announced, depreferred, withdrawn), from the status file
 * it keeps inside the host's view; undefined when it is not running.
 */
export function checkerState(host: string): string | undefined {
  const pid = mainPid(host, 'anycdn-healthcheck');
  if (!pid || !isAlive(pid)) return undefined;
  try {
    return readFileSync(`/proc/${pid}/root${PATHS.healthcheckStatus}`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/**
 * Whether `host`'s namespace holds the IPv4 `address` now: read from the local table in
 * /proc/<pid>/net/fib_trie of the host's holder process (it lives as long as the host's view),
 * so a poll starts no process. `holders` is the lab state's, read once by a caller that polls.
 */
export function holdsAddress(host: string, address: string, holders: LabState['holders'] = readState()?.holders ?? {}): boolean {
  const pid = holders[host];
  if (pid === undefined) return false;
  try {
    const lines = readFileSync(`/proc/${pid}/net/fib_trie`, 'utf8').split('\n');
    return lines.some((l, i) => l.trimStart() === `|-- ${address}` && (lines[i + 1] ?? '').includes('/32 host LOCAL'));
  } catch {
    return false; // the lab is going down
  }
}

/** What a unit's lab log got after byte `from`. */
export function logSince(host: string, unit: string, from: number): string {
  const f = join(labPaths.logs(host), `${unit}.log`);
  return existsSync(f) ? readFileSync(f).subarray(from).toString('utf8') : '';
}

/** Waits (bounded) until a unit's lab log gets a line matching `pattern` after byte `from`. */
export async function waitForLog(host: string, unit: string, pattern: RegExp, from: number, timeoutMs: number): Promise<boolean> {
  const f = join(labPaths.logs(host), `${unit}.log`);
  const seen = await waitFor(async () => (existsSync(f) && pattern.test(readFileSync(f).subarray(from).toString('utf8')) ? true : undefined), timeoutMs, 50);
  return seen === true;
}

/** Kills the lab origin at priority `index` (the primary by default), by its recorded PIDs. */
export async function stopOrigin(index = 0): Promise<void> {
  const state = readState();
  await killTrees(state?.processes.filter((p) => p.owner === originOwner(index) && isAlive(p.pid)).map((p) => p.pid) ?? []);
}

export async function startOriginAgain(index = 0): Promise<void> {
  const state = readState();
  if (!state) throw new Error('lab: not running');
  state.processes.push(startOrigin(index));
  writeState(state);
  await sleep(200);
}
