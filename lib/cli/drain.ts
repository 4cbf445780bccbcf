// anycdn drain|undrain <site>[/<host>]: print the runtime steps; with --apply, carry them out
// (on this host, or with --lab in every lab host) and wait until it is safe to stop the host.
import { loadTopology } from '../model/load.ts';
import { applyPlan, labExecutor, localExecutor, waitPlan, type Executor } from '../drain/apply.ts';
import { DrainError, planDrain, type Direction } from '../drain/plan.ts';
import { formatPlan, shellCommand } from '../drain/print.ts';
import { readState } from '../lab/state.ts';
import { EXIT, type Io } from './report.ts';

export interface DrainOptions {
  sites: string;
  apply?: boolean;
  lab?: boolean;
  timeout?: string;
  role?: string;
}

const ROLES = ['lb', 'dns', 'cache'] as const;

export async function drainCommand(direction: Direction, target: string, opts: DrainOptions, io: Io): Promise<number> {
  const t = loadTopology(opts.sites, '--sites');
  if (opts.role !== undefined && !(ROLES as readonly string[]).includes(opts.role)) {
    io.err(`${direction}: --role must be one of ${ROLES.join(', ')}, got ${JSON.stringify(opts.role)}`);
    return EXIT.usage;
  }
  let plan;
  try {
    plan = planDrain(t, target, direction, opts.role as (typeof ROLES)[number] | undefined);
  } catch (e) {
    if (!(e instanceof DrainError)) throw e;
    io.err(e.message);
    return e.usage ? EXIT.usage : EXIT.invalid;
  }
  const timeoutSec = opts.timeout === undefined ? plan.timeoutSec : Number(opts.timeout);
  if (!Number.isFinite(timeoutSec) || timeoutSec < 0 || timeoutSec > 3600) {
    io.err(`${direction}: --timeout must be seconds in 0..3600, got ${JSON.stringify(opts.timeout)}`);
    return EXIT.usage;
  }
  for (const l of formatPlan(plan)) io.out(l);
  if (!opts.apply) {
    if (opts.lab) io.out('(--lab without --apply: nothing done)');
    io.out(`nothing done: run the commands above on each host, or \`anycdn ${direction} ${target}${opts.role ? ` --role ${opts.role}` : ''} --apply\` on each host (--lab: in the lab)`);
    return EXIT.ok;
  }
  let ex: Executor;
  if (opts.lab) {
    const state = readState();
    if (!state) {
      io.err(`${direction}: --lab: no lab is running; start one with \`anycdn lab up\``);
      return EXIT.invalid;
    }
    ex = labExecutor(state);
  } else ex = localExecutor();
  const r = await applyPlan(plan, ex);
  for (const s of r.applied) io.out(`applied on ${s.host}: ${shellCommand(s.action)}${r.notes.has(s) ? `: ${r.notes.get(s)}` : ''}`);
  for (const f of r.failed) io.err(`${direction}: failed on ${f.step.host}: ${shellCommand(f.step.action)}: ${f.error}`);
  const elsewhere = [...new Set(r.elsewhere.map((s) => s.host))];
  if (elsewhere.length > 0) io.out(`not applied ${ex.where}: run \`anycdn ${direction} ${target}${opts.role ? ` --role ${opts.role}` : ''} --apply\` on ${elsewhere.join(', ')} too`);
  if (r.failed.length > 0) return EXIT.invalid;
  if (r.applied.length === 0) {
    io.err(`${direction}: none of ${target}'s steps are for this host; run it on ${elsewhere.join(', ')}`);
    return EXIT.invalid;
  }
  const w = await waitPlan(plan, ex, timeoutSec * 1000);
  if (!w.ok) {
    io.err(`${direction}: not done after ${(w.ms / 1000).toFixed(1)} s; still waiting for:`);
    for (const p of w.pending) io.err(`  ${p}`);
    return EXIT.invalid;
  }
  io.out(`${direction === 'drain' ? 'drained' : 'undrained'} ${target} ${ex.where} in ${(w.ms / 1000).toFixed(1)} s`);
  for (const l of plan.after) io.out(l);
  return EXIT.ok;
}
