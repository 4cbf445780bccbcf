// anycdn validate: render in memory and run every daemon's own checker on every file.
import { loadTopology } from '../model/load.ts';
import { monitoringPlans, renderPlans } from '../render/index.ts';
import { checkHosts } from '../check/run.ts';
import { EXIT, printDiagnostics, type Io } from './report.ts';

/**
 * Why validate refuses to run as anyone but root. In an unprivileged user namespace only root is
 * mapped: nginx -t cannot chown its temp directories to www-data (EINVAL), and keepalived -t sees
 * /usr/bin/curl as owned by an unmapped user and disables the track script as insecure. Those
 * checks would fail on correct files, so the run is refused instead.
 */
export const NEEDS_ROOT =
  'validate: needs root: in a user namespace nginx cannot chown its temp directories to www-data and keepalived refuses scripts whose files root does not own, so the checks would fail falsely; run it as root';

export async function validateCommand(opts: { sites: string }, io: Io): Promise<number> {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    io.err(NEEDS_ROOT);
    return EXIT.invalid;
  }
  const topology = loadTopology(opts.sites, '--sites');
  const report = await checkHosts([...renderPlans(topology), ...monitoringPlans(topology)]);
  if (report.diagnostics.length > 0) {
    printDiagnostics(io, report.diagnostics);
    return EXIT.invalid;
  }
  const byChecker = new Map<string, number>();
  for (const c of report.checked) byChecker.set(c.checker, (byChecker.get(c.checker) ?? 0) + 1);
  const summary = [...byChecker.entries()].sort().map(([k, n]) => `${k} ${n}`).join(', ');
  io.out(`ok: ${report.checked.length} files passed their daemon's checker (${summary})`);
  return EXIT.ok;
}
