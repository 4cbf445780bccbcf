// How the checker announces and withdraws: the covering prefixes on lo (bird's direct protocol
// picks them up), changed with one `ip -batch` per transition, and the announce file bird
// includes (the deprefer and drain flags), with `configure` over bird's control socket when it
// changed. Processes start only on a transition, never per probe.
import { execFile } from 'node:child_process';
import { renameSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { log } from './log.ts';

/** Runs `ip -force -batch -` with `lines` on stdin: one process for the whole change. */
export function ipBatch(ip: string, lines: string[]): Promise<boolean> {
  return new Promise((resolve) => {
    const child = execFile(ip, ['-force', '-batch', '-'], { timeout: 5000 }, (err, _out, stderr) => {
      // `addr del` of an address that is not there is not an error worth a log line.
      const real = stderr.split('\n').filter((l) => l && !/Cannot assign requested address|Command failed -:\d+/.test(l));
      if (err && real.length > 0) log(`ip: ${real.join(' | ')}`);
      resolve(!err || real.length === 0);
    });
    child.stdin?.end(lines.map((l) => `${l}\n`).join(''));
  });
}

/** What the announce file bird includes says, for each pair of flags (built once). */
const BIRD_TEXT = [0, 1, 2, 3].map((k) => `define ANYCAST_DEPREFER = ${k & 1};\ndefine ANYCAST_DRAIN = ${k >> 1};\n`);

/** The announce file's definitions: one flag each for the whole site (every per-peer export filter applies them). */
export function birdText(deprefer: boolean, drain: boolean): string {
  return BIRD_TEXT[(deprefer ? 1 : 0) + (drain ? 2 : 0)]!;
}

/** Writes the announce file bird includes, whole (write, then rename). */
export function writeBirdFile(path: string, says: string): void {
  writeAtomic(path, `# written by anycdn-healthcheck on every change of what it announces\n${says}`);
}

/** Asks bird to re-read its configuration over its control socket; resolves true on success. */
export function birdConfigure(socketPath: string, timeoutMs = 5000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(socketPath);
    let buf = '';
    let sent = false;
    const finish = (ok: boolean, why: string) => {
      clearTimeout(timer);
      s.destroy();
      if (!ok) log(`bird configure failed: ${why}`);
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false, 'no answer'), timeoutMs);
    s.on('error', (e) => finish(false, e.message));
    s.on('data', (d: Buffer) => {
      buf += d.toString();
      // 0001: ready (greeting), 0003: reconfigured, 0004: reconfiguration in progress (queued),
      // 0018: already in that state; 8xxx/9xxx: errors.
      if (!sent && /^0001 /m.test(buf)) {
        sent = true;
        s.write('configure\n');
        return;
      }
      if (sent && /^000[34] |^0018 /m.test(buf)) finish(true, '');
      else if (/^[89]\d{3}[ -]/m.test(buf)) finish(false, buf.trim().replace(/\s+/g, ' '));
    });
  });
}

/** Writes a file whole: a reader sees the old text or the new, never part of it. */
export function writeAtomic(path: string, text: string): void {
  writeFileSync(`${path}.new`, text);
  renameSync(`${path}.new`, path);
}
