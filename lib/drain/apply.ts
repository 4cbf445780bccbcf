// Carrying out a drain plan, and waiting until the host is safe to stop. Where the steps run is
// the executor's business: on a real host, the steps of the host `anycdn` runs on (the others are
// printed for their own hosts); in the lab, every host, through its view's mount namespace
// (/proc/<holder>/root), which is where its daemons see /run.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, networkInterfaces } from 'node:os';
import { dirname } from 'node:path';
import { PATHS } from '../render/index.ts';
import { run } from '../run.ts';
import { sleep } from '../lab/exec.ts';
import { isAlive } from '../lab/control.ts';
import { nsOf } from '../lab/plan.ts';
import type { LabState } from '../lab/state.ts';
import { currentSessions, haproxyCommand, streamsOn } from './haproxy-socket.ts';
import type { DrainPlan, Step, Wait } from './plan.ts';
import { describeWait, shellCommand } from './print.ts';

export interface Executor {
  /** Where the host's filesystem is seen from here ('' for this host), or undefined when it is not reachable. */
  root(host: string): string | undefined;
  hasAddress(host: string, address: string): Promise<boolean>;
  /** Runs nft with one script argument in the host's network namespace. */
  nft(host: string, script: string): Promise<{ code: number; stderr: string }>;
  /** Says where it runs, for the output. */
  where: string;
}

/** On a real host: the steps of this host only. */
export function localExecutor(me: string = hostname()): Executor {
  return {
    where: `on ${me}`,
    root: (host) => (host === me ? '' : undefined),
    hasAddress: async (_host, address) => Object.values(networkInterfaces()).some((list) => list?.some((a) => a.address === address)),
    nft: (_host, script) => run('nft', [script], { timeoutMs: 5000 }),
  };
}

/** In the lab: every host, through the holder of its mount namespace. */
export function labExecutor(state: LabState): Executor {
  return {
    where: 'in the lab',
    root: (host) => {
      const pid = state.holders[host];
      return pid && isAlive(pid) ? `/proc/${pid}/root` : undefined;
    },
    hasAddress: async (host, address) => {
      const r = await run('ip', ['-n', nsOf.host(host), '-br', 'addr', 'show'], { timeoutMs: 3000 });
      return r.stdout.split(/\s+/).some((w) => w === `${address}/32` || w.startsWith(`${address}/`));
    },
    nft: (host, script) => run('ip', ['netns', 'exec', nsOf.host(host), 'nft', script], { timeoutMs: 5000 }),
  };
}

export interface ApplyResult {
  applied: Step[];
  /** What a step found, for people (a quiesce: how long, and what was still in flight). */
  notes: Map<Step, string>;
  /** Steps for hosts this executor cannot reach: the operator runs them there. */
  elsewhere: Step[];
  failed: { step: Step; error: string }[];
}

export async function applyPlan(plan: DrainPlan, ex: Executor): Promise<ApplyResult> {
  const r: ApplyResult = { applied: [], notes: new Map(), elsewhere: [], failed: [] };
  for (const step of plan.steps) {
    const root = ex.root(step.host);
    if (root === undefined) {
      r.elsewhere.push(step);
      continue;
    }
    try {
      const note = await perform(root, step, ex);
      r.applied.push(step);
      if (note) r.notes.set(step, note);
    } catch (e) {
      r.failed.push({ step, error: (e as Error).message });
    }
  }
  return r;
}

async function perform(root: string, step: Step, ex: Executor): Promise<string | undefined> {
  const a = step.action;
  switch (a.kind) {
    case 'write':
      mkdirSync(dirname(root + a.path), { recursive: true });
      writeFileSync(root + a.path, a.content);
      return undefined;
    case 'remove':
      rmSync(root + a.path, { force: true });
      return undefined;
    case 'haproxy': {
      const answer = (await haproxyCommand(root + a.socket, a.command)).trim();
      // `set server`, `add map` and `clear map` answer nothing when they worked, and say why when not.
      if (answer !== '') throw new Error(`haproxy: ${answer}`);
      return undefined;
    }
    case 'nft': {
      const r = await ex.nft(step.host, a.script);
      if (r.code === 127) throw new Error('nft: not found; install the Debian package nftables');
      if (r.code !== 0) throw new Error(`nft: ${r.stderr.trim().split('\n')[0] ?? `exit ${r.code}`}`);
      return undefined;
    }
    case 'quiesce':
      return quiesce(root + a.socket, a.frontend, a.maxMs);
  }
}

/** Polls `show sess` every 20 ms until no request is in flight on the frontend, for at most maxMs. */
async function quiesce(socket: string, frontend: string, maxMs: number): Promise<string> {
  const t0 = Date.now();
  for (;;) {
    const n = streamsOn(await haproxyCommand(socket, 'show sess'), frontend);
    const ms = Date.now() - t0;
    if (n === 0) return `no request in flight after ${ms} ms`;
    if (ms >= maxMs) return `${n} ${n === 1 ? 'request' : 'requests'} still in flight after ${ms} ms: cut when the VIP moves`;
    await sleep(20);
  }
}

export interface WaitResult {
  ok: boolean;
  ms: number;
  /** The conditions that did not hold at the end (empty when ok). */
  pending: string[];
}

/** Polls the plan's waits on the hosts this executor reaches, every 100 ms, for at most `timeoutMs`. */
export async function waitPlan(plan: DrainPlan, ex: Executor, timeoutMs: number): Promise<WaitResult> {
  const t0 = Date.now();
  const waits = plan.waits.filter((w) => ex.root(w.host) !== undefined);
  for (;;) {
    const pending: string[] = [];
    for (const w of waits) if (!(await holds(w, ex))) pending.push(describeWait(w));
    if (pending.length === 0) return { ok: true, ms: Date.now() - t0, pending };
    if (Date.now() - t0 >= timeoutMs) return { ok: false, ms: Date.now() - t0, pending };
    await sleep(100);
  }
}

async function holds(w: Wait, ex: Executor): Promise<boolean> {
  const root = ex.root(w.host)!;
  try {
    switch (w.kind) {
      case 'checker':
        return readFileSync(root + PATHS.healthcheckStatus, 'utf8').trim() === w.want;
      case 'no-vip':
        return !(await ex.hasAddress(w.host, w.address));
      case 'server-idle':
        return currentSessions(await haproxyCommand(root + PATHS.haproxySocket, 'show stat'), w.backend, w.server) === 0;
      case 'frontend-idle':
        return streamsOn(await haproxyCommand(root + PATHS.haproxySocket, 'show sess'), w.frontend) === 0;
    }
  } catch {
    return false;
  }
}

export { shellCommand };
