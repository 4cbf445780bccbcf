// Runs every daemon's own checker on rendered files: one host view per host, hosts in parallel.
import { byCodePoint } from '../model/order.ts';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { Diagnostic } from '../model/errors.ts';
import { run } from '../run.ts';
import type { HostPlan } from '../render/index.ts';
import type { RenderedFile } from '../render/types.ts';
import { needsFixtures, splitFixtures, throwawayPem } from './fixtures.ts';
import { looseNeeds } from './loose.ts';
import { checkResults, hostViewScript, unshareArgs } from './host-script.ts';
import { fileLabel } from './output.ts';
import { eachLimit } from '../pool.ts';
import { CHECKERS, checkersOf } from './registry.ts';
import type { Checker, CheckReport } from './types.ts';

const TOOLS: [binary: string, pkg: string][] = [
  ['/usr/bin/unshare', 'util-linux'],
  ['/sbin/pivot_root', 'util-linux'],
  ['/bin/mount', 'mount'],
  ['/usr/sbin/ip', 'iproute2'],
];
const HOST_TIMEOUT_MS = 120_000;
/**
 * The directory the check's host view is built on, in its own mount namespace only: the check
 * writes its tree into a tmpfs there too (host-script.ts), so nothing of it reaches the disk.
 */
const VIEW_STAGE = '/tmp';
/** Where names a checked file resolves point during the check (TEST-NET-1, RFC 5737). */
const PLACEHOLDER_ADDRESS = '192.0.2.1';

export interface CheckOptions {
  /** Host views checked at once; default three per CPU (a view mostly waits on its checkers). */
  concurrency?: number;
  /** Run only these checkers; every file of a host is still present in its view (includes). */
  only?: string[];
  checkers?: Partial<Record<string, Checker>>;
  /** Called as each host is done (validate's progress). */
  onHost?: (done: HostDone) => void;
}

export interface HostDone {
  site: string;
  host: string;
  /** Files checked in this host's view. */
  files: number;
  /** Checker processes started for them. */
  processes: number;
  failed: number;
}

/** Checks loose files (hand-written known-bad ones, say): one view per host, no extra directories. */
export function checkFiles(files: RenderedFile[], opts: CheckOptions = {}): Promise<CheckReport> {
  const hosts = new Map<string, RenderedFile[]>();
  for (const f of files) hosts.set(`${f.site}/${f.host}`, [...(hosts.get(`${f.site}/${f.host}`) ?? []), f]);
  const plans = [...hosts.values()].map((fs): HostPlan => ({ site: fs[0]!.site, host: fs[0]!.host, files: fs, units: [], packages: [], needs: looseNeeds(fs), endpoints: [] }));
  return checkHosts(plans, opts);
}

/** Checks every file of every host plan, each host in its own view, with the directories it needs. */
export async function checkHosts(plans: HostPlan[], opts: CheckOptions = {}): Promise<CheckReport> {
  const checkers = opts.checkers ?? CHECKERS;
  const report: CheckReport = { diagnostics: [], checked: [] };
  const missingTools = TOOLS.filter(([bin]) => !existsSync(bin));
  if (missingTools.length > 0) {
    report.diagnostics.push(
      ...missingTools.map(([bin, pkg]) => ({ file: bin, line: 1, col: 1, message: `cannot check: ${bin} not found; install the Debian package ${pkg}` })),
    );
    return report;
  }
  const copies = sharedChecks(plans, checkers);
  const skip = new Set(copies.keys());
  // One throwaway certificate serves every host that needs one, made when the first asks.
  let pem: Promise<string> | undefined;
  const certificate = () => (pem ??= throwawayPem());
  await eachLimit(plans, opts.concurrency ?? availableParallelism() * 3, async (plan) => {
    const r = await checkHost(plan, checkers, opts.only, skip, certificate);
    report.diagnostics.push(...r.diagnostics);
    report.checked.push(...r.checked);
    opts.onHost?.({ site: plan.site, host: plan.host, files: r.checked.length, processes: r.processes, failed: r.checked.filter((c) => !c.ok).length });
  });
  // A content-only check ran once, on its first host; the identical files elsewhere share its
  // result and its diagnostics (a missing checker binary included).
  for (const [copy, original] of copies) {
    const done = report.checked.filter((c) => c.file === original);
    report.checked.push(...done.map((c) => ({ file: copy, checker: c.checker, ok: c.ok })));
    const from = fileLabel(original);
    report.diagnostics.push(...report.diagnostics.filter((d) => d.file === from).map((d) => ({ ...d, file: fileLabel(copy) })));
  }
  report.checked.sort((a, b) => byCodePoint(fileLabel(a.file), fileLabel(b.file)));
  return report;
}

