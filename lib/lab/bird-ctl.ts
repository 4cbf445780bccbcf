// bird's control socket, spoken directly: `lab status` reads each dns host's BFD sessions without
// starting a process (birdc in the host's view would cost one nsenter and one birdc per host).
// The protocol (bird's doc/prog, "CLI"): bird greets with `0001 BIRD <version> ready.`; each reply
// line is `<4-digit code>-<text>` while more lines of that code follow, ` <text>` for a further line
// of the same code, and `<code> <text>` for the last line of the reply (0000 when all went well).
import { createConnection } from 'node:net';

/** The lines of bird's reply to `command`, codes stripped; rejects on a bird error code or after `timeoutMs`. */
export function birdCommand(socketPath: string, command: string, timeoutMs = 2000): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const sock = createConnection({ path: socketPath });
    const lines: string[] = [];
    let buffer = '';
    let greeted = false;
    const done = (err: Error | undefined) => {
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else resolve(lines);
    };
    const timer = setTimeout(() => done(new Error(`bird at ${socketPath} gave no whole reply to "${command}" within ${timeoutMs} ms`)), timeoutMs);
    sock.setEncoding('utf8');
    sock.on('error', (e: NodeJS.ErrnoException) => done(new Error(`bird's control socket ${socketPath}: ${e.code ?? e.message}`)));
    sock.on('data', (chunk: string) => {
      buffer += chunk;
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (!greeted) {
          greeted = true;
          if (!line.startsWith('0001 ')) return done(new Error(`bird at ${socketPath} greeted with "${line}"`));
          sock.write(`${command}\n`);
          continue;
        }
        const last = /^(\d{4}) (.*)$/.exec(line);
        if (last) {
          const code = Number(last[1]);
          if (code >= 8000) return done(new Error(`bird refused "${command}": ${last[2]}`));
          if (last[2]) lines.push(last[2]);
          return done(undefined);
        }
        lines.push(line.replace(/^\d{4}-/, '').replace(/^ /, ''));
      }
    });
  });
}

export type BfdState = 'Up' | 'Down' | 'Init' | 'AdminDown';

export interface BfdSession {
  address: string;
  interface: string;
  state: BfdState;
}

/**
 * The sessions of `show bfd sessions`: under each BFD protocol's `<name>:` line, a header
 * (IP address, Interface, State, Since, Interval, Timeout) and one row per session.
 */
export function parseBfdSessions(lines: string[]): BfdSession[] {
  const sessions: BfdSession[] = [];
  for (const line of lines) {
    const [address, iface, state] = line.trim().split(/\s+/);
    if (!address || !iface || !state || /:$/.test(line.trim()) || address === 'IP') continue;
    if (state === 'Up' || state === 'Down' || state === 'Init' || state === 'AdminDown') sessions.push({ address, interface: iface, state });
  }
  return sessions;
}
