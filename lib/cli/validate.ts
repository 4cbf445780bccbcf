// anycdn validate: render in memory and run every daemon's own checker on every file.
import { loadTopology } from '../model/load.ts';
import { sortDiagnostics, type Diagnostic } from '../model/errors.ts';
import { monitoringPlans, renderPlans } from '../render/index.ts';
import { checkHosts } from '../check/run.ts';
import { fileLabel } from '../check/output.ts';
import type { CheckReport } from '../check/types.ts';
import { progress } from './progress.ts';
import { EXIT, paint, printDiagnostics, type Io } from './report.ts';
import type { ValidateOutput } from './schemas.ts';

/**
 * Why validate refuses to run as anyone but root. In an unprivileged user namespace only root is
 * mapped: nginx -t cannot chown its temp directories to www-data (EINVAL), and keepalived -t sees
 * /usr/bin/curl as owned by an unmapped user and disables the track script as insecure. Those
 * checks would fail on correct files, so the run is refused instead.
 */
export const NEEDS_ROOT =
  'validate: needs root: in a user namespace nginx cannot chown its temp directories to www-data and keepalived refuses scripts whose files root does not own, so the checks would fail falsely; run it as root';

export async function validateCommand(opts: { sites: string; json?: boolean }, io: Io): Promise<number> {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    io.err(NEEDS_ROOT);
    return EXIT.invalid;
  }
  const p = progress(io, 'validate');
  const topology = loadTopology(opts.sites, '--sites');
  const plans = [...renderPlans(topology), ...monitoringPlans(topology)];
  const fileCount = plans.reduce((n, x) => n + x.files.filter((f) => f.check).length, 0);
  p.step(`loaded ${topology.sites.length} sites and rendered ${fileCount} files to check on ${plans.length} hosts`);
  let hosts = 0;
  let files = 0;
  let processes = 0;
  const report = await checkHosts(plans, {
    onHost: (h) => {
      hosts++;
      files += h.files;
      processes += h.processes;
      p.step(`checked ${h.site}/${h.host}: ${h.files} files, ${h.processes} checker runs${h.failed ? `, ${h.failed} failed` : ''} (${hosts}/${plans.length} hosts, ${files} files)`);
    },
  });
  p.step(`done: ${report.checked.length} files on ${hosts} hosts, ${processes} checker runs (identical files checked once)`);
  p.done();
  if (opts.json) io.out(JSON.stringify(validateJson(report)));
  if (report.diagnostics.length > 0) {
    printDiagnostics(io, report.diagnostics);
    return EXIT.invalid;
  }
  if (opts.json) return EXIT.ok;
  const byChecker = new Map<string, number>();
  for (const c of report.checked) byChecker.set(c.checker, (byChecker.get(c.checker) ?? 0) + 1);
  const summary = [...byChecker.entries()].sort().map(([k, n]) => `${k} ${n}`).join(', ');
  io.out(`${paint(io.color?.out, 'green', 'ok')}: ${report.checked.length} files passed their daemon's checker (${summary})`);
  return EXIT.ok;
}

/** validate --json (lib/cli/schemas/validate.schema.json): every checked file, its checker and result. */
export function validateJson(report: CheckReport): ValidateOutput {
  const errors = sortDiagnostics(report.diagnostics);
  const byFile = new Map<string, Diagnostic[]>();
  for (const d of errors) byFile.set(d.file, [...(byFile.get(d.file) ?? []), d]);
  return {
    ok: errors.length === 0 && report.checked.every((c) => c.ok),
    files: report.checked.map((c) => {
      const file = fileLabel(c.file);
      const own = byFile.get(file) ?? [];
      const message = own.map((d) => `${d.line}:${d.col}: ${d.message}`).join('\n') || 'failed; see errors';
      return { file, site: c.file.site, host: c.file.host, path: c.file.path, checker: c.checker, result: c.ok ? 'pass' : 'fail', ...(c.ok ? {} : { message }) };
    }),
    errors,
  };
}
