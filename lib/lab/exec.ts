// The lab's process helpers: detached daemons, bounded waits. Commands run through lib/run.ts.
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync } from 'node:fs';

/** A lab failure the user can act on: printed as is, without a stack trace. */
export class LabError extends Error {}

/** Starts a long-running process detached, output to a log file; returns it (PID in .pid). */
export function startDetached(cmd: string, args: string[], logFile: string): ChildProcess {
  const fd = openSync(logFile, 'a');
  const child = spawn(cmd, args, { stdio: ['ignore', fd, fd], detached: true });
  child.unref();
  return child;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `probe` every `everyMs` until it returns a value or `timeoutMs` passes (bounded). */
export async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs: number, everyMs = 50): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() >= deadline) return undefined;
    await sleep(everyMs);
  }
}
