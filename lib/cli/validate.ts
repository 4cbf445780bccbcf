// anycdn validate: render in memory and run every daemon's own checker on every file.
import { loadTopology } from '../model/load.ts';
import { renderTopology } from '../render/index.ts';
import { checkFiles } from '../check/run.ts';
import { EXIT, printDiagnostics, type Io } from './report.ts';

export async function validateCommand(opts: { sites: string }, io: Io): Promise<number> {
  const topology = loadTopology(opts.sites, '--sites');
  const files = renderTopology(topology);
  const report = await checkFiles(files);
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
