// How the CLI talks: results on stdout, problems and progress on stderr. Problems are one
// `FILE:LINE:COL: message` line each, sorted, at most 100 then `and N more`, then a count.
import { reportLines, type Diagnostic } from '../model/errors.ts';

export const EXIT = { ok: 0, invalid: 1, usage: 2, internal: 70 } as const;

export interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
  /** stderr is a terminal: progress may redraw one live line there (see progress.ts). */
  errTty?: boolean;
  /** Writes `text` to stderr as it is, no newline added (the live progress line). */
  errRaw?: (text: string) => void;
  /** Colour is allowed on each stream: only on a terminal, never with NO_COLOR. */
  color?: { out: boolean; err: boolean };
}

/** Colour only on a terminal, never with NO_COLOR set to anything but the empty string (no-color.org), never on TERM=dumb. */
export function colorAllowed(isTTY: boolean | undefined, env: NodeJS.ProcessEnv = process.env): boolean {
  return isTTY === true && !env.NO_COLOR && env.TERM !== 'dumb';
}

export const processIo: Io = {
  out: (l) => process.stdout.write(`${l}\n`),
  err: (l) => process.stderr.write(`${l}\n`),
  errTty: process.stderr.isTTY === true,
  errRaw: (t) => process.stderr.write(t),
  color: { out: colorAllowed(process.stdout.isTTY), err: colorAllowed(process.stderr.isTTY) },
};

const SGR = { red: 31, green: 32, yellow: 33, bold: 1 } as const;

/** `text` in a colour when `on`, else unchanged. */
export function paint(on: boolean | undefined, color: keyof typeof SGR, text: string): string {
  return on ? `\u001b[${SGR[color]}m${text}\u001b[0m` : text;
}

export function printDiagnostics(io: Io, ds: Diagnostic[]): void {
  const { lines, count } = reportLines(ds);
  for (const line of lines) io.err(line);
  io.err(paint(io.color?.err, 'red', `${count} error${count === 1 ? '' : 's'}`));
}
