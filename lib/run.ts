// Running a command: bounded in time (SIGKILL at the limit, by PID) and in memory (each stream
// keeps its first maxBytes and says how much more it dropped), never throwing on failure. Shared
// by the checkers and the lab.
//
// Hand-written over child_process.spawn rather than execFile or a library: execFile's maxBuffer
// kills the command when its output is too long, and a checker's or the lab's command must run to
// its end and keep its exit status (a truncated error message still says what failed). Output is
// decoded with one StringDecoder per stream, so a character split across two reads stays whole.
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { StringDecoder } from 'node:string_decoder';

export interface RunResult {
  /** The exit status; 128 + the signal's number when a signal ended it (137 for SIGKILL), as sh says. */
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  input?: string;
  timeoutMs?: number;
  /** How much of each stream is kept (default 16 MiB); the rest is counted and dropped. */
  maxBytes?: number;
}

export const RUN_MAX_BYTES = 16 * 1024 * 1024;

/** The exit status sh would report for a command that exited with `code` or was ended by `signal`. */
export function exitStatus(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  const n = signal ? constants.signals[signal] : undefined;
  return n === undefined ? 1 : 128 + n;
}

/** One output stream: decoded whole characters, the first maxBytes of them, and a count of the rest. */
class Capture {
  private readonly decoder = new StringDecoder('utf8');
  private text = '';
  private kept = 0;
  private dropped = 0;

  constructor(private readonly maxBytes: number) {}

  add(chunk: Buffer): void {
    const room = this.maxBytes - this.kept;
    if (room <= 0) {
      this.dropped += chunk.length;
      return;
    }
    const take = chunk.length <= room ? chunk : chunk.subarray(0, room);
    this.kept += take.length;
    this.dropped += chunk.length - take.length;
    this.text += this.decoder.write(take);
  }

  /** The text, with a line that says what was dropped when the stream was longer than maxBytes. */
  end(): string {
    // At the cap a character may be cut: the decoder's end() gives U+FFFD for its first bytes.
    this.text += this.decoder.end();
    return this.dropped === 0 ? this.text : `${this.text}\n[output truncated: ${this.dropped} more bytes after the first ${this.kept}]\n`;
  }
}

export function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out = new Capture(opts.maxBytes ?? RUN_MAX_BYTES);
    const err = new Capture(opts.maxBytes ?? RUN_MAX_BYTES);
    let note = '';
    child.stdout.on('data', (d: Buffer) => out.add(d));
    child.stderr.on('data', (d: Buffer) => err.add(d));
    const timer = setTimeout(() => {
      note = `\n(killed after ${opts.timeoutMs ?? 30_000} ms)`;
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? 30_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ code: 127, stdout: out.end(), stderr: e.message });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: exitStatus(code, signal), stdout: out.end(), stderr: `${err.end()}${note}` });
    });
    child.stdin.on('error', () => {}); // a command that exits early closes its stdin: not our error
    child.stdin.end(opts.input ?? '');
  });
}

/** Like run, but throws with the command and its stderr on a non-zero exit. */
export async function must(cmd: string, args: string[], opts: RunOptions = {}): Promise<string> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.code}: ${(r.stderr || r.stdout).trim()}`);
  return r.stdout;
}
