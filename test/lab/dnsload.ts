// A fixed-rate DNS client for the lab, run inside a client namespace:
//   node --import tsx test/lab/dnsload.ts '<json options>'
// Asks the anycast address for the image host `ratePerSec` times a second over UDP, one fresh
// message id each, never retrying, and records when each query went out and what it got: an
// address, or nothing within timeoutMs (unanswered). Bounded by durationSec + timeoutMs.
// Prints one JSON DnsLoadResult line.
import { createSocket } from 'node:dgram';
import { dnsAnswers, dnsQuery } from '../../lib/healthcheck/main.ts';

export interface DnsLoadOptions {
  server: string;
  name: string;
  ratePerSec: number;
  durationSec: number;
  timeoutMs: number;
}

export interface DnsLoadResult {
  sent: number;
  unanswered: number;
  /** [epoch ms sent, answer] per query, in order; answer '' when none came. */
  log: [number, string][];
}

export async function runDnsLoad(o: DnsLoadOptions): Promise<DnsLoadResult> {
  const sock = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, r));
  const pending = new Map<number, { i: number; timer: NodeJS.Timeout }>();
  const log: [number, string][] = [];
  sock.on('message', (msg) => {
    if (msg.length < 2) return;
    const id = msg.readUInt16BE(0);
    const p = pending.get(id);
    if (!p) return;
    const answers = dnsAnswers(msg, id, 1);
    log[p.i]![1] = answers?.[0] ?? '';
    clearTimeout(p.timer);
    pending.delete(id);
  });
  const total = Math.round(o.ratePerSec * o.durationSec);
  const started = Date.now();
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / o.ratePerSec;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const id = (i * 7919 + 1) & 0xffff;
    log.push([Date.now(), '']);
    pending.set(id, { i, timer: setTimeout(() => pending.delete(id), o.timeoutMs) });
    sock.send(dnsQuery(id, o.name, 1), 53, o.server);
  }
  await new Promise((r) => setTimeout(r, o.timeoutMs + 100));
  sock.close();
  return { sent: total, unanswered: log.filter(([, a]) => a === '').length, log };
}

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  const result = await runDnsLoad(JSON.parse(process.argv[2]!) as DnsLoadOptions);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
