// Progress of a long command (validate, lab up), on stderr so stdout stays for results. In a pipe
// or CI: one plain line per step. On a terminal: one live line, redrawn per step, and the final
// step left standing. Every line says what was done, how many, and how long it took.
import type { Io } from './report.ts';

export interface Progress {
  /** A step finished: `what` with its counts; the time since the previous step is appended. */
  step(what: string): void;
  /** Ends the live line (a newline on a terminal); plain output needs nothing. */
  done(): void;
}

export function progress(io: Io, prefix: string, now: () => number = () => performance.now()): Progress {
  const start = now();
  let mark = start;
  let live = false;
  const tty = io.errTty === true && io.errRaw !== undefined;
  return {
    step(what) {
      const t = now();
      const line = `${prefix}: ${what} (${formatMs(t - mark)}, ${formatMs(t - start)} in all)`;
      mark = t;
      if (tty) {
        io.errRaw!(`\r\u001b[2K${line}`);
        live = true;
      } else io.err(line);
    },
    done() {
      if (live) io.errRaw!('\n');
      live = false;
    },
  };
}

/** 850 ms, 1.2 s, 12 s: short, and precise where it matters. */
export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.round(ms / 1000)} s`;
}
