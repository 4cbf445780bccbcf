// anycdn plan: what applying the current model would change, against the last render recorded in
// --out (default), a git ref, or a directory laid out like render output. Thin: gathers the two
// trees (and the cloud templates), hands them to lib/plan/compare.ts, prints the result.
import { existsSync, statSync } from 'node:fs';
import { ContextError } from '../cdk/context.ts';
import { InputError } from '../model/errors.ts';
import { loadTopology } from '../model/load.ts';
import type { Topology } from '../model/schema.ts';
import { zoneContext, sha256Hex } from '../out/manifest.ts';
import { outputPlans, renderPlans, routingFiles, type HostPlan } from '../render/index.ts';
import type { RenderContext } from '../render/types.ts';
import { dirBaseline, gitBaseline, gitCommit, outBaseline, recordedModelError, type Baseline } from '../plan/baseline.ts';
import { amiProblems, contextDiagnostic, readCdkJson } from '../plan/cdk-json.ts';
import { diffStacks, synthTemplates } from '../plan/cloud.ts';
import type { CloudChange } from '../plan/types.ts';
import { buildPlan } from '../plan/compare.ts';
import { formatPlan } from '../plan/format.ts';
import { byoipFromCdkJson } from './byoip.ts';
import { EXIT, type Io } from './report.ts';

export interface PlanOptions {
  sites: string;
  out: string;
  against?: string;
  json?: boolean;
  exitCode?: boolean;
  cloud?: boolean;
}

/** Plan's own exit codes (terraform plan -detailed-exitcode): 0 no changes, 2 changes (with --exit-code). */
export const PLAN_EXIT = { noChanges: 0, changes: 2 } as const;

async function baselineOf(opts: PlanOptions): Promise<Baseline> {
  const against = opts.against;
  if (against === undefined) return outBaseline(opts.out);
  if (existsSync(against) && statSync(against).isDirectory()) return dirBaseline(against);
  const commit = await gitCommit(opts.sites, against);
  if (commit) return gitBaseline(opts.sites, against, commit);
  throw new InputError([{ file: against, line: 1, col: 1, message: `--against: ${JSON.stringify(against)} is neither a directory nor a git ref of the repository holding ${opts.sites}; pass a commit, branch or tag, or a directory laid out like render output` }]);
}

export async function planCommand(opts: PlanOptions, io: Io, colour: boolean): Promise<number> {
  const topology = loadTopology(opts.sites, '--sites');
  const baseline = await baselineOf(opts);
  const ctx = zoneContext([...baseline.tree].map(([path, f]) => ({ path, sha256: sha256Hex(f.content), soaSerial: f.soaSerial })));
  const plans = renderPlans(topology, ctx);
  let cloud: Parameters<typeof buildPlan>[0]['cloud'];
  if (opts.cloud === false) cloud = 'skipped with --no-cloud';
  else if (!baseline.topology) cloud = `${baseline.info.source} records no model (.anycdn/manifest.json) to rebuild its templates from`;
  else cloud = cloudChanges(opts.sites, topology, plans, baseline.topology, ctx, baseline.manifestFile);
  const byoip = byoipFromCdkJson(opts.sites);
  const routing = { ...(baseline.topology ? { before: routingFiles(baseline.topology, { byoip }) } : {}), after: routingFiles(topology, { byoip }), byoip };
  const plan = buildPlan({ baseline: baseline.info, before: baseline.tree, after: outputPlans(topology, ctx), topology, cloud, warnings: baseline.warnings, routing });
  if (opts.json) io.out(JSON.stringify(plan, null, 2));
  else for (const l of formatPlan(plan, colour)) io.out(l);
  return plan.changes && opts.exitCode ? PLAN_EXIT.changes : PLAN_EXIT.noChanges;
}

/**
 * Both models' stacks, synthesized with the project's cdk.json context, and diffed. Bad context is
 * a line at its key in cdk.json (every aws region's AMI checked up front); an error of the
 * baseline's recorded model is one on its manifest, whose fix is to render again (its files exist
 * only inside the manifest).
 */
function cloudChanges(sites: string, topology: Topology, plans: HostPlan[], before: Topology, ctx: RenderContext, manifestFile: string | undefined): CloudChange[] {
  const cdk = readCdkJson(sites);
  const missing = amiProblems(cdk, [topology, before]);
  if (missing.length > 0) throw new InputError(missing);
  const synth = (t: Topology, p: HostPlan[], o?: { nag: boolean }) => {
    try {
      return synthTemplates(t, p, cdk.context, o);
    } catch (e) {
      if (e instanceof ContextError) throw new InputError([contextDiagnostic(cdk, e)]);
      throw e;
    }
  };
  let old;
  try {
    // The baseline's bundles with the baseline's own serials, so an unchanged zone is no bundle change.
    old = synth(before, renderPlans(before, ctx), { nag: false });
  } catch (e) {
    if (e instanceof InputError && manifestFile && e.diagnostics.some((d) => d.file.startsWith(`${manifestFile}:`))) {
      throw recordedModelError(manifestFile, 'fails a cloud check', e);
    }
    throw e;
  }
  return diffStacks(old, synth(topology, plans));
}
