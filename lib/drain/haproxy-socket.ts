// haproxy's runtime API over its admin (stats) socket: one command per connection, as
// `socat stdio /run/haproxy/admin.sock` sends it. No process: a drain waits by polling `show stat`.
import net from 'node:net';

/** Sends one command; resolves with haproxy's whole answer, rejects on a socket error or timeout. */
export function haproxyCommand(socket: string, command: string, timeoutMs = 3000): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(socket);
    let out = '';
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`haproxy ${socket}: no answer to "${command}" within ${timeoutMs} ms`));
    }, timeoutMs);
    s.on('connect', () => s.write(`${command}\n`));
    s.on('data', (d) => (out += d.toString()));
    s.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`haproxy ${socket}: ${e.message}`));
    });
    s.on('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
  });
}

/** Current sessions (scur) of a row of `show stat` (a server, or FRONTEND / BACKEND), or undefined. */
export function currentSessions(showStat: string, proxy: string, service: string): number | undefined {
  const lines = showStat.split('\n');
  const head = lines.find((l) => l.startsWith('# '))?.slice(2).split(',');
  const px = head?.indexOf('pxname') ?? -1;
  const sv = head?.indexOf('svname') ?? -1;
  const scur = head?.indexOf('scur') ?? -1;
  if (px < 0 || sv < 0 || scur < 0) return undefined;
  for (const l of lines) {
    const f = l.split(',');
    if (f[px] === proxy && f[sv] === service) return Number(f[scur]);
  }
  return undefined;
}

/** Requests in flight on a frontend: the streams of `show sess` (an idle keep-alive connection has none). */
export function streamsOn(showSess: string, frontend: string): number {
  return showSess.split('\n').filter((l) => l.includes(` fe=${frontend} `)).length;
}
