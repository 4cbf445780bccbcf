// Carrying out one step of `anycdn plan` in the running lab, action by action, as an operator
// would on the host: `anycdn drain|undrain ... --apply` through the CLI (with --lab), the copy of
// the host's rendered files into its lab tree (which its view binds at the real paths), and
// `systemctl reload <unit>` as the unit's own ExecReload (kill -<SIG> $MAINPID, to the unit's
// recorded main process). An action it does not know fails the step: the test runs the plan's
// words, not its own idea of them.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../../lib/cli/main.ts';
import { isAlive, mainPid } from '../../lib/lab/control.ts';
import { labPaths } from '../../lib/lab/state.ts';
import type { Step } from '../../lib/plan/types.ts';
import type { HostPlan } from '../../lib/render/index.ts';
import { serviceExecs } from '../../lib/render/unit-spec.ts';

export interface StepRun {
  /** Each action with what it did and when it ended (ms after the step began). */
  done: { action: string; ms: number; note: string }[];
}

/** Runs `step` (one host) in the lab; `plans` is the render of the model being applied, `sitesDir` its directory. */
export async function runStep(step: Step, plans: HostPlan[], sitesDir: string): Promise<StepRun> {
  const [host] = step.hosts;
  const plan = plans.find((p) => p.site === step.site && p.host === host);
  if (!step.site || !host || step.hosts.length !== 1 || !plan) throw new Error(`lab: step ${step.n} (${step.title}) is not one host of a rendered site`);
  const t0 = Date.now();
  const out: StepRun = { done: [] };
  for (const action of step.actions) {
    const drain = /^anycdn (drain|undrain) (\S+) --role (\w+) --apply$/.exec(action);
    const reload = /^systemctl reload ([a-z0-9-]+)$/.exec(action);
    let note: string;
    if (drain) {
      const lines: string[] = [];
      const code = await main([drain[1]!, drain[2]!, '--role', drain[3]!, '--apply', '--lab', '--sites', sitesDir], { out: (l) => lines.push(l), err: (l) => lines.push(l) });
      if (code !== 0) throw new Error(`lab: ${action}: exit ${code}\n${lines.join('\n')}`);
      note = lines.filter((l) => l.startsWith('applied on') || /^(un)?drained /.test(l)).join('; ');
    } else if (action === `copy out/${step.site}/${host}/ to / on ${host} (or pull its bundle)`) {
      const tree = labPaths.tree(step.site, host);
      const changed = plan.files.filter((f) => !existsSync(join(tree, f.path)) || readFileSync(join(tree, f.path), 'utf8') !== f.content);
      // In place: the view binds the tree's directories, so the daemons see the new bytes at once.
      for (const f of changed) writeFileSync(join(tree, f.path), f.content, { mode: f.mode });
      note = changed.map((f) => f.path).join(', ');
    } else if (reload) {
      const unit = plan.units.find((u) => u.name === reload[1]);
      const execs = unit ? serviceExecs(unit, 'ExecReload') : [];
      if (execs.length !== 1) throw new Error(`lab: ${action}: ${host} has no unit ${reload[1]} with one ExecReload`);
      const [cmd, sig, pid] = execs[0]!.argv;
      if (cmd !== '/bin/kill' || typeof sig !== 'string' || !/^-[A-Z0-9]+$/.test(sig) || typeof pid !== 'object') throw new Error(`lab: ${action}: its ExecReload is not kill -<SIG> $MAINPID`);
      const main = mainPid(host, reload[1]!);
      if (!main || !isAlive(main)) throw new Error(`lab: ${action}: ${host} ${reload[1]} is not running`);
      process.kill(main, `SIG${sig.slice(1)}` as NodeJS.Signals);
      note = `SIG${sig.slice(1)} to ${reload[1]} (pid ${main})`;
    } else {
      throw new Error(`lab: no way to run the plan's action "${action}"`);
    }
    out.done.push({ action, ms: Date.now() - t0, note });
  }
  return out;
}
