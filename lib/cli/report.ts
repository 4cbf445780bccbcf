// How the CLI prints problems: one `FILE:LINE:COL: message` line each, sorted, then a count.
import { formatDiagnostic, sortDiagnostics, type Diagnostic } from '../model/errors.ts';

export const EXIT = { ok: 0, invalid: 1, usage: 2, internal: 70 } as const;

export interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
  /** stdout is a terminal (colour may be used). */
  isTTY?: boolean;
}

export const processIo: Io = {
  out: (l) => process.stdout.write(`${l}\n`),
  err: (l) => process.stderr.write(`${l}\n`),
  isTTY: process.stdout.isTTY,
};

export function printDiagnostics(io: Io, ds: Diagnostic[]): void {
  const sorted = sortDiagnostics(ds);
  for (const d of sorted) io.err(formatDiagnostic(d));
  io.err(`${sorted.length} error${sorted.length === 1 ? '' : 's'}`);
}
