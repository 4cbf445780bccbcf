// Runs every daemon's own checker on rendered files: one host view per host, hosts in parallel.
import { byCodePoint } from '../model/order.ts';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Diagnostic } from '../model/errors.ts';
import { run } from '../run.ts';
import type { HostPlan } from '../render/index.ts';
import type { RenderedFile } from '../render/types.ts';
import { needsFixtures, splitFixtures } from './fixtures.ts';
import { looseNeeds } from './loose.ts';
import { hostViewScript, unshareArgs } from './hostview.ts';
import { fileLabel } from './output.ts';
import { CHECKERS } from './registry.ts';
import type { Checker, CheckReport } from './types.ts';

const TOOLS: [binary: string, pkg: string][] = [
  ['/usr/bin/unshare', 'util-linux'],
  ['/usr/sbin/ip', 'iproute2'],
];
const HOST_TIMEOUT_MS = 120_000;
/** Where names a checked file resolves point during the check (TEST-NET-1, RFC 5737). */
const PLACEHOLDER_ADDRESS = '192.0.2.1';

export interface CheckOptions {
  /** Host views checked at once; default three per CPU (a view mostly waits on its checkers). */
  concurrency?: number;
  /** Run only these checkers; every file of a host is still present in its view (includes). */
  only?: string[];
  checkers?: Partial<Record<string, Checker>>;
}

/** Checks loose files (hand-written known-bad ones, say): one view per host, no extra directories. */
export function checkFiles(files: RenderedFile[], opts: CheckOptions = {}): Promise<CheckReport> {
  const hosts = new Map<string, RenderedFile[]>();
  for (const f of files) hosts.set(`${f.site}/${f.host}`, [...(hosts.get(`${f.site}/${f.host}`) ?? []), f]);
  const plans = [...hosts.values()].map((fs): HostPlan => ({ site: fs[0]!.site, host: fs[0]!.host, files: fs, units: [], packages: [], needs: looseNeeds(fs) }));
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
  const queue = [...plans];
  const workers = Array.from({ length: Math.max(1, opts.concurrency ?? availableParallelism() * 3) }, async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      const r = await checkHost(next, checkers, opts.only);
      report.diagnostics.push(...r.diagnostics);
      report.checked.push(...r.checked);
    }
  });
  await Promise.all(workers);
  report.checked.sort((a, b) => byCodePoint(fileLabel(a.file), fileLabel(b.file)));
  return report;
}

async function checkHost(plan: HostPlan, checkers: Partial<Record<string, Checker>>, only?: string[]): Promise<CheckReport> {
  const hostFiles = plan.files;
  const report: CheckReport = { diagnostics: [], checked: [] };
  const jobs: { file: RenderedFile; checker: Checker }[] = [];
  for (const file of hostFiles) {
    const checker = file.check ? checkers[file.check] : undefined;
    if (!checker || (only && !only.includes(checker.kind))) continue;
    if (!existsSync(checker.binary)) {
      report.diagnostics.push({
        file: fileLabel(file),
        line: 1,
        col: 1,
        message: `cannot check: ${checker.binary} not found; install the Debian package ${checker.debianPackage} (apt-get install ${checker.debianPackage})`,
      });
      continue;
    }
    jobs.push({ file, checker });
  }
  if (jobs.length === 0) return report;

  const work = await mkdtemp(join(tmpdir(), 'anycdn-check-'));
  try {
    const treeDir = join(work, 'tree');
    const resultsDir = join(work, 'results');
    await mkdir(resultsDir);
    const fixtures = splitFixtures(needsFixtures(plan.needs));
    const present = new Set<string>();
    for (const f of [...hostFiles, ...fixtures.files]) {
      const target = join(treeDir, f.path);
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, f.content);
      if ('mode' in f && typeof f.mode === 'number') await chmod(target, f.mode);
      present.add(f.path);
    }
    for (const fx of fixtures.commands) {
      await mkdir(dirname(join(treeDir, fx.path)), { recursive: true });
      present.add(fx.path);
    }
    const names = plan.needs.hostNames;
    const hostsFile = names.length > 0 ? join(work, 'hosts') : undefined;
    if (hostsFile) await writeFile(hostsFile, ['127.0.0.1 localhost', '::1 localhost', ...names.map((n) => `${PLACEHOLDER_ADDRESS} ${n}`)].join('\n') + '\n');
    const interfaces = plan.needs.interfaces;
    const script = hostViewScript({
      treeDir,
      paths: [...present].sort(),
      dirs: plan.needs.dirs,
      fileBinds: hostsFile ? [{ source: hostsFile, target: '/etc/hosts' }] : [],
      interfaces,
      setup: fixtures.commands.map((x) => x.shell),
      checks: jobs.map(({ file, checker }) => checker.command(file)),
      resultsDir,
    });
    const view = await run('/usr/bin/unshare', unshareArgs(script), { timeoutMs: HOST_TIMEOUT_MS });
    if (view.code !== 0) {
      const where = fileLabel(jobs[0]!.file);
      report.diagnostics.push({ file: where, line: 1, col: 1, message: `cannot check host ${jobs[0]!.file.site}/${jobs[0]!.file.host}: ${`${view.stderr}${view.stdout}`.trim() || `exit ${view.code}`}` });
      return report;
    }
    for (const [i, { file, checker }] of jobs.entries()) {
      const output = await readFile(join(resultsDir, `${i}.out`), 'utf8').catch(() => '');
      const code = Number((await readFile(join(resultsDir, `${i}.rc`), 'utf8').catch(() => '999')).trim());
      const ds: Diagnostic[] = checker.parse(output, code, file);
      report.diagnostics.push(...ds);
      report.checked.push({ file, checker: checker.kind, ok: code === 0 && ds.length === 0 });
    }
    return report;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