/** Files whose content-only check another host's identical file stands for: copy -> original. */
function sharedChecks(plans: HostPlan[], checkers: Partial<Record<string, Checker>>): Map<RenderedFile, RenderedFile> {
  const first = new Map<string, RenderedFile>();
  const copies = new Map<RenderedFile, RenderedFile>();
  for (const f of plans.flatMap((p) => p.files)) {
    const own = f.check ? checkersOf(f.check, checkers) : [];
    if (own.length === 0 || !own.every((c) => c.contentOnly)) continue;
    const key = `${f.check}\0${f.path}\0${f.content}`;
    const original = first.get(key);
    if (original) copies.set(f, original);
    else first.set(key, f);
  }
  return copies;
}

interface Job {
  files: RenderedFile[];
  checker: Checker;
}

async function checkHost(
  plan: HostPlan,
  checkers: Partial<Record<string, Checker>>,
  only: string[] | undefined,
  skip: Set<RenderedFile>,
  certificate: () => Promise<string>,
): Promise<CheckReport & { processes: number }> {
  const hostFiles = plan.files;
  const report: CheckReport & { processes: number } = { diagnostics: [], checked: [], processes: 0 };
  const jobs: Job[] = [];
  for (const file of hostFiles) {
    if (!file.check || skip.has(file)) continue;
    for (const checker of checkersOf(file.check, checkers)) {
      if (only && !only.includes(checker.kind)) continue;
      if (!existsSync(checker.binary)) {
        report.diagnostics.push({
          file: fileLabel(file),
          line: 1,
          col: 1,
          message: `cannot check: ${checker.binary} not found; install the Debian package ${checker.debianPackage} (apt-get install ${checker.debianPackage})`,
        });
        continue;
      }
      const batch = checker.many ? jobs.find((j) => j.checker === checker) : undefined;
      if (batch) batch.files.push(file);
      else jobs.push({ files: [file], checker });
    }
  }
  if (jobs.length === 0) return report;
  report.processes = jobs.length;
  const first = jobs[0]!.files[0]!;
  const cannot = (why: string) => {
    report.diagnostics.push({ file: fileLabel(first), line: 1, col: 1, message: `cannot check host ${first.site}/${first.host}: ${why}` });
    return report;
  };

  const fixtures = splitFixtures(needsFixtures(plan.needs));
  let certificates: { path: string; content: string; mode: number }[];
  try {
    certificates = fixtures.certificates.length === 0 ? [] : await certificate().then((pem) => fixtures.certificates.map((path) => ({ path, content: pem, mode: 0o600 })));
  } catch (e) {
    return cannot((e as Error).message);
  }
  const names = plan.needs.hostNames;
  const nonce = randomBytes(12).toString('hex');
  const script = hostViewScript({
    stage: VIEW_STAGE,
    files: [...hostFiles, ...fixtures.files, ...certificates],
    dirs: plan.needs.dirs,
    ...(names.length > 0 ? { hosts: ['127.0.0.1 localhost', '::1 localhost', ...names.map((n) => `${PLACEHOLDER_ADDRESS} ${n}`)].join('\n') + '\n' } : {}),
    interfaces: plan.needs.interfaces,
    checks: jobs.map(({ files, checker }) => (files.length > 1 && checker.many ? checker.many.command(files) : checker.command(files[0]!))),
    nonce,
  });
  const view = await run('/usr/bin/unshare', unshareArgs(), { input: script, timeoutMs: HOST_TIMEOUT_MS });
  if (view.code !== 0) return cannot(view.stderr.trim() || `exit ${view.code}`);
  const results = checkResults(view.stdout, jobs.length, nonce);
  for (const [i, { files, checker }] of jobs.entries()) {
    for (const [file, share] of splitOutput(checker, files, results[i]!.output, results[i]!.code)) {
      const ds: Diagnostic[] = checker.parse(share.output, share.code, file);
      report.diagnostics.push(...ds);
      report.checked.push({ file, checker: checker.kind, ok: share.code === 0 && ds.length === 0 });
    }
  }
  return report;
}

/**
 * Each file's share of a batched check's output: the lines `owner` gives it plus the lines about
 * no file. A file with lines of its own, or every file when the check failed with no line about
 * any one of them, gets the exit code (at least 1); the others passed.
 */
function splitOutput(checker: Checker, files: RenderedFile[], output: string, code: number): Map<RenderedFile, { output: string; code: number }> {
  if (files.length === 1 || !checker.many) return new Map([[files[0]!, { output, code }]]);
  const own = new Map<RenderedFile, string[]>(files.map((f) => [f, []]));
  const shared: string[] = [];
  for (const line of output.split('\n').filter((l) => l.trim().length > 0)) {
    const f = checker.many.owner(line.trim(), files);
    if (f) own.get(f)!.push(line);
    else shared.push(line);
  }
  const anyOwned = [...own.values()].some((l) => l.length > 0);
  return new Map(
    files.map((f) => {
      const lines = [...own.get(f)!, ...shared];
      const failed = own.get(f)!.length > 0 || shared.length > 0 || (code !== 0 && !anyOwned);
      return [f, { output: lines.length > 0 ? `${lines.join('\n')}\n` : '', code: failed ? code || 1 : 0 }];
    }),
  );
}
