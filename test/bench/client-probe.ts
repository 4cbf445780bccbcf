// What a client sees during an anycast failover: every intervalMs (fixed rate) it asks the anycast DNS for the
// image host (UDP, no retry) and fetches an image from the address it was given, with short
// timeouts. Run inside a client namespace until durationMs passes (bounded):
//   node --import tsx test/bench/client-probe.ts '<json options>'
// Prints one JSON line: the epoch ms and outcome of every attempt.
import dgram from 'node:dgram';
import http from 'node:http';

export interface ProbeOptions {
  dns: string;
  name: string;
  path: string;
  intervalMs: number;
  durationMs: number;
}

export interface Attempt {
  at: number;
  ok: boolean;
  address?: string;
  error?: string;
}

function query(name: string, id: number): Buffer {
  const labels = name.split('.').flatMap((l) => [Buffer.from([l.length]), Buffer.from(l, 'ascii')]);
  const header = Buffer.from([id >> 8, id & 0xff, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
  return Buffer.concat([header, ...labels, Buffer.from([0, 0, 1, 0, 1])]);
}

/** The offset after a name at `off`: labels up to the root, or a compression pointer. */
function skipName(msg: Buffer, off: number): number {
  while (msg[off] !== 0) {
    if ((msg[off]! & 0xc0) === 0xc0) return off + 2;
    off += msg[off]! + 1;
  }
  return off + 1;
}

/** The first A record of a DNS response, or an error naming what was wrong. */
export function firstA(msg: Buffer): string | Error {
  const rcode = msg[3]! & 0x0f;
  if (rcode !== 0) return new Error(`rcode ${rcode}`);
  const an = msg.readUInt16BE(6);
  let off = skipName(msg, 12) + 4; // the question: name, type, class
  for (let i = 0; i < an; i++) {
    off = skipName(msg, off);
    const type = msg.readUInt16BE(off);
    const len = msg.readUInt16BE(off + 8);
    if (type === 1 && len === 4) return [...msg.subarray(off + 10, off + 14)].join('.');
    off += 10 + len;
  }
  return new Error('no A record');
}

function resolve(o: ProbeOptions, id: number): Promise<string> {
  return new Promise((ok, fail) => {
    const sock = dgram.createSocket(o.dns.includes(':') ? 'udp6' : 'udp4');
    const timer = setTimeout(() => {
      sock.close();
      fail(new Error('dns timeout'));
    }, 300);
    sock.on('message', (msg) => {
      clearTimeout(timer);
      sock.close();
      const a = firstA(msg);
      if (a instanceof Error) fail(a);
      else ok(a);
    });
    sock.send(query(o.name, id), 53, o.dns);
  });
}

function fetch(address: string, o: ProbeOptions): Promise<void> {
  return new Promise((ok, fail) => {
    const req = http.get({ host: address, port: 80, path: o.path, headers: { Host: o.name }, agent: false, timeout: 1000 }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? ok() : fail(new Error(`status ${res.statusCode}`))));
    });
    req.on('timeout', () => req.destroy(new Error('http timeout')));
    req.on('error', fail);
  });
}

/**
 * One attempt every intervalMs on a fixed schedule, whether earlier ones have finished or not (a
 * slow failure must not thin out the attempts), for durationMs.
 */
export async function probe(o: ProbeOptions): Promise<Attempt[]> {
  const attempts: Promise<Attempt>[] = [];
  const start = Date.now();
  const one = async (at: number, id: number): Promise<Attempt> => {
    let address: string | undefined;
    try {
      address = await resolve(o, id);
      await fetch(address, o);
      return { at, ok: true, address };
    } catch (e) {
      return { at, ok: false, ...(address ? { address } : {}), error: (e as Error).message };
    }
  };
  for (let i = 0; i * o.intervalMs < o.durationMs; i++) {
    const wait = start + i * o.intervalMs - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    attempts.push(one(Date.now(), i & 0xffff));
  }
  return Promise.all(attempts);
}

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  process.stdout.write('armed\n'); // the caller arms its failure after this
  process.stdout.write(`${JSON.stringify(await probe(JSON.parse(process.argv[2]!) as ProbeOptions))}\n`);
}
