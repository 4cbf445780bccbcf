// Maps a checker's output to diagnostics on the rendered file: `<site>/<host>/<path>:LINE:COL`.
import type { Diagnostic } from '../model/errors.ts';
import type { RenderedFile } from '../render/types.ts';

export function fileLabel(f: RenderedFile): string {
  return `${f.site}/${f.host}${f.path}`;
}

/**
 * Each pattern captures (path?, line, col?) from one output line. Lines that name a position
 * become located diagnostics; if the check failed and none did, the whole output is reported at
 * line 1, so no failure is ever silent.
 */
export function mapOutput(
  checker: string,
  output: string,
  exitCode: number,
  file: RenderedFile,
  patterns: RegExp[],
): Diagnostic[] {
  const label = fileLabel(file);
  const out: Diagnostic[] = [];
  const lines = output.split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
  for (const line of lines) {
    for (const re of patterns) {
      const m = re.exec(line);
      if (!m?.groups) continue;
      const { path, line: ln, col } = m.groups;
      const sameFile = path === undefined || path === file.path;
      out.push({
        file: sameFile ? label : `${file.site}/${file.host}${path}`,
        line: Math.max(1, Number(ln ?? 1)),
        col: Math.max(1, Number(col ?? 1)),
        message: `${checker}: ${clean(line.startsWith(`${checker}: `) ? line.slice(checker.length + 2) : line)}`,
      });
      break;
    }
  }
  if (exitCode !== 0 && out.length === 0) {
    out.push({ file: label, line: 1, col: 1, message: `${checker}: exit ${exitCode}: ${clean(lines.join(' | ')) || 'no output'}` });
  }
  return exitCode === 0 ? out.filter((d) => /error|emerg|alert|fatal/i.test(d.message)) : out;
}

function clean(s: string): string {
  return readOnlyHint(s.length > 400 ? `${s.slice(0, 400)}...` : s);
}

/**
 * A write the host view refused (hostview.ts: everything outside the host's listed directories is
 * read-only) says why, since the checker's own words blame the filesystem.
 */
function readOnlyHint(s: string): string {
  return /Read-only file system/.test(s) ? `${s} (the check's host view is read-only but for the directories the render lists for the host; nothing was written to this machine)` : s;
}
