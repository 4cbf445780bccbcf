// anycdn lab up|status|down: run the model for real in network namespaces on this machine.
import { loadTopology } from '../model/load.ts';
import { labDown } from '../lab/down.ts';
import { planLab } from '../lab/plan.ts';
import { readState } from '../lab/state.ts';
import { formatStatus, labStatus, waitReady } from '../lab/status.ts';
import { LabError, labUp } from '../lab/up.ts';
import type { LabState } from '../lab/state.ts';
import type { SiteStatus } from '../lab/status.ts';
import { progress } from './progress.ts';
import { EXIT, type Io } from './report.ts';
import type { LabStatusOutput } from './schemas.ts';

export async function labUpCommand(opts: { sites: string }, io: Io): Promise<number> {
  const t = loadTopology(opts.sites, '--sites');
  // Root, like everything else the lab needs of the machine, is checked by labUp's preflight.
  const started = Date.now();
  const p = progress(io, 'lab');
  try {
    const up = await labUp(t, opts.sites, (step) => p.step(step));
    const ready = await waitReady(t, up.plan, 30_000);
    p.step(ready.ready ? `${up.plan.routers.length} sites ready: VIPs serve on their settled lb host, every checker announces, and the anycast DNS answers nearby` : 'gave up waiting for the sites to be ready');
    p.done();
    if (!ready.ready) {
      for (const l of ready.reasons) io.err(`lab: ${l}`);
      io.err('lab: `anycdn lab status` shows the state now, `anycdn lab down` cleans up');
      return EXIT.invalid;
    }
    for (const l of formatStatus(ready.rows)) io.out(l);
    io.out(`lab: up and ready in ${((Date.now() - started) / 1000).toFixed(1)} s (${up.plan.namespaces.length} namespaces, ${up.state.processes.length} processes)`);
    return EXIT.ok;
  } catch (e) {
    p.done();
    if (e instanceof LabError) {
      io.err(e.message);
      return EXIT.invalid;
    }
    io.err(`lab: up failed: ${(e as Error).message}`);
    io.err('lab: run `anycdn lab down` to remove what was created');
    return EXIT.invalid;
  }
}

export async function labStatusCommand(opts: { json?: boolean }, io: Io): Promise<number> {
  const state = readState();
  if (!state) {
    io.out(opts.json ? JSON.stringify(labStatusJson(undefined, [])) : 'lab: not running');
    return EXIT.ok;
  }
  const t = loadTopology(state.sitesDir, 'the sites directory `lab up` was given');
  const rows = await labStatus(t, planLab(t));
  if (opts.json) {
    io.out(JSON.stringify(labStatusJson(state, rows)));
    return EXIT.ok;
  }
  for (const l of formatStatus(rows)) io.out(l);
  io.out(`lab: ${state.namespaces.length} namespaces, ${state.processes.length} processes, up since ${state.startedAt}`);
  return EXIT.ok;
}

/** lab status --json (lib/cli/schemas/lab-status.schema.json). */
export function labStatusJson(state: LabState | undefined, rows: SiteStatus[]): LabStatusOutput {
  if (!state) return { running: false, sites: [] };
  return {
    running: true,
    startedAt: state.startedAt,
    namespaces: state.namespaces.length,
    processes: state.processes.length,
    sites: rows.map((r) => ({
      site: r.site,
      vipHealth: r.vipHealth,
      serving: r.vipHealth === 200,
      ...(r.dnsAnswer !== undefined ? { dnsAnswer: r.dnsAnswer } : {}),
      ...(r.nsid !== undefined ? { nsid: r.nsid } : {}),
      anycastVia: r.anycastVia,
      ...(r.vipHolder !== undefined ? { vipHolder: r.vipHolder } : {}),
      checkers: r.checkers,
      bfd: r.bfd,
    })),
  };
}

export async function labDownCommand(io: Io): Promise<number> {
  if (!isRoot()) {
    io.err('lab: needs root on Linux; run it as root');
    return EXIT.invalid;
  }
  const r = await labDown();
  io.out(`lab: down (stopped ${r.killed} processes, removed ${r.namespaces} namespaces)`);
  return EXIT.ok;
}

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}
